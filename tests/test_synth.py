"""Synthetic corpus: determinism, layout, levels, rests, pitch, and the character of the stems."""

from __future__ import annotations

import json

import librosa
import numpy as np
import pytest

from stemrestore.audio import load_audio
from stemrestore.cli import main
from stemrestore.data.synth import (
    CLASS_IDS,
    class_folder,
    generate_corpus,
    plan_song,
    render_plan,
    render_song,
    song_folder_name,
    song_seed,
    stem_names,
)
from stemrestore.data.synth.catalog import CLASSES
from stemrestore.data.synth.music import PEAK_DB_RANGE
from stemrestore.data.synth.patterns import Note
from stemrestore.data.synth.procedural import render_notes
from stemrestore.data.synth.render import REGION_LEAD, REGION_TAIL
from stemrestore.data.synth.soundfont import SoundFontRenderer
from stemrestore.data.synth.strings import midi_to_hz
from stemrestore.data.synth.voice import VOWEL_ORDER, VOWELS, Voice
from stemrestore.errors import ConfigError

SR = 22050  # half rate keeps the tests fast; the synthesis is rate-independent
RENDERERS = ("soundfont", "procedural")


@pytest.fixture(scope="module", params=RENDERERS)
def rendered(request):
    """A few short songs per renderer, with their plans."""
    songs = []
    for index in range(3):
        plan = plan_song(song_seed(11, index), 6.0)
        songs.append((plan, render_plan(plan, SR, request.param)))
    return request.param, songs


def _db(x: np.ndarray) -> float:
    return 20.0 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-20)


@pytest.mark.parametrize("renderer", RENDERERS)
def test_same_seed_same_audio_and_different_seed_differs(renderer):
    a = render_song(123, 3.0, SR, renderer)
    b = render_song(123, 3.0, SR, renderer)
    assert a.keys() == b.keys()
    for cid in a:
        for (name_a, x), (name_b, y) in zip(a[cid], b[cid]):
            assert name_a == name_b and np.array_equal(x, y)
    c = render_song(124, 3.0, SR, renderer)
    assert a.keys() != c.keys() or any(not np.array_equal(x[1], y[1]) for k in a for x, y in zip(a[k], c[k]))


def test_soundfont_render_does_not_depend_on_what_was_rendered_before():
    font = SoundFontRenderer(SR)
    notes = [Note(0.1, 0.5, 60, 100), Note(0.4, 0.8, 64, 90)]
    first = font.render(notes, 0, SR)
    font.render([Note(0.0, 2.0, 40, 127)] * 3, 48, SR, channels=2, width=1.0)
    assert np.array_equal(first, font.render(notes, 0, SR))


def test_stems_are_finite_in_range_audible_and_at_planned_peak(rendered):
    _, songs = rendered
    for plan, stems in songs:
        for part in plan.parts:
            files = stems[part.class_id]
            assert [name for name, _ in files] == [s.name + ".wav" for s in part.stems]
            pair = [20 * np.log10(np.max(np.abs(a))) for (_, a), s in zip(files, part.stems)
                    if s.take in ("left", "right")]
            for (name, audio), stem in zip(files, part.stems):
                assert audio.dtype == np.float32 and audio.shape == (stem.channels, int(6.0 * SR))
                assert np.isfinite(audio).all()
                peak = 20 * np.log10(np.max(np.abs(audio)))
                # a stereo pair (Piano L / Piano R) shares one gain: its louder side is at the planned peak
                expected = max(pair) if stem.take in ("left", "right") else peak
                assert PEAK_DB_RANGE[0] - 0.01 <= expected <= PEAK_DB_RANGE[1] + 0.01, name
                assert expected == pytest.approx(stem.peak_db, abs=0.01)
                assert _db(audio) > -50.0, name


def test_parts_are_silent_where_they_rest_and_play_where_they_play():
    checked = 0
    for index in range(40):
        plan = plan_song(song_seed(3, index), 12.0)
        gapped = [p for p in plan.parts if len(p.active) == 2 and p.active[1][0] - p.active[0][1] > 2.5]
        if not gapped:
            continue
        stems = render_plan(plan, SR, "procedural" if checked % 2 else "soundfont")
        for part in gapped:
            (_, end), (start, _) = part.active
            rest = slice(int((end + REGION_TAIL + 0.05) * SR), int((start - REGION_LEAD - 0.05) * SR))
            for name, audio in stems[part.class_id]:
                assert rest.stop - rest.start > SR // 4
                assert np.max(np.abs(audio[:, rest])) == 0.0, name
                playing = audio[:, int(part.active[0][0] * SR): int(end * SR)]
                assert _db(playing) > -45.0, name
            checked += 1
        if checked >= 4:
            break
    assert checked >= 4


def test_each_song_has_four_to_nine_classes_and_every_class_occurs():
    seen = set()
    for index in range(80):
        plan = plan_song(song_seed(0, index), 10.0)
        ids = [p.class_id for p in plan.parts]
        assert 4 <= len(ids) <= 9 and len(set(ids)) == len(ids)
        seen.update(ids)
    assert seen == set(CLASS_IDS)
    restricted = plan_song(5, 10.0, classes=["Bass", "Rhy_DK"])
    assert {p.class_id for p in restricted.parts} == {"Bass", "Rhy_DK"}


def test_parts_share_tempo_key_chords_and_are_humanised():
    plan = plan_song(7, 20.0)
    beat = 60.0 / plan.tempo
    chord_times = [t for t, _ in plan.chords]
    assert np.allclose(np.diff(chord_times), np.diff(chord_times)[0])  # one harmonic rhythm for all parts
    for part in plan.parts:
        if part.style in ("strum", "power"):
            continue  # strummed strings are staggered on purpose
        starts = np.array([n.start for perf in part.performances for n in perf])
        off_grid = (starts / (beat / 4) - np.round(starts / (beat / 4))) * beat / 4
        # every note is near a sixteenth (strums are staggered a little more), but not exactly on it
        assert np.median(np.abs(off_grid)) < 0.03
        assert np.std(off_grid) > 0.0005
        velocities = [n.velocity for perf in part.performances for n in perf]
        assert len(set(velocities)) > 3


def test_corpus_layout_on_disk_json_and_extension(tmp_path):
    small = generate_corpus(tmp_path, 1, 3.0, seed=9, sr=SR, progress=False)
    first = {p.relative_to(tmp_path): p.read_bytes() for p in small[0].rglob("*") if p.is_file()}
    folders = generate_corpus(tmp_path, 2, 3.0, seed=9, sr=SR, progress=False)
    assert [f.name for f in folders] == [song_folder_name(0), song_folder_name(1)]
    assert {p.relative_to(tmp_path): p.read_bytes() for p in folders[0].rglob("*") if p.is_file()} == first
    for folder in folders:
        assert folder.parent == tmp_path / "RawStems" and "|" in folder.name
        meta = json.loads((folder / "song.json").read_text())
        assert {"seed", "tempo", "key", "chords", "classes", "renderer"} <= meta.keys()
        assert meta["renderer"] == "soundfont" and 4 <= len(meta["classes"]) <= 9
        stems = render_song(meta["seed"], 3.0, SR, "soundfont")
        for cid in meta["classes"]:
            group_and_code = class_folder(cid).split("/")
            assert len(group_and_code) == (1 if cid in ("Bass", "Synth") else 2)
            for name, audio in stems[cid]:
                path = folder.joinpath(*group_and_code, name)
                assert path.stem in stem_names(cid)
                disk, rate = load_audio(path)
                assert rate == SR and disk.shape == audio.shape
                assert np.max(np.abs(disk - audio)) < 2.0 ** -22  # 24-bit PCM
        wavs = {p.relative_to(folder).parts[:-1] for p in folder.rglob("*.wav")}
        assert wavs == {tuple(class_folder(c).split("/")) for c in meta["classes"]}
    with pytest.raises(ConfigError, match="different synthetic song"):
        generate_corpus(tmp_path, 1, 3.0, seed=10, sr=SR, progress=False)


def test_worker_processes_write_the_same_files(tmp_path):
    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    serial = generate_corpus(tmp_path / "serial", 3, 2.0, seed=4, sr=SR, progress=False)
    parallel = generate_corpus(tmp_path / "parallel", 3, 2.0, seed=4, sr=SR, progress=False, workers=2)
    assert [f.name for f in parallel] == [f.name for f in serial]
    written = files(tmp_path / "serial")
    assert sum(p.suffix == ".wav" for p in written) >= 12 and files(tmp_path / "parallel") == written


def test_mono_and_stereo_stems_both_occur_and_drum_kits_have_per_piece_mics():
    channels, drum_names = set(), set()
    for index in range(30):
        for part in plan_song(song_seed(2, index), 10.0).parts:
            channels.update(s.channels for s in part.stems)
            if part.class_id == "Rhy_DK":
                drum_names.update(s.name for s in part.stems)
                assert len(part.stems) >= 4
    assert channels == {1, 2}
    assert {"Kick In", "Snare Top", "OH L", "OH R"} <= drum_names


@pytest.mark.parametrize("patch,pitch", [("electric_bass", 33), ("electric_bass", 45), ("steel_guitar", 52),
                                         ("clean_guitar", 64), ("nylon_guitar", 71)])
def test_procedural_string_notes_are_in_tune(patch, pitch):
    audio = render_notes(patch, [Note(0.0, 1.5, pitch, 100)], int(1.5 * SR), SR, seed=pitch)[0]
    f0, voiced, _ = librosa.pyin(audio[int(0.1 * SR): int(1.2 * SR)], fmin=30.0, fmax=1000.0, sr=SR,
                                 frame_length=4096)
    cents = 1200.0 * np.log2(np.nanmedian(f0[voiced]) / midi_to_hz(pitch))
    assert abs(cents) < 20.0


def _peak_to_median_db(audio: np.ndarray) -> float:
    """Loudest short-time RMS over the median one, over the sounding frames: high for hits, low for pads."""
    rms = librosa.feature.rms(y=audio.mean(axis=0), frame_length=512, hop_length=256)[0]
    rms = rms[rms > 0]
    return float(20 * np.log10(rms.max() / np.median(rms)))


def _centroid(x: np.ndarray) -> float:
    """Energy-weighted spectral centroid of a whole signal, in Hz."""
    power = np.abs(np.fft.rfft(x)) ** 2
    return float(np.sum(np.fft.rfftfreq(len(x), 1 / SR) * power) / np.sum(power))


@pytest.mark.parametrize("renderer", RENDERERS)
def test_drum_stems_are_percussive_sustained_parts_are_not_and_mics_hear_their_drum(renderer):
    plan = plan_song(5, 8.0, classes=["Rhy_DK", "Orch_STR", "Kbs_OR", "Synth"])
    stems = render_plan(plan, SR, renderer)
    drums = dict(stems["Rhy_DK"])
    assert len(drums) >= 4
    for name, audio in drums.items():
        assert _peak_to_median_db(audio) > 12.0, name
    for name, audio in stems["Kbs_OR"] + stems["Orch_STR"]:
        assert _peak_to_median_db(audio) < 10.0, name
    kick = next(a for n, a in drums.items() if n.startswith(("Kick", "BD")))[0]
    hat = next(a for n, a in drums.items() if n.startswith(("Hi-Hat", "HH", "Hats")))[0]
    assert _centroid(kick) * 3 < _centroid(hat)


def test_procedural_voice_is_sung_at_pitch_with_the_vowels_formants():
    sr = 11025  # the formants of interest lie below 3.5 kHz, where LPC is clean at a low rate
    f0 = midi_to_hz(50)
    for vowel in ("a", "i", "u"):
        rng = np.random.default_rng(1)
        singer = Voice(rng)
        audio = singer.note(f0, sr, sr, rng, VOWEL_ORDER.index(vowel)).astype(np.float64)
        body = audio[int(0.3 * sr): int(0.9 * sr)]
        sung, voiced, _ = librosa.pyin(body, fmin=60.0, fmax=400.0, sr=sr, frame_length=1024)
        assert np.mean(voiced) > 0.8
        assert abs(1200.0 * np.log2(np.nanmedian(sung[voiced]) / f0)) < 30.0
        a = librosa.lpc(body * np.hamming(len(body)), order=12)
        poles = [z for z in np.roots(a) if z.imag > 0 and abs(z) > 0.9]
        found = np.array(sorted(np.angle(poles) * sr / (2.0 * np.pi)))
        for expected in VOWELS[vowel][0][:2]:
            expected *= singer.scale
            assert np.min(np.abs(found - expected)) / expected < 0.15, (vowel, expected, found)


def test_soundfont_output_is_dry_no_reverb_tail():
    font = SoundFontRenderer(SR)
    programs = {p for spec in CLASSES if spec.class_id not in ("Rhy_DK", "Rhy_PERC")
                for v in spec.variants for p in v.programs}
    for program in sorted(programs):
        audio = font.render([Note(0.1, 0.3, 60, 110)], program, 5 * SR)[0]
        assert _db(audio[: int(0.5 * SR)]) > -45.0, program
        # only the samples' own release follows note-off: digital silence within 4 s (a reverb
        # tail, 0.1-0.5 wet, would still be ringing)
        assert np.max(np.abs(audio[int(4.4 * SR):])) == 0.0, program


def test_bad_settings_and_soundfonts_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(ConfigError, match="no such soundfont"):
        SoundFontRenderer(SR, tmp_path / "missing.sf2")
    (tmp_path / "bad.sf2").write_bytes(b"RIFF not a soundfont")
    with pytest.raises(ConfigError, match="not a readable SoundFont"):
        SoundFontRenderer(SR, tmp_path / "bad.sf2")
    for kwargs, field in (({"n_songs": 0}, "songs"), ({"seconds": 0.2}, "seconds"), ({"seed": -1}, "seed"),
                          ({"renderer": "fm"}, "renderer"), ({"classes": ["Voc_XX"]}, "classes"),
                          ({"workers": 0}, "workers")):
        settings = {"n_songs": 1, "seconds": 2.0, "seed": 0, **kwargs}
        with pytest.raises(ConfigError, match=f"^{field}:"):
            generate_corpus(tmp_path, progress=False, **settings)
    assert main(["synth", "--out", str(tmp_path), "--classes", "Bass,Nope", "--quiet"]) == 2
    assert "Nope" in capsys.readouterr().err


def test_cli_writes_a_corpus(tmp_path):
    code = main(["synth", "--out", str(tmp_path), "--songs", "1", "--seconds", "2", "--seed", "3",
                 "--renderer", "procedural", "--sr", str(SR), "--quiet"])
    assert code == 0
    meta = json.loads((tmp_path / "RawStems" / song_folder_name(0) / "song.json").read_text())
    assert meta["renderer"] == "procedural" and meta["corpus_seed"] == 3 and meta["sr"] == SR
