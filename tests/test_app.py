"""The Gradio page without a browser: layout, the restore handler, the example, readable errors."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_uformer import tiny_model

gr = pytest.importorskip("gradio", reason="the web page needs gradio (pip install '.[web]')")

from stemrestore.app import OUTPUT_LIFETIME_S, RestorePage, build_app  # noqa: E402
from stemrestore.audio import load_audio  # noqa: E402
from stemrestore.cli import main  # noqa: E402
from stemrestore.errors import CheckpointError, ConfigError  # noqa: E402
from stemrestore.models import save_checkpoint  # noqa: E402
from stemrestore.restore import Restorer  # noqa: E402

SR = 16000


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ck")
    return save_checkpoint(tiny_model(0, sample_rate=SR), folder / "tiny_voc", target="Voc")


@pytest.fixture
def page(tmp_path, checkpoint):
    return RestorePage([checkpoint], device="cpu", work_dir=tmp_path / "work",
                       example_dir=tmp_path / "examples", example_seconds=2.0)


def song(path, seconds=2.0, sr=44100, channels=2, seed=0):
    audio = 0.2 * np.random.default_rng(seed).standard_normal((round(seconds * sr), channels))
    sf.write(path, audio.astype(np.float32), sr, subtype="PCM_16")
    return path


def test_half_reaches_the_restorer(tmp_path, checkpoint):
    assert RestorePage([checkpoint], device="cpu", work_dir=tmp_path).restorer("tiny_voc").half is False
    assert RestorePage([checkpoint], device="cpu", half=True, work_dir=tmp_path).restorer("tiny_voc").half is True


def test_build_app_lays_out_the_page(checkpoint):
    app = build_app({"vocals": checkpoint}, device="cpu")
    assert isinstance(app, gr.Blocks)
    ids = {getattr(block, "elem_id", None) for block in app.blocks.values()}
    assert {"input-audio", "checkpoint", "example-button", "restore-button", "restored-audio",
            "restored-file", "spectrograms", "status"} <= ids
    dropdown = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "checkpoint")
    assert dropdown.choices == [("Voc (vocals)", "vocals")]


def test_restore_handler_returns_the_inputs_duration_rate_and_channels(page, tmp_path, checkpoint):
    path = song(tmp_path / "my song.wav", seconds=2.0, sr=44100, channels=2)
    wav, download, png, status = page.restore(str(path), "tiny_voc")
    assert wav == download and wav.endswith("my song_Voc.wav")
    info = sf.info(wav)
    assert (info.frames, info.samplerate, info.channels) == (88200, 44100, 2)
    audio, sr = load_audio(path)
    expected = Restorer(checkpoint, device="cpu").restore(audio, sr)
    np.testing.assert_allclose(load_audio(wav)[0], expected, atol=1e-6)
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "2.00 s" in status and "44100 Hz" in status and "stereo" in status


def test_mono_upload_comes_back_mono_and_old_results_are_cleared(page, tmp_path):
    old = page.work_dir / "old-result"
    old.mkdir(parents=True)
    os.utime(old, (time.time() - OUTPUT_LIFETIME_S - 5,) * 2)
    recent = page.work_dir / "recent-result"
    recent.mkdir()
    wav = page.restore(str(song(tmp_path / "mono.wav", seconds=1.5, sr=22050, channels=1)), "tiny_voc")[0]
    info = sf.info(wav)
    assert (info.frames, info.samplerate, info.channels) == (33075, 22050, 1)
    assert not old.exists() and recent.exists()


def error_of(page, *args) -> str:
    with pytest.raises(gr.Error) as caught:
        page.restore(*args)
    return caught.value.message


def test_bad_uploads_give_a_readable_one_line_message(page, tmp_path):
    upload = tmp_path / "upload_dir"
    upload.mkdir()
    text = upload / "notes.wav"
    text.write_text("a text file renamed to .wav\n")
    message = error_of(page, str(text), "tiny_voc")
    assert message.startswith("notes.wav: not a readable audio file") and "\n" not in message
    assert str(upload) not in message  # the server's temp folder is not the user's business

    nan = upload / "nan.wav"
    audio = np.zeros((8000, 1), np.float32)
    audio[100:110] = np.nan
    sf.write(nan, audio, 8000, subtype="FLOAT")
    assert error_of(page, str(nan), "tiny_voc") == "nan.wav: contains 10 NaN/Inf samples"

    assert "upload an audio file" in error_of(page, None, "tiny_voc")


def test_uploads_over_the_size_limit_are_refused(tmp_path, checkpoint):
    small = RestorePage([checkpoint], device="cpu", work_dir=tmp_path, max_upload_mb=0.1)
    message = error_of(small, str(song(tmp_path / "big.wav", seconds=2.0)), "tiny_voc")
    assert message == "big.wav: 0.4 MB is over the upload limit of 0.1 MB"


def test_builtin_example_is_a_synthetic_mixture_made_once(page):
    path = page.example("tiny_voc")
    info = sf.info(path)
    assert (info.frames, info.samplerate, info.channels) == (2 * SR, SR, 2)
    assert np.max(np.abs(load_audio(path)[0])) > 0.1
    mtime = Path(path).stat().st_mtime_ns
    assert page.example("tiny_voc") == path and Path(path).is_relative_to(page.example_dir)
    assert Path(path).stat().st_mtime_ns == mtime


def test_checkpoint_names_and_problems(tmp_path, checkpoint):
    other = save_checkpoint(tiny_model(1, sample_rate=SR), tmp_path / "b" / "tiny_voc", target="Bass")
    page = RestorePage([checkpoint, other], device="cpu", work_dir=tmp_path)
    assert page.choices() == [("Voc (tiny_voc)", "tiny_voc"), ("Bass (tiny_voc 2)", "tiny_voc 2")]
    assert page.restorer("tiny_voc 2").target == "Bass"
    with pytest.raises(ConfigError, match="no checkpoint"):
        RestorePage([], work_dir=tmp_path)
    with pytest.raises(CheckpointError, match="missing"):
        RestorePage([tmp_path / "missing.safetensors"], work_dir=tmp_path)
    assert "unknown checkpoint" in error_of(page, str(song(tmp_path / "s.wav", seconds=0.5)), "nope")


def test_serve_cli_rejects_bad_settings_in_one_line(tmp_path, capsys):
    assert main(["serve", "--checkpoint", str(tmp_path / "missing.safetensors")]) == 2
    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("stemrestore serve: error:") for line in err)
    assert "missing.safetensors" in err[0] and "--port" in err[1]
