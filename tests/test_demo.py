"""``stemrestore demo``: the report folder, its scores against the written WAVs, replay, --input."""

from __future__ import annotations

import base64
import json
import re
import shutil

import numpy as np
import pytest
import soundfile as sf
from test_uformer import tiny_model

from stemrestore.audio import load_audio, to_stereo
from stemrestore.cli import main
from stemrestore.data.synth import render_song
from stemrestore.degrade import DegradationProtocol
from stemrestore.demo import run_demo
from stemrestore.errors import AudioError, ConfigError
from stemrestore.metrics import METRICS, match_pair, score, si_sdr
from stemrestore.models import save_checkpoint
from stemrestore.restore import Restorer
from stemrestore.taxonomy import matches

SR = 16000
SECONDS = 3.0


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "tiny_voc"
    save_checkpoint(tiny_model(0, sample_rate=SR), path, target="Voc")
    return path.with_suffix(".safetensors")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, checkpoint):
    out = tmp_path_factory.mktemp("demo") / "report"
    return run_demo(out, seed=3, seconds=SECONDS, checkpoint=checkpoint, progress=False)


def table_rows(markdown: str) -> dict[str, list[str]]:
    """Score rows of report.md: label -> the numbers as written."""
    rows = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 1 + len(METRICS) and re.fullmatch(r"-?\d+\.\d{4}", cells[1]):
            rows[cells[0]] = cells[1:]
    return rows


def test_report_folder_holds_every_file(demo):
    names = ["mixture.wav", "restored.wav", "clean_target.wav", "degraded_target.wav", "spectrograms.png",
             "params.json", "report.md", "report.html"]
    for name in names:
        assert (demo.out_dir / name).is_file(), name
    for name in ("mixture.wav", "restored.wav", "clean_target.wav", "degraded_target.wav"):
        info = sf.info(str(demo.out_dir / name))
        assert (info.samplerate, info.channels, info.frames) == (SR, 2, int(SECONDS * SR))
    assert (demo.out_dir / "spectrograms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_scores_equal_metrics_recomputed_from_the_wavs(demo):
    clean = load_audio(demo.out_dir / "clean_target.wav")[0]
    expected = {
        "restored": score(load_audio(demo.out_dir / "restored.wav")[0], clean, SR),
        "mixture (identity baseline)": score(load_audio(demo.out_dir / "mixture.wav")[0], clean, SR),
    }
    rows = table_rows((demo.out_dir / "report.md").read_text())
    assert set(rows) == set(expected)
    for label, values in expected.items():
        assert rows[label] == [f"{values[m.key]:.4f}" for m in METRICS]
    page = (demo.out_dir / "report.html").read_text()
    for values in expected.values():
        assert "".join(f"<td>{values[m.key]:.4f}</td>" for m in METRICS) in page
    # The mixture holds the background, so the identity baseline is far from the clean target.
    assert expected["mixture (identity baseline)"]["si_sdr"] < 25.0


def test_report_names_the_inference_settings(demo):
    for name in ("report.md", "report.html"):
        assert "(10 s chunks, overlap 0.25, no shifts, TTA off)" in (demo.out_dir / name).read_text()


def test_html_report_is_self_contained(demo):
    page = (demo.out_dir / "report.html").read_text()
    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(embedded) == (demo.out_dir / "spectrograms.png").read_bytes()
    players = re.findall(r'<audio controls preload="none" src="([^"]+)"', page)
    assert set(players) == {"mixture.wav", "restored.wav", "clean_target.wav", "degraded_target.wav"}


def test_params_json_replays_to_the_written_mixture(demo):
    params = json.loads((demo.out_dir / "params.json").read_text())
    song = params["song"]
    stems = render_song(song["seed"], song["seconds"], song["sr"], song["renderer"])
    assert sorted(stems) == song["classes"] and any(matches(c, "Voc") for c in stems)
    target = sum(to_stereo(a) for c, files in stems.items() if matches(c, "Voc") for _, a in files)
    background = sum(to_stereo(a) for c, files in stems.items() if not matches(c, "Voc") for _, a in files)
    example = DegradationProtocol().replay(params["degradation"], target, background, song["sr"])
    assert params["degradation"]["seed"] == 3
    assert f"at {params['degradation']['snr_db']:.1f} dB SNR" in (demo.out_dir / "report.md").read_text()
    np.testing.assert_allclose(example.mixture, load_audio(demo.out_dir / "mixture.wav")[0], atol=1e-5)
    np.testing.assert_allclose(example.target, load_audio(demo.out_dir / "clean_target.wav")[0], atol=1e-5)
    np.testing.assert_allclose(
        example.degraded_target, load_audio(demo.out_dir / "degraded_target.wav")[0], atol=1e-5
    )


def test_restored_wav_is_the_models_output_for_the_mixture(demo, checkpoint):
    mixture = load_audio(demo.out_dir / "mixture.wav")[0]
    expected = Restorer(checkpoint, device="cpu").restore(mixture, SR)
    np.testing.assert_allclose(load_audio(demo.out_dir / "restored.wav")[0], expected, atol=1e-6)


def tone(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    wobble = 1 + 0.2 * np.sin(2 * np.pi * 3 * t)
    return (0.3 * np.sin(2 * np.pi * 440.0 * t) * wobble)[None].astype(np.float32)


def test_input_without_reference_restores_without_scores_and_drops_stale_files(demo, tmp_path, checkpoint):
    out = tmp_path / "report"
    shutil.copytree(demo.out_dir, out)  # a previous synthetic run's files must not linger
    song = tmp_path / "my song.wav"
    sf.write(song, tone(2.0, 22050)[0], 22050)
    report = run_demo(out, checkpoint=checkpoint, input_file=song, progress=False)
    assert report.scores is None
    info = sf.info(str(out / "restored.wav"))
    assert (info.samplerate, info.channels, info.frames) == (22050, 1, 44100)
    text = (out / "report.md").read_text()
    assert table_rows(text) == {} and "No reference" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "mixture.wav", "report.html", "report.md", "restored.wav", "spectrograms.png"
    ]


def test_input_with_reference_scores_both_rows(tmp_path, checkpoint):
    sr = 22050
    reference = tone(2.5, sr)  # half a second longer than the input: trimmed to it
    noise = np.random.default_rng(1).standard_normal((1, 2 * sr)).astype(np.float32)
    clean = reference[:, : 2 * sr]
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10.0)  # 10 dB SNR
    sf.write(tmp_path / "mix.wav", (clean + noise)[0], sr, subtype="FLOAT")
    sf.write(tmp_path / "ref.wav", reference[0], sr, subtype="FLOAT")
    report = run_demo(tmp_path / "out", checkpoint=checkpoint, input_file=tmp_path / "mix.wav",
                      reference_file=tmp_path / "ref.wav", progress=False)
    written_ref = load_audio(tmp_path / "out" / "reference.wav")[0]
    np.testing.assert_array_equal(written_ref, clean)
    restored = load_audio(tmp_path / "out" / "restored.wav")[0]
    rows = table_rows((tmp_path / "out" / "report.md").read_text())
    expected = score(*match_pair(restored, written_ref, sr)[:2], sr)
    assert rows["restored"] == [f"{expected[m.key]:.4f}" for m in METRICS]
    assert report.scores["mixture"]["si_sdr"] == pytest.approx(10.0, abs=0.2)
    assert report.scores["mixture"]["si_sdr"] == si_sdr(clean + noise, clean)
    note = "lengths differ (2.000 s estimate, 2.500 s reference); both trimmed to the shorter"
    assert report.notes == [note] and f"Note: {note}" in (tmp_path / "out" / "report.md").read_text()


def test_bad_input_is_a_one_line_audio_error(tmp_path, checkpoint, capsys):
    fake = tmp_path / "notes.wav"
    fake.write_text("this is a text file, not audio\n")
    with pytest.raises(AudioError, match="notes.wav"):
        run_demo(tmp_path / "out", checkpoint=checkpoint, input_file=fake, progress=False)
    code = main(["demo", "--out", str(tmp_path / "out"), "--checkpoint", str(checkpoint),
                 "--input", str(fake), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and err.startswith("stemrestore demo: error:") and "notes.wav" in err


def test_bad_settings_are_config_errors(tmp_path, checkpoint):
    with pytest.raises(ConfigError, match="--reference needs --input"):
        run_demo(tmp_path, checkpoint=checkpoint, reference_file=tmp_path / "r.wav", progress=False)
    with pytest.raises(ConfigError, match="seconds"):
        run_demo(tmp_path, checkpoint=checkpoint, seconds=0.2, progress=False)
    misc = save_checkpoint(tiny_model(0, sample_rate=SR), tmp_path / "misc", target="Misc")
    with pytest.raises(ConfigError, match="synthesizer makes no stem"):
        run_demo(tmp_path, checkpoint=misc, progress=False)


def test_cli_prints_both_rows_and_the_folder(tmp_path, checkpoint, capsys):
    out = tmp_path / "cli_report"
    code = main(["demo", "--out", str(out), "--checkpoint", str(checkpoint), "--seconds", "2",
                 "--renderer", "procedural", "--seed", "1", "--tta", "--shifts", "2", "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "(10 s chunks, overlap 0.25, 2 shifts, TTA on)" in (out / "report.md").read_text()
    rows = table_rows((out / "report.md").read_text())
    for label, values in rows.items():
        line = next(line for line in printed.splitlines() if line.startswith(label))
        assert [f"{float(v):.4f}" for v in line[len(label):].split()] == values
    assert str(out / "report.html") in printed
