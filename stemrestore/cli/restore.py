"""``stemrestore restore``: restore one stem from each input mix with a trained model."""

from __future__ import annotations

import argparse
from pathlib import Path

from stemrestore.restore_settings import DEFAULT_SETTINGS

NAME = "restore"
HELP = "restore the target stem from mixtures (files or folders) with a U-Former checkpoint"


#: ``--half`` of every command that runs a model (``restore``, ``serve``).
HALF_HELP = "16-bit inference: float16 on a GPU, bfloat16 on the CPU (faster, slightly less accurate)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="audio file or folder of audio files")
    parser.add_argument(
        "--checkpoint",
        metavar="CK",
        help="checkpoint (.safetensors/.json pair, folder, or paper .pth); "
        "default: the demo checkpoint shipped with stemrestore",
    )
    parser.add_argument("--out-dir", required=True, type=Path, metavar="D", help="output folder")
    parser.add_argument(
        "--target",
        help="class to restore: any class for a conditional checkpoint (e.g. Gtr_EG, or a group such as Gtr); "
        "the class of a paper .pth whose file name does not tell it",
    )
    add_window_arguments(parser)
    parser.add_argument("--batch-size", type=int, help="chunks per model call (default 1 on CPU, 4 on GPU)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--half", action="store_true", help=HALF_HELP)
    parser.add_argument(
        "--format", default="wav", choices=("wav", "flac"), help="output format (default wav)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """How a model is run over a song (:class:`~stemrestore.restore.Restorer`); shared with ``evaluate``.

    Each defaults to the checkpoint's recommendation (its JSON's ``inference``), else the value shown.
    """
    parser.add_argument("--chunk-seconds", type=float, help="model window in seconds (default 10)")
    parser.add_argument(
        "--overlap", type=float, help="fraction of a chunk cross-faded with the next (0-0.5, default 0.25)"
    )
    parser.add_argument(
        "--shifts", type=int,
        help="average this many time-shifted passes (test-time augmentation as demucs' --shifts; default 1)",
    )
    parser.add_argument(
        "--tta", action=argparse.BooleanOptionalAction,
        help="also average the passes with the channels swapped and the polarity inverted, as MSST's "
        "--use_tta (default: on for the shipped demo checkpoint, which recommends it; else off)",
    )
    parser.epilog = (
        "--chunk-seconds, --overlap, --shifts and --tta default to the values the checkpoint recommends "
        "(its JSON's \"inference\"), else to the defaults shown."
    )


def window_options(args: argparse.Namespace) -> dict[str, float | int | bool]:
    """The :class:`~stemrestore.restore.Restorer` keywords of the :func:`add_window_arguments` flags given."""
    return {name: getattr(args, name) for name in DEFAULT_SETTINGS if getattr(args, name) is not None}


def run(args: argparse.Namespace) -> int:
    from stemrestore.progress import progress_bar

    from stemrestore.audio import audio_info
    from stemrestore.errors import AudioError
    from stemrestore.models import default_checkpoint, load_checkpoint
    from stemrestore.restore import Restorer

    inputs = collect_inputs(args.inputs)
    checkpoint = args.checkpoint or default_checkpoint()
    model = load_checkpoint(checkpoint, "cpu", target=args.target)
    restorer = Restorer(
        model, batch_size=args.batch_size, device=args.device, half=args.half, **window_options(args)
    )
    restorer.check_target()
    jobs = plan_outputs(inputs, args.out_dir, restorer.target, args.format)
    if not args.overwrite:
        for _, out in jobs:
            if out.exists():
                raise AudioError(f"{out}: already exists (pass --overwrite to replace it)")
    for src, out in jobs:
        info = audio_info(src)
        with progress_bar(total=info.frames, unit="frame", unit_scale=True, desc=src.name, leave=False) as bar:

            def progress(done: int, total: int) -> None:
                bar.update(done - bar.n)

            restorer.restore_file(src, out, overwrite=args.overwrite, progress=progress)
        print(out)
    return 0


def collect_inputs(items: list[str]) -> list[Path]:
    """Expand folders into their audio files (sorted, not recursive); keep files as given."""
    from stemrestore.audio import AUDIO_EXTENSIONS
    from stemrestore.errors import AudioError

    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                raise AudioError(f"{path}: folder holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise AudioError(f"{path}: no such file or folder")
    return files


def plan_outputs(inputs: list[Path], out_dir: Path, target: str, fmt: str) -> list[tuple[Path, Path]]:
    """Pair each input with ``out_dir/<stem>_<target>.<fmt>``; two inputs may not share an output."""
    from stemrestore.errors import AudioError

    jobs, seen = [], {}
    for src in inputs:
        out = out_dir / f"{src.stem}_{target}.{fmt}"
        if out in seen:
            raise AudioError(f"{src}: would write the same output as {seen[out]} ({out.name})")
        seen[out] = src
        jobs.append((src, out))
    return jobs
