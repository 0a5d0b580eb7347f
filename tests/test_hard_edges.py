"""Hard edges of `stemrestore restore`: every odd input gives a correct result or one line.

One table, one row per case of the product issue. For every row the input file is
unchanged afterwards; a failing row exits non-zero with exactly one
``stemrestore restore: error: ...`` line naming the file, and leaves no output and
no temporary file behind.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile as sf
import torch

from stemrestore.cli import main
from stemrestore.models import UFormer, UFormerConfig, save_checkpoint

MODEL_SR = 8000  # a low model rate keeps the hour-long row fast; every row is resampled to it


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    cfg = UFormerConfig(channels=(4, 8, 8, 8), n_layer=1, n_head=2, n_embd=8, n_fft=256, hop=64,
                        sample_rate=MODEL_SR)
    return save_checkpoint(UFormer(cfg), tmp_path_factory.mktemp("ck") / "tiny", target="Voc")


def _write(path: Path, audio: np.ndarray, sr: int, subtype: str = "FLOAT") -> Path:
    sf.write(path, audio.T, sr, subtype=subtype)
    return path


def _noise(channels: int, frames: int, level: float = 0.1, seed: int = 0) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal((channels, frames))).astype(np.float32)


@dataclass
class Case:
    make: Callable[[Path], Path]  # writes the input (or not) and returns its path
    error: str | None  # expected text of the one-line error; None = must succeed
    args: tuple[str, ...] = ()


def _raw(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


def _truncated(p: Path) -> Path:
    path = _write(p / "cut.wav", _noise(2, 8000), 8000, "PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _existing_output(p: Path) -> Path:
    path = _write(p / "song.wav", _noise(2, 4000), 8000)
    out = p / "out"
    out.mkdir(exist_ok=True)
    (out / "song_Voc.wav").write_bytes(b"keep me")
    return path


def _nan(p: Path) -> Path:
    audio = _noise(2, 4000)
    audio[1, 100] = np.nan
    return _write(p / "nan.wav", audio, 8000)


def _inf(p: Path) -> Path:
    audio = _noise(2, 4000)
    audio[0, 7] = np.inf
    return _write(p / "inf.wav", audio, 8000)


CASES = {
    "empty file": Case(_raw("empty.wav", b""), "file is empty"),
    "truncated file": Case(_truncated, "truncated"),
    "text renamed .wav": Case(_raw("text.wav", b"not audio\n" * 50), "not a readable audio file"),
    "NaN samples": Case(_nan, "NaN/Inf"),
    "Inf samples": Case(_inf, "NaN/Inf"),
    "digital silence": Case(lambda p: _write(p / "silence.wav", np.zeros((2, 8000), np.float32), 8000), None),
    "1-sample file": Case(lambda p: _write(p / "one.wav", np.full((2, 1), 0.5, np.float32), 44100), None),
    "mono": Case(lambda p: _write(p / "mono.wav", _noise(1, 8000), 8000), None),
    "6 channels": Case(lambda p: _write(p / "six.wav", _noise(6, 8000), 8000), "6 channels"),
    "8 kHz": Case(lambda p: _write(p / "low.wav", _noise(2, 8000), 8000), None),
    "96 kHz 24-bit": Case(lambda p: _write(p / "hi.wav", _noise(2, 96000), 96000, "PCM_24"), None),
    "float above full scale": Case(lambda p: _write(p / "loud.wav", 4.0 * _noise(2, 8000, 1.0), 8000), None),
    "output folder not writable": Case(lambda p: _write(p / "song.wav", _noise(2, 4000), 8000),
                                       "cannot create output folder", ("--out-dir", "{blocker}/sub")),
    "output already there": Case(_existing_output, "already exists"),
    "checkpoint of another architecture": Case(lambda p: _write(p / "song.wav", _noise(2, 4000), 8000),
                                               "architecture", ("--checkpoint", "{other_arch}")),
    "truncated checkpoint": Case(lambda p: _write(p / "song.wav", _noise(2, 4000), 8000),
                                 "truncated", ("--checkpoint", "{cut_ck}")),
    "unknown target name": Case(lambda p: _write(p / "song.wav", _noise(2, 4000), 8000),
                                "Voc_LV", ("--target", "Kazoo")),
}


def _visible(stderr: str) -> str:
    """What a terminal shows: a progress bar redraws its line with carriage returns and
    clears it when done, so only the text after the last return of each line remains."""
    lines = (line.split("\r")[-1].strip() for line in stderr.split("\n"))
    return "\n".join(line for line in lines if line)


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _other_architecture(tmp_path: Path, checkpoint: Path) -> Path:
    weights, meta = checkpoint, checkpoint.with_suffix(".json")
    text = meta.read_text().replace('"uformer"', '"convtasnet"')
    (tmp_path / "other.safetensors").write_bytes(weights.read_bytes())
    (tmp_path / "other.json").write_text(text)
    return tmp_path / "other.safetensors"


def _cut_checkpoint(tmp_path: Path, checkpoint: Path) -> Path:
    data = checkpoint.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    (tmp_path / "cut.json").write_text(checkpoint.with_suffix(".json").read_text())
    return tmp_path / "cut.safetensors"


@pytest.mark.parametrize("name", list(CASES))
def test_hard_edge(name, tmp_path, checkpoint, capsys):
    case = CASES[name]
    src = case.make(tmp_path)
    before = _digest(src)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    fill = {
        "blocker": str(blocker),
        "other_arch": str(_other_architecture(tmp_path, checkpoint)),
        "cut_ck": str(_cut_checkpoint(tmp_path, checkpoint)),
    }
    args = [a.format(**fill) for a in case.args]
    if "--checkpoint" not in args:
        args += ["--checkpoint", str(checkpoint)]
    if "--out-dir" not in args:
        args += ["--out-dir", str(tmp_path / "out")]
    out_dir = Path(args[args.index("--out-dir") + 1])
    before_out = {p: _digest(p) for p in out_dir.glob("*")} if out_dir.is_dir() else {}

    code = main(["restore", str(src), *args])
    err = _visible(capsys.readouterr().err)

    assert _digest(src) == before, "the input file changed"
    if case.error is None:
        assert code == 0, err
        restored, sr = sf.read(out_dir / f"{src.stem}_Voc.wav", always_2d=True, dtype="float32")
        info = sf.info(str(src))
        assert sr == info.samplerate and restored.shape == (info.frames, info.channels)
        assert np.isfinite(restored).all()
    else:
        assert code == 2
        lines = err.split("\n")
        assert len(lines) == 1 and lines[0].startswith("stemrestore restore: error:"), err
        assert case.error in lines[0]
        after_out = {p: _digest(p) for p in out_dir.glob("*")} if out_dir.is_dir() else {}
        assert after_out == before_out, "a failed run wrote or changed an output file"


def test_hour_long_file_streams_in_bounded_memory(tmp_path, capsys):
    """An hour at 8 kHz mono is 115 MB decoded; restoring it must not hold it in memory.

    The model runs at 1 kHz so that the hour costs seconds: what is tested is the
    streaming (read, resample, chunk, write), not the network."""
    cfg = UFormerConfig(channels=(2, 2, 4, 4), n_layer=1, n_head=2, n_embd=4, n_fft=64, hop=32, sample_rate=1000)
    checkpoint = save_checkpoint(UFormer(cfg), tmp_path / "ck" / "fast", target="Voc")
    sr, seconds = 8000, 3600
    src = tmp_path / "hour.wav"
    with sf.SoundFile(src, "w", sr, 1, "PCM_16") as f:
        for minute in range(seconds // 60):
            f.write(_noise(1, 60 * sr, 0.05, seed=minute).T)
    tracemalloc.start()
    code = main(["restore", str(src), "--checkpoint", str(checkpoint), "--out-dir", str(tmp_path / "o"),
                 "--chunk-seconds", "60"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 0, capsys.readouterr().err
    assert sf.info(str(tmp_path / "o" / "hour_Voc.wav")).frames == seconds * sr
    assert peak < 25e6, f"peak traced memory {peak / 1e6:.0f} MB for a 115 MB song"
