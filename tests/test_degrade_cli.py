"""``stemrestore degrade``: files written, replay, one-line errors."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemrestore.cli import main

SR = 44100
OUTPUTS = ("mixture.wav", "target.wav", "degraded_target.wav")
STUDIO_YAML = Path(__file__).resolve().parents[1] / "configs" / "degradation" / "studio.yaml"


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(0)
    n = SR // 2
    t = np.arange(n) / SR
    target = np.stack([np.sin(2 * np.pi * 330 * t), np.sin(2 * np.pi * 440 * t)]) * 0.4
    sf.write(tmp_path / "t.wav", target.T.astype(np.float32), SR, subtype="FLOAT")
    sf.write(tmp_path / "b.wav", (0.2 * rng.standard_normal(n)).astype(np.float32), SR, subtype="FLOAT")
    return tmp_path / "t.wav", tmp_path / "b.wav"


def run(capsys, *argv):
    code = main(["degrade", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read(folder):
    return [sf.read(folder / name, dtype="float32")[0] for name in OUTPUTS]


def test_writes_the_example_and_its_record(tmp_path, inputs, capsys):
    code, _, err = run(capsys, "--target", inputs[0], "--background", inputs[1],
                       "--out-dir", tmp_path / "d", "--seed", 7)
    assert code == 0, err
    mixture, target, degraded = read(tmp_path / "d")
    assert mixture.shape == target.shape == degraded.shape == (SR // 2, 2)  # mono background widened
    assert max(np.abs(a).max() for a in (mixture, target, degraded)) <= 1.0
    params = json.loads((tmp_path / "d" / "params.json").read_text())
    assert params["seed"] == 7 and params["inputs"]["frames"] == SR // 2
    assert params["inputs"]["target"] == str(inputs[0].resolve())
    original = sf.read(inputs[0], dtype="float32")[0]
    np.testing.assert_allclose(target, original * params["gain"], rtol=1e-5, atol=1e-7)


def test_replay_recreates_the_same_files(tmp_path, inputs, capsys):
    assert run(capsys, "--target", inputs[0], "--background", inputs[1], "--out-dir", tmp_path / "a",
               "--seed", 3)[0] == 0
    code, _, err = run(capsys, "--replay", tmp_path / "a" / "params.json", "--out-dir", tmp_path / "b")
    assert code == 0, err
    for name in (*OUTPUTS, "params.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_config_file_is_used(tmp_path, inputs, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("target:\n  p_reverb: 1.0\np_noise: 0.0\n")
    code, _, err = run(capsys, "--target", inputs[0], "--background", inputs[1], "--out-dir", tmp_path / "d",
                       "--config", cfg)
    assert code == 0, err
    params = json.loads((tmp_path / "d" / "params.json").read_text())
    assert "reverb" in [e["effect"] for e in params["target_chain"]["effects"]]
    assert params["noise"] is None and params["seed"] == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--target", "{t}", "--background", "{d}/missing.wav", "--out-dir", "{d}/o"],
         "missing.wav: no such file"),
        (["--target", "{t}"], "missing --background, --out-dir"),
        (["--target", "{t}", "--background", "{t}", "--out-dir", "{d}/o", "--config", "{d}/nope.yaml"],
         "no such config file"),
        (["--replay", "{d}/nope.json"], "no such params file"),
        (["--replay", "{t}"], "not valid JSON"),
    ],
)
def test_bad_input_gives_one_line_errors(tmp_path, inputs, capsys, argv, message):
    argv = [a.format(t=inputs[0], d=tmp_path) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_replay_refuses_other_settings_and_other_inputs(tmp_path, inputs, capsys):
    run(capsys, "--target", inputs[0], "--background", inputs[1], "--out-dir", tmp_path / "a")
    record = tmp_path / "a" / "params.json"
    code, _, err = run(capsys, "--replay", record, "--config", record)
    assert code == 2 and "--config cannot be combined" in err
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros((1000, 2), np.float32), SR, subtype="FLOAT")
    code, _, err = run(capsys, "--replay", record, "--target", short, "--background", short,
                       "--out-dir", tmp_path)
    assert code == 2 and "22050-sample inputs" in err


def test_studio_mode_uses_the_class_strip_and_replays(tmp_path, inputs, capsys):
    code, out, err = run(capsys, "--target", inputs[0], "--background", inputs[1], "--out-dir", tmp_path / "s",
                         "--config", STUDIO_YAML, "--class", "Voc_LV", "--seed", 2)
    assert code == 0, err
    assert "studio: Voc strip" in out
    params = json.loads((tmp_path / "s" / "params.json").read_text())
    assert params["target_class"] == "Voc_LV"
    code, _, err = run(capsys, "--replay", tmp_path / "s" / "params.json", "--out-dir", tmp_path / "r")
    assert code == 0, err
    for name in OUTPUTS:
        assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "r" / name).read_bytes(), name
