"""``stemrestore degrade``: one training example from a target and a background.

Writes ``mixture.wav``, ``target.wav``, ``degraded_target.wav`` (float WAV) and
``params.json`` into ``--out-dir``. ``params.json`` records the inputs' paths,
so ``--replay DIR/params.json`` re-creates the same files from it alone
(``--target``/``--background`` override the recorded paths).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

NAME = "degrade"
HELP = "degrade a clean target, mix it with a background: one training example"

OUTPUT_FILES = ("mixture.wav", "target.wav", "degraded_target.wav", "params.json")
DEFAULT_SR = 44100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="clean target audio file")
    parser.add_argument("--background", help="background audio file (the rest of the mix)")
    parser.add_argument(
        "--out-dir", help="output folder (with --replay: defaults to the params file's folder)"
    )
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--config", help="protocol settings YAML (default: the paper's)")
    parser.add_argument("--sr", type=int, help=f"sample rate to work at (default {DEFAULT_SR})")
    parser.add_argument("--replay", metavar="PARAMS_JSON", help="re-create the files of an earlier run")
    parser.add_argument(
        "--class", dest="target_class", metavar="CLASS",
        help="class id of the target (e.g. Voc_LV): picks the channel strip of a studio-mode config",
    )


def run(args: argparse.Namespace) -> int:
    from stemrestore.degrade import DegradationProtocol
    from stemrestore.errors import ConfigError

    if args.replay:
        for option in ("config", "seed", "sr"):
            if getattr(args, option) is not None:
                raise ConfigError(f"--{option} cannot be combined with --replay (params.json holds it)")
        params = _read_params(Path(args.replay))
        inputs = params.get("inputs") or {}
        target_path = args.target or inputs.get("target")
        background_path = args.background or inputs.get("background")
        sr = params.get("sr")
        out_dir = Path(args.out_dir) if args.out_dir else Path(args.replay).parent
    else:
        required = ("target", "background", "out_dir")
        missing = [f"--{o.replace('_', '-')}" for o in required if not getattr(args, o)]
        if missing:
            raise ConfigError(f"missing {', '.join(missing)} (or use --replay PARAMS_JSON)")
        target_path, background_path, out_dir = args.target, args.background, Path(args.out_dir)
        sr = args.sr if args.sr is not None else DEFAULT_SR
    if not target_path or not background_path:
        raise ConfigError(f"{args.replay}: records no input paths; give --target and --background")
    if not isinstance(sr, int) or isinstance(sr, bool) or sr <= 0:
        raise ConfigError(f"sample rate must be a positive whole number, got {sr!r}")

    target, background = _load_pair(target_path, background_path, sr)
    if args.replay:
        _check_frames(params, target.shape[-1], args.replay)
        example = DegradationProtocol().replay(params, target, background, sr)
    else:
        from stemrestore.taxonomy import validate_class

        target_class = validate_class(args.target_class) if args.target_class else None
        proto = DegradationProtocol.from_yaml(args.config) if args.config else DegradationProtocol()
        example = proto(target, background, sr, seed=args.seed if args.seed is not None else 0,
                        target_class=target_class)
    example.params["inputs"] = {
        "target": str(Path(target_path).resolve()),
        "background": str(Path(background_path).resolve()),
        "frames": int(target.shape[-1]),
    }
    _write(out_dir, example, sr)
    print(f"wrote {', '.join(OUTPUT_FILES)} to {out_dir} ({_summary(example.params)})")
    return 0


def _read_params(path: Path) -> dict[str, Any]:
    from stemrestore.errors import ConfigError

    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such params file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a params file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ConfigError(f"{path}: not valid JSON{line}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _load_pair(target_path: str, background_path: str, sr: int) -> tuple[Any, Any]:
    """Both files at ``sr``; mono is widened to stereo if the other is stereo; the
    longer one is cut to the shorter's length."""
    from stemrestore.audio import load_audio, to_stereo

    target, _ = load_audio(target_path, sr=sr)
    background, _ = load_audio(background_path, sr=sr)
    if target.shape[0] != background.shape[0]:
        target, background = to_stereo(target), to_stereo(background)
    frames = min(target.shape[-1], background.shape[-1])
    if target.shape[-1] != background.shape[-1]:
        print(
            f"stemrestore degrade: note: inputs differ in length; using the first {frames} samples of each",
            file=sys.stderr,
        )
    return target[:, :frames], background[:, :frames]


def _check_frames(params: dict[str, Any], frames: int, where: str) -> None:
    from stemrestore.errors import AudioError

    recorded = (params.get("inputs") or {}).get("frames")
    if recorded is not None and recorded != frames:
        raise AudioError(f"{where}: was made from {recorded}-sample inputs, these have {frames}")


def _write(out_dir: Path, example: Any, sr: int) -> None:
    from stemrestore.audio import save_audio
    from stemrestore.fileio import write_atomic

    save_audio(out_dir / "mixture.wav", example.mixture, sr)
    save_audio(out_dir / "target.wav", example.target, sr)
    save_audio(out_dir / "degraded_target.wav", example.degraded_target, sr)
    write_atomic(out_dir / "params.json", json.dumps(example.params, indent=2))

def _summary(params: dict[str, Any]) -> str:
    def names(chain: dict[str, Any]) -> str:
        return ", ".join(e["effect"] for e in chain["effects"]) or "none"

    if "target_chain" not in params:  # studio mode: strips and a mastering chain
        return (
            f"studio: {params['target_strip']['strip']} strip, SNR {params['snr_db']:.1f} dB, "
            f"mastered to {params['loudness_lufs']:.1f} LUFS"
        )
    noise = "yes" if params["noise"] else "no"
    return (
        f"target: {names(params['target_chain'])}; mixture: {names(params['mixture_chain'])}; "
        f"SNR {params['snr_db']:.1f} dB; noise {noise}"
    )
