"""evaluate end to end on a tiny test set: pairs, segments, estimators, summary, table, plots, CLI."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

import stemrestore.evaluate as ev
from stemrestore.audio import load_audio, resample, save_audio
from stemrestore.cli import main
from stemrestore.errors import StemRestoreError
from stemrestore.evaluate import (
    EvalConfig,
    Estimator,
    Pair,
    confidence_interval,
    evaluate,
    identity,
    load_pairs,
    segment_bounds,
    summarize,
)
from stemrestore.metrics import MAX_RATIO, si_sdr
from stemrestore.models import default_checkpoint

SR = 22050
SECONDS = 1.0
BACKGROUND_GAINS = (0.2, 0.6, 1.5)  # example i is mixed with this much background: easy to hard
COMPRESSOR = {"effect": "compressor", "threshold_db": -12.0, "ratio": 3.0, "attack_ms": 5.0, "release_ms": 100.0}
REVERB = {"effect": "reverb", "room_size": 0.5, "damping": 0.5, "wet_level": 0.3, "dry_level": 0.4, "width": 0.5}
MP3 = {"effect": "mp3", "vbr_quality": 4.0}
# The degradation records of the three examples (make-testset's params.json), as effect dicts of the
# target chain and of the mixture chain.
CHAINS = (([COMPRESSOR], []), ([COMPRESSOR, REVERB], [MP3]), ([REVERB], []))


def _params(target_effects: list[dict], mixture_effects: list[dict]) -> dict:
    degradation = {"format": "stemrestore.degradation/1", "sr": SR, "snr_db": 0.0, "noise": None, "peak_level": 0.8,
                   "target_chain": {"effects": target_effects, "output_level": "match_rms"},
                   "mixture_chain": {"effects": mixture_effects, "output_level": "match_rms"}}
    return {"id": "x", "degradation": degradation}


def _tone(rng: np.random.Generator, n: int, sr: int = SR) -> np.ndarray:
    t = np.arange(n) / sr
    x = np.stack([sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in rng.uniform(150, 3000, 4))
                  for _ in range(2)])
    return (0.1 * x).astype(np.float32)


@pytest.fixture
def testset(tmp_path: Path) -> Path:
    """Three examples in the make-testset layout; example i is harder for larger i."""
    root = tmp_path / "testset"
    rng = np.random.default_rng(7)
    lines = []
    for i, gain in enumerate(BACKGROUND_GAINS):
        n = int(SECONDS * SR)
        target = _tone(rng, n)
        background = 0.1 * rng.standard_normal((2, n)).astype(np.float32)
        ex = f"{i:06d}"
        save_audio(root / ex / "target.flac", target, SR)
        save_audio(root / ex / "mixture.flac", target + gain * background, SR)
        (root / ex / "params.json").write_text(json.dumps(_params(*CHAINS[i])))
        lines.append({"id": ex, "mixture": f"{ex}/mixture.flac", "target": f"{ex}/target.flac",
                      "params": f"{ex}/params.json", "song": "RawStems/A|B", "class": "Voc"})
    (root / "index.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root


def _oracle(pairs: list[Pair]) -> Estimator:
    """A test double that knows the answers: returns the target of whichever mixture it is given."""
    known = [(load_audio(p.mixture)[0], load_audio(p.target)[0]) for p in pairs]

    def restore(audio: np.ndarray, sr: int) -> np.ndarray:
        return next(target for mixture, target in known if np.array_equal(mixture, audio))

    return Estimator("oracle", restore)


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "per_example.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_evaluate_identity_and_oracle(testset, tmp_path):
    pairs = load_pairs(testset)
    out = tmp_path / "out"
    summary = evaluate(pairs, [identity(), _oracle(pairs)], out, progress=False)
    rows = _rows(out)
    assert [(r["estimator"], r["id"]) for r in rows] == [
        (name, f"{i:06d}") for i in range(3) for name in ("identity", "oracle")
    ]
    oracle = summary["estimators"]["oracle"]["metrics"]
    assert oracle["si_sdr"]["mean"] == pytest.approx(10 * math.log10(MAX_RATIO))
    assert oracle["multi_mel_snr"]["mean"] == pytest.approx(10 * math.log10(MAX_RATIO))
    assert oracle["mel_ssim"]["mean"] == pytest.approx(1.0)
    ident = {r["id"]: r for r in rows if r["estimator"] == "identity"}
    for key in ("mel_ssim", "si_sdr", "multi_mel_snr"):
        assert summary["estimators"]["identity"]["metrics"][key]["mean"] < oracle[key]["mean"]
        # More background, lower score: the metric sees the mixture's difficulty.
        assert float(ident["000000"][key]) > float(ident["000001"][key]) > float(ident["000002"][key])
    # The identity row is the SI-SDR of the mixture file against the target file.
    mixture, target = load_audio(pairs[2].mixture)[0], load_audio(pairs[2].target)[0]
    assert float(ident["000002"]["si_sdr"]) == pytest.approx(si_sdr(mixture, target), abs=1e-9)


def test_summary_ci_by_hand_and_gain_estimator(testset, tmp_path):
    pairs = load_pairs(testset)
    half = Estimator("half", lambda audio, sr: 0.5 * audio)
    summary = evaluate(pairs, [identity(), half], tmp_path / "out", EvalConfig(plots=False), progress=False)
    rows = _rows(tmp_path / "out")
    values = [float(r["si_sdr"]) for r in rows if r["estimator"] == "identity"]
    mean = sum(values) / 3
    by_hand = 1.96 * math.sqrt(sum((v - mean) ** 2 for v in values) / 3) / math.sqrt(3)
    stat = summary["estimators"]["identity"]["metrics"]["si_sdr"]
    median = sorted(values)[1]
    assert stat == {"mean": pytest.approx(mean), "ci95": pytest.approx(by_hand), "median": pytest.approx(median), "n": 3}
    assert by_hand > 0
    assert summary["estimators"]["identity"]["by_class"]["Voc"]["si_sdr"] == stat
    # A known gain changes neither scale-invariant metric.
    for key in ("si_sdr", "multi_mel_snr"):
        assert summary["estimators"]["half"]["metrics"][key]["mean"] == pytest.approx(
            summary["estimators"]["identity"]["metrics"][key]["mean"], abs=1e-3)
    assert confidence_interval([4.2]) == 0.0
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == json.loads(json.dumps(summary))


def test_table_has_one_row_per_estimator(testset, tmp_path):
    pairs = load_pairs(testset)
    estimators = [identity(), Estimator("half", lambda a, sr: 0.5 * a), _oracle(pairs)]
    summary = evaluate(pairs, estimators, tmp_path / "out", EvalConfig(plots=False), progress=False)
    lines = (tmp_path / "out" / "table.md").read_text().splitlines()
    assert lines[0] == "| model | mel-SSIM | SI-SDR (dB) | Multi-Mel-SNR (dB) | n |"
    body = [line.split(" | ") for line in lines[2:5]]
    assert [cells[0].lstrip("| ") for cells in body] == ["identity", "half", "oracle"]
    stat = summary["estimators"]["identity"]["metrics"]["si_sdr"]
    assert body[0][2] == f"{stat['mean']:.2f} ± {stat['ci95']:.2f}"
    assert body[2][1] == "1.0000 ± 0.0000" and body[2][4] == "3 |"


def _halfway(pairs: list[Pair]) -> Estimator:
    """A test double halfway between the mixture and the target: better than identity everywhere."""
    oracle = _oracle(pairs)
    return Estimator("halfway", lambda audio, sr: 0.5 * (audio + oracle.fn(audio, sr)))


def test_paired_differences_against_identity_match_the_rows(testset, tmp_path):
    pairs = load_pairs(testset)
    out = tmp_path / "out"
    summary = evaluate(pairs, [Estimator("half", lambda a, sr: 0.5 * a), identity(), _halfway(pairs)], out,
                       EvalConfig(plots=False), progress=False)
    paired = summary["paired"]
    assert paired["against"] == "identity" and set(paired["estimators"]) == {"half", "halfway"}
    rows = _rows(out)
    for name in ("half", "halfway"):
        for key in ("mel_ssim", "si_sdr", "multi_mel_snr"):
            mine = {r["id"]: float(r[key]) for r in rows if r["estimator"] == name}
            base = {r["id"]: float(r[key]) for r in rows if r["estimator"] == "identity"}
            delta = [mine[i] - base[i] for i in sorted(base)]
            stat = paired["estimators"][name][key]
            assert stat["mean"] == pytest.approx(sum(delta) / 3, abs=1e-9)
            assert stat["ci95"] == pytest.approx(confidence_interval(delta), abs=1e-9)
            assert stat["n"] == 3 and stat["better"] == sum(d > 0 for d in delta)
    # Halfway to the target is better on every segment by every metric; a gain changes no SI-SDR.
    assert all(paired["estimators"]["halfway"][k]["better"] == 3 for k in ("mel_ssim", "si_sdr", "multi_mel_snr"))
    assert paired["estimators"]["halfway"]["si_sdr"]["mean"] > 3.0
    assert abs(paired["estimators"]["half"]["si_sdr"]["mean"]) < 1e-3
    table = (out / "table.md").read_text()
    stat = paired["estimators"]["halfway"]["si_sdr"]
    assert "| halfway | " in table.split("Paired against identity")[0].split("Mean ±")[1]
    assert f"+{stat['mean']:.2f} ± {stat['ci95']:.2f} (3/3)" in table


def test_paired_reference_defaults_to_the_first_row_and_can_be_named(testset, tmp_path):
    pairs = load_pairs(testset)[:1]
    half, halfway = Estimator("half", lambda a, sr: 0.5 * a), _halfway(load_pairs(testset))
    summary = evaluate(pairs, [half, halfway], tmp_path / "a", EvalConfig(plots=False), progress=False)
    assert summary["paired"]["against"] == "half" and list(summary["paired"]["estimators"]) == ["halfway"]
    named = EvalConfig(plots=False, paired_against="halfway")
    summary = evaluate(pairs, [identity(), half, halfway], tmp_path / "b", named, progress=False)
    assert summary["paired"]["against"] == "halfway"
    assert summary["paired"]["estimators"]["identity"]["si_sdr"]["better"] == 0
    assert "paired" not in evaluate(pairs, [half], tmp_path / "c", EvalConfig(plots=False), progress=False)
    with pytest.raises(StemRestoreError, match=r"paired_against: 'nope' is not a scored estimator \(half, halfway\)"):
        evaluate(pairs, [half, halfway], tmp_path / "d", EvalConfig(plots=False, paired_against="nope"),
                 progress=False)
    assert not (tmp_path / "d" / "summary.json").exists()


def test_difficulty_split_separates_the_segments_the_identity_scores_low(testset, tmp_path):
    pairs = load_pairs(testset)
    out = tmp_path / "out"
    # The fixture's identity SI-SDRs are about 17, 7 and -0.5 dB: at 5 dB the hardest one is "near-erased".
    config = EvalConfig(plots=False, erased_below_db=5.0)
    summary = evaluate(pairs, [identity(), _halfway(pairs)], out, config, progress=False)
    split = summary["by_difficulty"]
    assert split["erased_below_db"] == 5.0 and split["against"] == "identity"
    rows = _rows(out)
    ident = {r["id"]: float(r["si_sdr"]) for r in rows if r["estimator"] == "identity"}
    assert sorted(i for i, v in ident.items() if v < 5.0) == ["000002"]
    for stratum, ids in (("ordinary", ["000000", "000001"]), ("near_erased", ["000002"])):
        entry = split["strata"][stratum]
        assert entry["segments"] == len(ids)
        for name in ("identity", "halfway"):
            values = [float(r["mel_ssim"]) for r in rows if r["estimator"] == name and r["id"] in ids]
            assert entry["estimators"][name]["mel_ssim"]["mean"] == pytest.approx(sum(values) / len(ids), abs=1e-9)
        delta = [float(r["si_sdr"]) - ident[r["id"]] for r in rows if r["estimator"] == "halfway" and r["id"] in ids]
        stat = entry["paired"]["halfway"]["si_sdr"]
        assert stat["mean"] == pytest.approx(sum(delta) / len(ids), abs=1e-9)
        assert stat["n"] == len(ids) and stat["better"] == len(ids)
    table = (out / "table.md").read_text()
    assert "By difficulty: 2 ordinary segments (identity SI-SDR at least 5 dB) and 1 near-erased ones" in table
    stat = split["strata"]["near_erased"]["paired"]["halfway"]["si_sdr"]
    assert "| halfway, near-erased | " in table and f"+{stat['mean']:.2f} ± 0.00 (1/1)" in table
    # An empty stratum is a dash, not a crash; no identity or None: no split.
    summary = evaluate(pairs, [identity(), _halfway(pairs)], tmp_path / "b", EvalConfig(plots=False), progress=False)
    assert summary["by_difficulty"]["strata"]["near_erased"]["segments"] == 0
    assert "| identity, near-erased | — | — | — | 0 |" in (tmp_path / "b" / "table.md").read_text()
    assert "by_difficulty" not in evaluate(pairs, [_halfway(pairs)], tmp_path / "c", EvalConfig(plots=False),
                                           progress=False)
    off = EvalConfig(plots=False, erased_below_db=None)
    assert "by_difficulty" not in evaluate(pairs[:1], [identity()], tmp_path / "d", off, progress=False)
    with pytest.raises(StemRestoreError, match="erased_below_db"):
        EvalConfig(erased_below_db=float("nan"))


def test_effect_split_groups_the_segments_of_each_degradation_effect(testset, tmp_path):
    pairs = load_pairs(testset)
    assert [p.effects for p in pairs] == [("target: compressor",), ("target: compressor", "target: reverb",
                                                                     "mixture: mp3"), ("target: reverb",)]
    out = tmp_path / "out"
    summary = evaluate(pairs, [identity(), _halfway(pairs)], out, EvalConfig(plots=False), progress=False)
    split = summary["by_effect"]
    assert split["against"] == "identity"
    assert list(split["effects"]) == ["mixture: mp3", "target: compressor", "target: reverb"]
    rows = _rows(out)
    ident = {r["id"]: float(r["si_sdr"]) for r in rows if r["estimator"] == "identity"}
    for effect, ids in (("target: compressor", ["000000", "000001"]), ("target: reverb", ["000001", "000002"]),
                        ("mixture: mp3", ["000001"])):
        entry = split["effects"][effect]
        assert entry["segments"] == len(ids)
        values = [float(r["mel_ssim"]) for r in rows if r["estimator"] == "halfway" and r["id"] in ids]
        assert entry["estimators"]["halfway"]["mel_ssim"]["mean"] == pytest.approx(sum(values) / len(ids), abs=1e-9)
        delta = [float(r["si_sdr"]) - ident[r["id"]] for r in rows if r["estimator"] == "halfway" and r["id"] in ids]
        assert entry["paired"]["halfway"]["si_sdr"]["mean"] == pytest.approx(sum(delta) / len(ids), abs=1e-9)
    table = (out / "table.md").read_text()
    stat = split["effects"]["mixture: mp3"]["paired"]["halfway"]["si_sdr"]
    assert "By degradation effect: paired against identity" in table
    assert "| halfway, mixture: mp3 | " in table and f"{stat['mean']:+.2f} ± 0.00 (1/1)" in table
    # One estimator: its own scores per effect; turned off, or pairs without params: no split.
    alone = evaluate(pairs, [identity()], tmp_path / "b", EvalConfig(plots=False), progress=False)
    assert "paired" not in alone["by_effect"]["effects"]["target: reverb"]
    assert "| identity, target: reverb | " in (tmp_path / "b" / "table.md").read_text()
    off = EvalConfig(plots=False, by_effect=False)
    assert "by_effect" not in evaluate(pairs, [identity()], tmp_path / "c", off, progress=False)
    bare = [Pair(p.id, p.mixture, p.target) for p in pairs]
    assert "by_effect" not in evaluate(bare, [identity()], tmp_path / "d", EvalConfig(plots=False), progress=False)


def test_a_bad_params_file_is_named(testset):
    (testset / "000001" / "params.json").write_text("{not json")
    with pytest.raises(StemRestoreError, match="line 2: params file .*000001/params.json is not valid JSON"):
        load_pairs(testset)
    (testset / "000001" / "params.json").write_text(json.dumps(_params([{"effect": "warp"}], [])))
    with pytest.raises(StemRestoreError, match="000001/params.json: .*warp"):
        load_pairs(testset)
    (testset / "000001" / "params.json").unlink()
    with pytest.raises(StemRestoreError, match="params file .*cannot be read"):
        load_pairs(testset)
    # Another protocol's record (e.g. the studio protocol's) names no effects and is no error.
    (testset / "000001" / "params.json").write_text(json.dumps({"degradation": {"format": "other/1"}}))
    assert load_pairs(testset)[1].effects == ()


def test_plots_are_png_files(testset, tmp_path):
    pairs = load_pairs(testset)
    evaluate(pairs, [identity(), _oracle(pairs)], tmp_path / "out", progress=False)
    plots = tmp_path / "out" / "plots"
    expected = {f"hist_{k}.png" for k in ("mel_ssim", "si_sdr", "multi_mel_snr")}
    expected |= {f"{name}_{which}.png" for name in ("identity", "oracle") for which in ("best", "median", "worst")}
    assert {p.name for p in plots.iterdir()} == expected
    for name in expected:
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_manifests_csv_and_jsonl(testset, tmp_path):
    reference = load_pairs(testset)
    folder = tmp_path / "manifests"
    folder.mkdir()
    rel = [Path("..") / "testset" / p.mixture.relative_to(testset) for p in reference]
    with open(folder / "set.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["mixture", "target", "class"])
        for p, mix in zip(reference, rel):
            writer.writerow([mix, p.target, "Gtr"])  # relative mixture, absolute target
    pairs = load_pairs(folder / "set.csv")
    assert [p.id for p in pairs] == ["000000", "000001", "000002"]
    assert [p.target for p in pairs] == [p.target for p in reference]
    assert all(p.mixture.resolve() == q.mixture.resolve() for p, q in zip(pairs, reference))
    assert {p.stem_class for p in pairs} == {"Gtr"}
    (folder / "set.jsonl").write_text("\n".join(
        json.dumps({"mixture": str(mix), "target": str(p.target), "id": f"song{i}"})
        for i, (p, mix) in enumerate(zip(reference, rel))) + "\n\n")
    pairs = load_pairs(folder / "set.jsonl")
    assert [p.id for p in pairs] == ["song0", "song1", "song2"] and pairs[0].stem_class is None
    summary = evaluate(pairs, [identity()], tmp_path / "out", EvalConfig(plots=False), progress=False)
    assert summary["estimators"]["identity"]["segments"] == 3
    assert summary["estimators"]["identity"]["by_class"] == {}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "mixture,id\nx.wav,1\n", "lacks column"),
        ("b.jsonl", '{"mixture": "m.wav", "target": "t.wav"}\n', "line 1: mixture file .*m.wav does not exist"),
        ("g.jsonl", '\n{"mixture": "m.wav", "target": "t.wav"}\nnot json\n', "line 3: not valid JSON"),
        ("c.jsonl", '{"mixture": "m.wav"}\n', "missing 'target'"),
        ("d.jsonl", "\n", "lists no pairs"),
        ("e.txt", "", "must be .csv or .jsonl"),
        ("f.jsonl", "[1, 2]\n", "expected a JSON object"),
    ],
)
def test_manifest_errors_are_one_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(StemRestoreError, match=message) as info:
        load_pairs(tmp_path / name)
    assert "\n" not in str(info.value)


def test_manifest_duplicate_id_and_missing_folder(testset, tmp_path):
    line = json.dumps({"id": "x", "mixture": str(testset / "000000/mixture.flac"),
                       "target": str(testset / "000000/target.flac")})
    (tmp_path / "dup.jsonl").write_text(line + "\n" + line + "\n")
    with pytest.raises(StemRestoreError, match="duplicate id 'x'"):
        load_pairs(tmp_path / "dup.jsonl")
    with pytest.raises(StemRestoreError, match="no index.jsonl"):
        load_pairs(tmp_path)


def test_segment_bounds():
    assert segment_bounds(50, 10, 10.0) == [(0, 50)]  # shorter than a segment: whole
    assert segment_bounds(100, 10, 10.0) == [(0, 100)]
    assert segment_bounds(250, 10, 10.0) == [(0, 100), (100, 200), (200, 250)]  # 5 s remainder kept
    assert segment_bounds(240, 10, 10.0) == [(0, 100), (100, 200)]  # 4 s remainder dropped


def test_long_pairs_are_cut_and_silent_segments_skipped(tmp_path):
    rng = np.random.default_rng(3)
    n = int(1.3 * SR)
    target = _tone(rng, n)
    target[:, int(0.5 * SR):int(1.0 * SR)] = 0.0  # the second 0.5-s segment is silent
    save_audio(tmp_path / "t.flac", target, SR)
    save_audio(tmp_path / "m.flac", target + 0.05 * rng.standard_normal(target.shape).astype(np.float32), SR)
    (tmp_path / "set.csv").write_text("mixture,target,id\nm.flac,t.flac,long\n")
    config = EvalConfig(segment_seconds=0.5, plots=False)
    summary = evaluate(load_pairs(tmp_path / "set.csv"), [identity()], tmp_path / "out", config, progress=False)
    rows = _rows(tmp_path / "out")
    assert [(r["segment"], float(r["start_s"]), float(r["end_s"])) for r in rows] == [
        ("0", 0.0, pytest.approx(0.5, abs=1e-4)), ("2", pytest.approx(1.0, abs=1e-4), pytest.approx(1.3, abs=1e-4))]
    assert summary["estimators"]["identity"]["skipped_silent_segments"] == 1


def test_other_sample_rates_are_resampled_for_the_model_and_scored_at_the_reference_rate(tmp_path):
    rng = np.random.default_rng(4)
    target = _tone(rng, SR)  # all partials below 3 kHz survive 16 kHz
    save_audio(tmp_path / "t.wav", target, SR)
    save_audio(tmp_path / "m.wav", resample(target, SR, 16000), 16000)  # the mixture at another rate
    (tmp_path / "set.csv").write_text("mixture,target\nm.wav,t.wav\n")
    seen = []

    def model(audio: np.ndarray, sr: int) -> np.ndarray:
        seen.append((sr, audio.shape))
        return audio

    summary = evaluate(load_pairs(tmp_path / "set.csv"), [identity(), Estimator("model", model, 8000)],
                       tmp_path / "out", EvalConfig(plots=False), progress=False)
    assert seen == [(8000, (2, 8000))]
    rows = _rows(tmp_path / "out")
    assert all(float(r["end_s"]) == pytest.approx(1.0) for r in rows)
    # The band-limited target survives 16 kHz almost exactly; 8 kHz (4 kHz Nyquist) keeps most of it.
    assert summary["estimators"]["identity"]["metrics"]["si_sdr"]["mean"] > 40
    assert summary["estimators"]["model"]["metrics"]["si_sdr"]["mean"] > 20


def test_cli_evaluate_baseline_and_checkpoints(testset, tmp_path, monkeypatch, capsys):
    made = []

    def fake_restorer(checkpoint, device="cpu", name=None, **options):
        made.append((Path(checkpoint).name, device, options))
        return Estimator(name, lambda audio, sr: 0.9 * audio)

    monkeypatch.setattr(ev, "restorer_estimator", fake_restorer)
    out = tmp_path / "out"
    code = main(["evaluate", "--testset", str(testset), "--baseline", "identity", "--checkpoint", "a/model.ckpt",
                 "--checkpoint", "b/model.ckpt", "--device", "cpu", "--shifts", "2", "--chunk-seconds", "4",
                 "--overlap", "0.5", "--tta", "--erased-below-db", "5", "--out", str(out), "--no-plots"])
    assert code == 0
    assert json.loads((out / "summary.json").read_text())["by_difficulty"]["strata"]["near_erased"]["segments"] == 1
    options = {"chunk_seconds": 4.0, "overlap": 0.5, "shifts": 2, "tta": True}
    assert made == [("model.ckpt", "cpu", options), ("model.ckpt", "cpu", options)]
    names = [line.split(" | ")[0].lstrip("| ") for line in (out / "table.md").read_text().splitlines()[2:5]]
    assert names == ["identity", "model", "b/model"]
    assert "| identity |" in capsys.readouterr().out
    assert not (out / "plots").exists()
    assert "by_effect" in json.loads((out / "summary.json").read_text())
    assert main(["evaluate", "--testset", str(testset), "--baseline", "identity", "--no-by-effect",
                 "--out", str(tmp_path / "plain"), "--no-plots"]) == 0
    assert "by_effect" not in json.loads((tmp_path / "plain" / "summary.json").read_text())


def test_cli_evaluate_user_errors(testset, tmp_path, capsys):
    assert main(["evaluate", "--testset", str(testset), "--out", str(tmp_path / "o")]) == 2
    assert "--checkpoint or --baseline" in capsys.readouterr().err
    assert main(["evaluate", "--testset", str(testset), "--baseline", "identity", "--paired-against", "model",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["stemrestore evaluate: error: paired_against: 'model' is not a scored estimator (identity)"]
    assert main(["evaluate", "--testset", str(tmp_path / "nothing"), "--baseline", "identity"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("stemrestore evaluate: error:")
    # the window options reach the Restorer, which refuses a chunk shorter than one STFT window
    assert main(["evaluate", "--testset", str(testset), "--checkpoint", str(default_checkpoint()),
                 "--chunk-seconds", "0.001", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "chunk_seconds must be at least" in err[0]
    assert not (tmp_path / "o").exists()


def test_a_bad_estimate_names_the_pair(testset, tmp_path):
    broken = Estimator("broken", lambda audio, sr: np.full_like(audio, np.nan))
    with pytest.raises(StemRestoreError, match=r"^pair 000000: broken output: contains \d+ NaN/Inf samples$"):
        evaluate(load_pairs(testset), [broken], tmp_path / "out", EvalConfig(plots=False), progress=False)


def test_summarize_median_resists_one_erased_target():
    # Three ordinary examples and one whose target the degradation erased (SI-SDR -60 dB).
    stat = summarize([2.0, 3.0, 4.0, -60.0])
    assert stat["mean"] == pytest.approx(-12.75)
    assert stat["median"] == pytest.approx(2.5)
    assert summarize([]) == {"mean": None, "ci95": None, "median": None, "n": 0}
