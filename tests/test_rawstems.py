"""The RawStems tree: finding songs, activity, the manifest, split files and the split itself."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from stemrestore.audio import load_audio, save_audio
from stemrestore.cli import main
from stemrestore.data.rawstems import (
    Song,
    Stem,
    active_seconds,
    find_root,
    index,
    make_split,
    measure_stem,
    n_test_songs,
    read_manifest,
    read_split,
    scan,
    song_path,
    write_split,
    write_splits,
)
from stemrestore.errors import ConfigError

SR = 8000


def sine(seconds, amp=0.5, freq=220.0, channels=1, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return np.repeat((amp * np.sin(2 * np.pi * freq * t))[None], channels, axis=0).astype(np.float32)


def pattern(levels_db, sr=SR):
    """One second of sine per entry, with RMS ``level`` dB relative to a full-scale sine's peak."""
    amps = [np.sqrt(2) * 10 ** (lvl / 20) if lvl is not None else 0.0 for lvl in levels_db]
    return np.concatenate([sine(1.0, a, sr=sr)[0] for a in amps])[None]


@pytest.fixture
def tree(tmp_path):
    """A small tree in the released layout, with the usual mess of a real disk."""
    base = tmp_path / "data" / "RawStems"
    song_a, song_b, song_c = base / "Ann_Artist|First_Song", base / "Bob|Second", base / "Cat|Third"
    save_audio(song_a / "Voc/LV/LeadVox.wav", pattern([-3, -60, -3, -3]), SR)  # peak 1: 3 loud seconds
    save_audio(song_a / "Bass/DI/Bass.flac", sine(2.5, channels=2), SR)  # deeper folder, stereo flac
    save_audio(song_a / "Rhy/DK/Kick.wav", sine(1.0, 0.2, channels=2), SR)
    save_audio(song_b / "Voc/BV/BV1.flac", sine(1.5), SR)
    save_audio(song_b / "Gtr/EG/takes/day2/Gtr.wav", sine(2.0, 0.1, channels=2), SR)
    save_audio(song_b / "Synth/Pad.wav", sine(1.0), SR)
    (song_b / "Gtr/EG/Broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    save_audio(song_c / "Kbs/MTR/Tron.wav", sine(1.0), SR)
    save_audio(song_c / "Gtr/XX/Odd.wav", sine(1.0), SR)  # unknown code folder
    (song_c / "Misc").mkdir(parents=True)
    save_audio(song_c / "Misc/FX.flac", sine(1.0), SR)
    (song_c / "Misc/notes.txt").write_text("not audio")
    (song_c / "Misc/._FX.flac").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # macOS metadata, hidden
    (base / "Dan|Empty/Voc/LV").mkdir(parents=True)
    (base / ".cache").mkdir()
    return tmp_path / "data"


def test_find_root_with_and_without_the_rawstems_level(tree, tmp_path):
    assert find_root(tree) == tree / "RawStems"
    assert find_root(tree / "RawStems") == tree / "RawStems"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no song folders found"):
        find_root(tmp_path / "empty")
    with pytest.raises(ConfigError, match="no such folder"):
        find_root(tmp_path / "missing")


def test_scan_finds_songs_stems_and_reports_problems(tree):
    problems = []
    songs = scan(tree, problems)
    assert [s.id for s in songs] == ["RawStems/Ann_Artist|First_Song", "RawStems/Bob|Second", "RawStems/Cat|Third"]
    first = songs[0]
    assert (first.artist, first.title) == ("Ann_Artist", "First_Song")
    assert [(s.path.name, s.cls) for s in first.stems] == [("Bass.flac", "Bass"), ("Kick.wav", "Rhy_DK"),
                                                           ("LeadVox.wav", "Voc_LV")]  # fmt: skip
    assert {s.cls for s in songs[1].stems} == {"Voc_BV", "Gtr_EG", "Synth"}
    assert len(songs[1].stems) == 4  # the broken file is still a stem of the tree; reading it fails later
    assert [s.path.name for s in songs[2].stems] == ["Tron.wav", "FX.flac"]  # no .txt, no ._ file
    assert first.classes == {"Voc", "Voc_LV", "Bass", "Rhy", "Rhy_DK"}
    assert all(stem.song_id == song.id for song in songs for stem in song.stems)
    reasons = {p.path.name: p.reason for p in problems}
    assert "unknown code folder 'Gtr/XX'" in reasons["Odd.wav"]
    assert "no labelled audio" in reasons["Dan|Empty"]
    assert scan(tree / "RawStems")[0].id == songs[0].id
    assert song_path(tree, "RawStems/Bob|Second") == tree / "RawStems" / "Bob|Second"


def test_active_seconds_counts_loud_seconds_after_peak_normalisation():
    levels = [-3, -60, -39, -41, -20, None, -3, -45]  # RMS vs the loudest peak: active where > -40 dB
    audio = pattern(levels)
    assert active_seconds(audio, SR) == 4.0
    # Peak normalisation: the absolute level does not matter, only the level relative to the peak.
    assert active_seconds(audio * 1e-3, SR) == 4.0
    # Stereo: the mean square runs over both channels.
    assert active_seconds(np.concatenate([audio, audio]), SR) == 4.0
    assert active_seconds(np.zeros((1, SR * 3), np.float32), SR) == 0.0
    # A trailing half second counts with its own length.
    assert active_seconds(np.concatenate([audio, sine(0.5, 0.7)], axis=1), SR) == 4.5
    assert active_seconds(audio, SR, threshold_db=-50.0) == 6.0


def test_measure_stem_reads_in_blocks_like_the_whole_file(tree):
    path = tree / "RawStems/Ann_Artist|First_Song/Voc/LV/LeadVox.wav"
    whole = measure_stem(path, block_s=30)
    blocked = measure_stem(path, block_s=1)
    audio, sr = load_audio(path)
    assert whole == blocked
    assert whole == {"sample_rate": SR, "channels": 1, "frames": 4 * SR, "duration": 4.0,
                     "active_seconds": active_seconds(audio, sr)}  # fmt: skip
    assert whole["active_seconds"] == 3.0


@pytest.mark.parametrize("workers", [1, 2])
def test_index_writes_one_line_per_readable_stem(tree, tmp_path, workers):
    out = tmp_path / "out" / "manifest.jsonl"
    report = index(tree, out, workers=workers, progress=False)
    records = read_manifest(out)
    assert report.stems == len(records) == 8 and report.songs == 3
    skipped = {p.path.name for p in report.problems}
    assert skipped == {"Broken.wav", "Odd.wav", "Dan|Empty"}
    by_name = {Path(r["path"]).name: r for r in records}
    bass = by_name["Bass.flac"]
    assert bass["song"] == "RawStems/Ann_Artist|First_Song" and bass["class"] == "Bass"
    assert (bass["sample_rate"], bass["channels"], bass["frames"], bass["duration"]) == (SR, 2, int(2.5 * SR), 2.5)
    assert bass["active_seconds"] == 2.5
    assert by_name["LeadVox.wav"]["active_seconds"] == 3.0
    assert Path(bass["path"]).is_absolute() and Path(bass["path"]).exists()


def test_index_results_do_not_depend_on_workers(tree, tmp_path):
    index(tree, tmp_path / "a.jsonl", workers=1, progress=False)
    index(tree, tmp_path / "b.jsonl", workers=2, progress=False)
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_read_manifest_rejects_bad_lines(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"song": "RawStems/a|b"}\n')
    with pytest.raises(ConfigError, match="line 1 lacks field 'class'"):
        read_manifest(path)
    path.write_text("not json\n")
    with pytest.raises(ConfigError, match="line 1 is not JSON"):
        read_manifest(path)
    with pytest.raises(ConfigError, match="no such manifest"):
        read_manifest(tmp_path / "missing.jsonl")


def test_split_files_round_trip_in_the_released_format(tmp_path):
    path = write_split(tmp_path / "Voc_test.txt", ["RawStems/A|One", "B|Two"])
    assert path.read_text() == "RawStems/A|One\nRawStems/B|Two\n"
    assert read_split(path) == ["RawStems/A|One", "RawStems/B|Two"]
    # Released files seen in the wild omit the prefix or end lines with CRLF; both read the same.
    (tmp_path / "old.txt").write_bytes(b"A|One\r\n\r\nRawStems/B|Two\r\n")
    assert read_split(tmp_path / "old.txt") == ["RawStems/A|One", "RawStems/B|Two"]
    with pytest.raises(ConfigError, match="no such split file"):
        read_split(tmp_path / "missing.txt")


# Songs per class of the paper's released split (SPEC §4): (train, test).
RELEASED = {
    "Voc": (444, 49), "Voc_LV": (398, 44), "Voc_BV": (327, 36), "Voc_GRP": (49, 10), "Bass": (484, 53),
    "Gtr": (419, 46), "Gtr_EG": (373, 41), "Gtr_AG": (151, 16), "Rhy": (497, 55), "Rhy_DK": (489, 54),
    "Rhy_PERC": (214, 23), "Kbs": (251, 27), "Kbs_PN": (154, 17), "Kbs_EP": (60, 10), "Kbs_OR": (95, 10),
    "Kbs_MTR": (0, 8), "Orch": (157, 17), "Orch_STR": (99, 10), "Orch_BR": (52, 10), "Orch_WW": (45, 10),
    "Synth": (229, 25), "Misc": (197, 21), "MiscRoom": (2, 10), "Kbs_SYNTH": (0, 1),
}  # fmt: skip


def test_test_size_reproduces_every_released_count():
    for cls, (train, test) in RELEASED.items():
        assert n_test_songs(train + test) == test, cls


def synthetic_songs(counts, n_songs):
    """``n_songs`` in-memory songs; class c is in the first counts[c] of them."""
    songs = []
    for i in range(n_songs):
        sid = f"RawStems/Artist_{i:03d}|Song"
        stems = [Stem(Path(f"/nowhere/{i}/{c}.wav"), c, sid) for c, n in counts.items() if i < n]
        songs.append(Song(sid, f"Artist_{i:03d}", "Song", Path(f"/nowhere/{i}"), stems))
    return songs


COUNTS = {"Voc_LV": 150, "Voc_BV": 95, "Bass": 105, "Gtr_AG": 40, "Kbs_MTR": 8, "Gtr_EG": 209}


def test_split_sizes_are_max_10_or_10_percent():
    splits = make_split(synthetic_songs(COUNTS, 209), seed=0)
    expected_test = {"Voc_LV": 15, "Voc_BV": 10, "Voc": 15, "Bass": 10, "Gtr_AG": 10, "Gtr_EG": 20, "Gtr": 20,
                     "Kbs_MTR": 8, "Kbs": 8}  # fmt: skip
    assert {c: len(test) for c, (_, test) in splits.items()} == expected_test
    for cls, (train, test) in splits.items():
        members = {s.id for s in synthetic_songs(COUNTS, 209) if cls in s.classes}
        assert set(train) | set(test) == members and not set(train) & set(test)
        assert train == sorted(train) and test == sorted(test)
    assert splits["Kbs_MTR"][0] == []  # fewer than 10 songs: all of them are test songs


def test_split_is_deterministic_by_seed_and_independent_of_order_and_other_classes():
    songs = synthetic_songs(COUNTS, 209)
    a, b = make_split(songs, seed=0), make_split(list(reversed(songs)), seed=0)
    assert a == b
    c = make_split(songs, seed=1)
    assert a["Voc_LV"][1] != c["Voc_LV"][1]
    # Adding a class to some songs leaves the other classes' draws unchanged.
    more = synthetic_songs({**COUNTS, "Orch_WW": 30}, 209)
    d = make_split(more, seed=0)
    assert all(d[cls] == a[cls] for cls in a)
    with pytest.raises(ConfigError):
        make_split(songs, test_fraction=1.5)


def test_write_splits_writes_train_and_test_per_class(tmp_path):
    splits = make_split(synthetic_songs(COUNTS, 209), seed=0)
    written = write_splits(splits, tmp_path / "splits")
    assert len(written) == 2 * len(splits)
    assert read_split(tmp_path / "splits" / "Voc_LV_test.txt") == splits["Voc_LV"][1]
    assert (tmp_path / "splits" / "Kbs_MTR_train.txt").read_text() == ""
    assert oct(os.stat(written[0]).st_mode & 0o777) != "0o600"  # not mkstemp's private mode


def test_cli_index_and_split(tree, tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    assert main(["index", str(tree), "--out", str(manifest), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "indexed 8 stems of 3 songs" in captured.out
    assert "skipped" in captured.err and "Broken.wav" in captured.err
    assert len(manifest.read_text().splitlines()) == 8
    assert json.loads(manifest.read_text().splitlines()[0])["song"].startswith("RawStems/")

    assert main(["split", str(tree / "RawStems"), "--out", str(tmp_path / "sp"), "--seed", "3"]) == 0
    # Three songs: every class has fewer than 10, so every song is a test song.
    assert read_split(tmp_path / "sp" / "Voc_test.txt") == ["RawStems/Ann_Artist|First_Song", "RawStems/Bob|Second"]
    assert read_split(tmp_path / "sp" / "Voc_train.txt") == []

    assert main(["index", str(tmp_path / "sp"), "--out", str(manifest)]) == 2
    assert "no song folders found" in capsys.readouterr().err
