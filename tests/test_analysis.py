"""Corpus analyses: co-occurrence, stems per song, active time, embeddings, t-SNE, the command."""

import json
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from stemrestore.audio import save_audio
from stemrestore.cli import main
from stemrestore.data.analysis import active_time, cooccurrence, share_in_range, stems_per_song
from stemrestore.data.embeddings import ClapEmbedder, LogMelEmbedder, make_embedder, song_excerpts, tsne_2d
from stemrestore.data.rawstems import Song, Stem, read_manifest, scan
from stemrestore.errors import ConfigError

SR = 8000


def song(name, classes):
    sid = f"RawStems/{name}"
    stems = [Stem(Path(f"/x/{name}/{i}.wav"), c, sid) for i, c in enumerate(classes)]
    return Song(sid, name, name, Path("/x") / name, stems)


SONGS = [
    song("S1", ["Voc_LV", "Bass", "Rhy_DK", "Rhy_DK"]),
    song("S2", ["Voc_LV", "Bass"]),
    song("S3", ["Voc_LV", "Gtr_EG"]),
    song("S4", ["Bass", "Gtr_EG", "Gtr_AG"]),
]


def test_cooccurrence_against_a_hand_computed_matrix():
    classes, p = cooccurrence(SONGS)
    assert classes == ["Voc_LV", "Rhy_DK", "Gtr_AG", "Gtr_EG", "Bass"]  # taxonomy order
    # Row A, column B: of the songs with A, the share that also has B.
    expected = np.array([
        [1, 1 / 3, 0, 1 / 3, 2 / 3],   # Voc_LV in S1 S2 S3
        [1, 1, 0, 0, 1],               # Rhy_DK in S1
        [0, 0, 1, 1, 1],               # Gtr_AG in S4
        [1 / 2, 0, 1 / 2, 1, 1 / 2],   # Gtr_EG in S3 S4
        [2 / 3, 1 / 3, 1 / 3, 1 / 3, 1],  # Bass in S1 S2 S4
    ])  # fmt: skip
    np.testing.assert_allclose(p, expected)
    classes, p = cooccurrence(SONGS, ["Bass", "Orch_WW"])
    np.testing.assert_allclose(p[0], [1, 0])
    assert np.isnan(p[1]).all()  # no song has Orch_WW: P(. | Orch_WW) is undefined


def test_stems_per_song_counts_distinct_classes():
    first, second = stems_per_song(SONGS)
    assert first == [3, 2, 2, 2]  # S1: Voc, Bass, Rhy (two kick stems count once)
    assert second == [3, 2, 2, 3]
    assert share_in_range(second, 3, 9) == 0.5
    assert share_in_range([], 4, 6) == 0.0


def test_active_time_sums_per_class_and_group():
    records = [
        {"class": "Gtr_EG", "duration": 1800.0, "active_seconds": 900.0},
        {"class": "Gtr_AG", "duration": 3600.0, "active_seconds": 1800.0},
        {"class": "Bass", "duration": 7200.0, "active_seconds": 3600.0},
    ]
    table = active_time(records)
    assert list(table) == ["Gtr", "Gtr_AG", "Gtr_EG", "Bass"]
    assert table["Gtr"] == {"stems": 2, "hours": 1.5, "active_hours": 0.75}
    assert table["Bass"] == {"stems": 1, "hours": 2.0, "active_hours": 1.0}


def test_logmel_embedding_is_level_invariant_and_separates_timbres():
    emb = LogMelEmbedder()
    rng = np.random.default_rng(0)
    t = np.arange(emb.sr) / emb.sr
    sines = [np.sin(2 * np.pi * f * t) for f in (220, 233, 247)]
    noises = [rng.standard_normal(emb.sr) for _ in range(3)]
    vectors = emb(np.stack(sines + noises).astype(np.float32))
    assert vectors.shape == (6, 128)
    np.testing.assert_allclose(emb(np.stack(sines).astype(np.float32) * 0.01), vectors[:3], atol=1e-3)
    dist = np.linalg.norm(vectors[:, None] - vectors[None], axis=-1)
    within = max(dist[:3, :3].max(), dist[3:, 3:].max())
    assert dist[:3, 3:].min() > 2 * within


def test_song_excerpts_are_aligned_resampled_and_summed(tmp_path):
    folder = tmp_path / "A|B"
    click = np.zeros((2, 10 * SR), np.float32)
    click[:, 6 * SR] = 1.0  # a click at 6 s of a 10-s stem
    save_audio(folder / "Rhy/DK/Click.wav", click, SR)
    save_audio(folder / "Bass/Low.wav", 0.5 * np.ones((1, 10 * 2 * SR), np.float32), 2 * SR)  # other rate
    save_audio(folder / "Voc/LV/Short.wav", np.ones((1, 2 * SR), np.float32), SR)  # ends before the window
    (folder / "Voc/LV/Bad.wav").write_bytes(b"junk")
    stems = [Stem(folder / p, c, "RawStems/A|B") for p, c in
             [("Rhy/DK/Click.wav", "Rhy_DK"), ("Bass/Low.wav", "Bass"), ("Voc/LV/Short.wav", "Voc_LV"),
              ("Voc/LV/Bad.wav", "Voc_LV")]]  # fmt: skip
    problems = []
    ex = song_excerpts(Song("RawStems/A|B", "A", "B", folder, stems), 4.0, SR, problems)
    assert [s.path.name for s in ex.stems] == ["Click.wav", "Low.wav", "Short.wav"]
    assert [p.path.name for p in problems] == ["Bad.wav"]
    assert ex.tracks.shape == (3, 4 * SR)
    assert np.argmax(np.abs(ex.tracks[0])) == 3 * SR  # window 3..7 s: the click sits at 3 s
    assert abs(float(np.median(ex.tracks[1])) - 0.5) < 1e-3  # resampled from 16 kHz, level kept
    assert not ex.tracks[2].any()
    np.testing.assert_allclose(ex.mixture, ex.tracks.sum(axis=0), atol=1e-6)


def test_tsne_keeps_clusters_apart_and_clips_perplexity():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (10, 16)), rng.normal(8, 1, (10, 16))])
    points = tsne_2d(x, seed=0)
    assert points.shape == (20, 2)
    nearest = np.argsort(np.linalg.norm(points[:, None] - points[None], axis=-1), axis=1)[:, 1]
    assert ((nearest < 10) == (np.arange(20) < 10)).all()
    assert tsne_2d(x[:4], seed=0).shape == (4, 2)  # perplexity clipped to 1 for 4 points
    with pytest.raises(ConfigError, match="at least 3"):
        tsne_2d(x[:2])


def test_clap_needs_a_local_file_and_the_package(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="CLAP checkpoint not found"):
        make_embedder(tmp_path / "missing.pt")
    ckpt = tmp_path / "clap.pt"
    ckpt.write_bytes(b"weights")
    monkeypatch.setitem(sys.modules, "laion_clap", None)  # makes `import laion_clap` fail
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with pytest.raises(ConfigError, match="laion_clap"):
        make_embedder(ckpt)
    assert isinstance(make_embedder(None), LogMelEmbedder)


def test_clap_embedder_drives_the_laion_api(tmp_path, monkeypatch):
    calls = {}

    class FakeClap:
        def __init__(self, enable_fusion, amodel):
            calls["init"] = (enable_fusion, amodel)

        def load_ckpt(self, path, verbose=False):
            calls["ckpt"] = path

        def get_audio_embedding_from_data(self, x, use_tensor):
            calls.setdefault("batches", []).append((x.shape, x.dtype, use_tensor))
            return np.tile(x[:, :1], (1, 512))

    monkeypatch.setitem(sys.modules, "laion_clap", types.SimpleNamespace(CLAP_Module=FakeClap))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    ckpt = tmp_path / "music.pt"
    ckpt.write_bytes(b"weights")
    emb = make_embedder(ckpt, "HTSAT-base")
    assert isinstance(emb, ClapEmbedder) and emb.sr == 48000
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # laion_clap must not fetch tokenizers at run time
    batch = np.arange(11, dtype=np.float32)[:, None] * np.ones((11, 4800), np.float32)
    out = emb(batch)
    assert out.shape == (11, 512) and np.allclose(out[:, 0], np.arange(11))
    assert calls["init"] == (False, "HTSAT-base") and calls["ckpt"] == str(ckpt)
    assert [b[0][0] for b in calls["batches"]] == [8, 3]
    assert all(b[1] == np.float32 and b[2] is False for b in calls["batches"])


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(1)
    root = tmp_path / "RawStems"
    layout = {
        "A|One": {"Voc/LV/Lead.wav": 440, "Bass/Bass.wav": 55, "Rhy/DK/Kick.flac": None},
        "B|Two": {"Voc/LV/Lead.wav": 330, "Gtr/EG/Gtr.wav": 196, "Bass/DI/Bass.flac": 41},
        "C|Three": {"Voc/BV/Bv.wav": 523, "Gtr/AG/Ac.wav": 262, "Kbs/PN/Pno.wav": 131, "Rhy/DK/Sn.wav": None},
    }
    t = np.arange(3 * SR) / SR
    for name, stems in layout.items():
        for rel, freq in stems.items():
            audio = np.sin(2 * np.pi * freq * t) if freq else rng.standard_normal(t.size) * 0.3
            audio[:SR] = 0.0  # one silent second: 2 active seconds of 3
            save_audio(root / name / rel, 0.5 * audio[None].astype(np.float32), SR)
    (root / "C|Three/Voc/BV/Broken.wav").write_bytes(b"RIFF....WAVEjunk")
    return tmp_path


def test_analyze_command_writes_plots_and_a_consistent_summary(corpus, tmp_path):
    out = tmp_path / "report"
    assert main(["analyze", str(corpus), "--out", str(out), "--workers", "1", "--excerpt", "2"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    songs = scan(corpus)
    assert (summary["songs"], summary["stems"], summary["indexed_stems"]) == (3, 11, 10)
    assert [Path(p["path"]).name for p in summary["problems"]] == ["Broken.wav"]  # reported once
    assert summary["active_hours"] == pytest.approx(10 * 2.0 / 3600)
    assert summary["active_time"]["Voc"]["active_hours"] == pytest.approx(3 * 2.0 / 3600)
    assert summary["first_level_per_song"] == {"3": 2, "4": 1}
    assert summary["share_first_level_4_6"] == pytest.approx(1 / 3)
    classes, p = cooccurrence(songs)
    assert summary["cooccurrence"]["classes"] == classes
    np.testing.assert_allclose(summary["cooccurrence"]["p_b_given_a"], p, atol=1e-4)
    assert summary["embedding"].startswith("log-mel") and summary["tsne_points"] == {"tracks": 10, "mixtures": 3}
    for name in ("active_time.png", "stems_per_song.png", "cooccurrence.png", "tsne_tracks.png", "tsne_mixtures.png"):
        image = imread(out / name)
        assert image.ndim == 3 and image.shape[0] > 200 and image.std() > 0.01, name
    assert len(read_manifest(out / "manifest.jsonl")) == 10

    # Re-using the manifest gives the same numbers without indexing again.
    again = tmp_path / "again"
    args = ["analyze", str(corpus / "RawStems"), "--out", str(again), "--manifest", str(out / "manifest.jsonl")]
    assert main([*args, "--excerpt", "2", "--max-tracks", "5"]) == 0
    second = json.loads((again / "summary.json").read_text())
    assert second["active_time"] == summary["active_time"] and second["tsne_points"]["tracks"] == 5
    assert not (again / "manifest.jsonl").exists()


def test_analyze_command_reports_a_missing_clap_checkpoint(corpus, tmp_path, capsys):
    code = main(["analyze", str(corpus), "--out", str(tmp_path / "r"), "--clap-checkpoint", str(tmp_path / "no.pt")])
    assert code == 2 and "CLAP checkpoint not found" in capsys.readouterr().err
