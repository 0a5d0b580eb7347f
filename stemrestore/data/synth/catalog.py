"""What each stem class sounds like and how its files are named.

A class has one or more *variants* (an electric bass or a synth bass, a string
section or a solo violin); a variant fixes the playing styles, the General-MIDI
programs for the sample-based renderer, the procedural patch and the stem
*layouts*: the files a recording engineer would deliver for it, with realistic
names (a labeller that works from file names is tested against them).

A stem's *take* says how its file relates to the part's performance:
``main`` (the performance itself), ``double`` (a second, separately played
performance of the same notes), ``left``/``right`` (one channel of a stereo
pair), ``amp`` (the same performance through an amplifier), ``harm0..2``
(backing-vocal lines), ``mic:<name>`` (a drum microphone) and ``perc:<name>``
(a percussion instrument).
"""

from __future__ import annotations

from dataclasses import dataclass

from stemrestore.taxonomy import class_folder

#: (file name without extension, channels, take)
Stem = tuple[str, int, str]


@dataclass(frozen=True)
class Variant:
    """One way of playing a class; ``programs`` empty = procedural in every renderer."""

    weight: float
    styles: tuple[str, ...]
    programs: tuple[int, ...]
    patch: str
    register: tuple[int, int]
    layouts: tuple[tuple[Stem, ...], ...]


@dataclass(frozen=True)
class ClassSpec:
    """A stem class: its RawStems folder, how common it is, and its variants."""

    class_id: str
    weight: float
    variants: tuple[Variant, ...]

    @property
    def folder(self) -> str:
        return class_folder(self.class_id)


def _mono(*names: str) -> tuple[tuple[Stem, ...], ...]:
    return tuple(((n, 1, "main"),) for n in names)


def _stereo(*names: str) -> tuple[tuple[Stem, ...], ...]:
    return tuple(((n, 2, "main"),) for n in names)


_DRUM_LAYOUTS: tuple[tuple[Stem, ...], ...] = (
    (("Kick In", 1, "mic:kick_in"), ("Snare Top", 1, "mic:snare_top"), ("Hi-Hat", 1, "mic:hihat"),
     ("Tom 1", 1, "mic:tom_hi"), ("Floor Tom", 1, "mic:tom_floor"), ("OH L", 1, "mic:oh_l"),
     ("OH R", 1, "mic:oh_r")),
    (("Kick", 1, "mic:kick_in"), ("Snare", 1, "mic:snare_top"), ("Hats", 1, "mic:hihat"),
     ("Rack Tom", 1, "mic:tom_hi"), ("Floor Tom", 1, "mic:tom_floor"), ("Overheads", 2, "mic:oh")),
    (("Kick In", 1, "mic:kick_in"), ("Kick Out", 1, "mic:kick_out"), ("Snare Top", 1, "mic:snare_top"),
     ("Snare Bottom", 1, "mic:snare_bottom"), ("Hi-Hat", 1, "mic:hihat"), ("Tom 1", 1, "mic:tom_hi"),
     ("Tom 2", 1, "mic:tom_mid"), ("Floor Tom", 1, "mic:tom_floor"), ("OH L", 1, "mic:oh_l"),
     ("OH R", 1, "mic:oh_r")),
    (("BD", 1, "mic:kick_in"), ("SN Top", 1, "mic:snare_top"), ("HH", 1, "mic:hihat"),
     ("Tom 1", 1, "mic:tom_hi"), ("Tom 3", 1, "mic:tom_floor"), ("Overhead L", 1, "mic:oh_l"),
     ("Overhead R", 1, "mic:oh_r")),
    (("Kick In", 1, "mic:kick_in"), ("Snare Top", 1, "mic:snare_top"),
     ("Snare Bottom", 1, "mic:snare_bottom"), ("Overheads", 2, "mic:oh")),
)

#: Percussion stems: file name -> instrument id understood by both renderers.
PERCUSSION = {
    "Shaker": "shaker",
    "Tambourine": "tambourine",
    "Congas": "congas",
    "Bongos": "bongos",
    "Cowbell": "cowbell",
    "Claps": "claps",
}

_PERC_LAYOUTS: tuple[tuple[Stem, ...], ...] = tuple(
    tuple((name, 1, f"perc:{PERCUSSION[name]}") for name in names)
    for names in (("Shaker",), ("Tambourine",), ("Congas",), ("Shaker", "Tambourine"), ("Congas", "Bongos"),
                  ("Cowbell", "Shaker"), ("Claps", "Tambourine"), ("Congas", "Shaker", "Tambourine"))
)

_V = Variant
CLASSES: tuple[ClassSpec, ...] = (
    ClassSpec("Voc_LV", 398, (
        _V(3, ("lead",), (), "voice", (52, 74), (
            (("Lead Vox", 1, "main"),), (("Lead Vocal", 1, "main"),), (("LeadVox", 1, "main"),),
            (("Vox Lead", 1, "main"), ("Vox Lead Dbl", 1, "double")),
            (("Main Vocal", 1, "main"), ("Main Vocal Double", 1, "double")))),
        _V(1, ("lead",), (53,), "voice", (55, 74), ((("Lead Vox", 1, "main"),), (("Lead Vocal", 1, "main"),))),
    )),
    ClassSpec("Voc_BV", 327, (
        _V(1, ("harmony", "pad"), (52, 53), "voice", (55, 76), (
            (("BV 1", 1, "harm0"), ("BV 2", 1, "harm1")), (("Backing Vox", 1, "harm0"),),
            (("BVs High", 1, "harm0"), ("BVs Low", 1, "harm1")), (("Harmony Vox", 1, "harm0"),),
            (("BV1", 1, "harm0"), ("BV2", 1, "harm1"), ("BV3", 1, "harm2")),
            (("Backing Vocals L", 1, "harm0"), ("Backing Vocals R", 1, "harm1")))),
        _V(1, ("harmony", "pad"), (), "voice", (55, 76), (
            (("BV 1", 1, "harm0"), ("BV 2", 1, "harm1")), (("Backing Vox", 1, "harm0"),),
            (("Harmony Vocal", 1, "harm0"),))),
    )),
    ClassSpec("Gtr_AG", 151, (
        _V(2, ("strum", "arp"), (25,), "steel_guitar", (40, 76), (
            _mono("Acoustic Gtr", "AcGtr", "Ac Gtr Mic")
            + _stereo("Acoustic Gtr")
            + ((("Acoustic Guitar L", 1, "main"), ("Acoustic Guitar R", 1, "double")),))),
        _V(1, ("arp", "strum"), (24,), "nylon_guitar", (40, 76), _mono("Nylon Gtr", "Classical Guitar", "AcGtr")),
    )),
    ClassSpec("Gtr_EG", 373, (
        _V(2, ("strum", "arp", "lead"), (26, 27), "clean_guitar", (40, 84), (
            _mono("Electric Gtr", "EGtr Clean", "EGtr", "Elec Gtr")
            + ((("Elec Gtr L", 1, "main"), ("Elec Gtr R", 1, "double")),))),
        _V(1, ("muted8",), (28,), "muted_guitar", (40, 64), _mono("Elec Gtr Rhythm", "Electric Gtr Muted")),
        _V(2, ("power", "lead"), (29, 30), "drive_guitar", (40, 84), (
            _mono("Dist Gtr", "Electric Gtr", "Gtr Crunch")
            + ((("Electric Guitar 1", 1, "main"), ("Electric Guitar 2", 1, "double")),
               (("Electric Rhythm Gtr L", 1, "main"), ("Electric Rhythm Gtr R", 1, "double"))))),
    )),
    ClassSpec("Kbs_PN", 154, (
        _V(1, ("block", "arp", "ballad"), (0, 1), "piano", (36, 88), (
            _stereo("Piano", "Grand Piano") + _mono("Piano")
            + ((("Piano L", 1, "left"), ("Piano R", 1, "right")),))),
    )),
    ClassSpec("Kbs_EP", 60, (
        _V(1, ("block", "arp", "pad"), (4, 5), "electric_piano", (45, 84), (
            _stereo("Rhodes", "Electric Piano") + _mono("Wurli", "EP", "Keys Rhodes"))),
    )),
    ClassSpec("Kbs_OR", 95, (
        _V(1, ("pad", "block"), (16, 17, 18), "organ", (43, 84), (
            _stereo("Organ", "Hammond") + _mono("Hammond B3", "Organ")
            + ((("Organ L", 1, "left"), ("Organ R", 1, "right")),))),
    )),
    ClassSpec("Synth", 229, (
        _V(1, ("lead",), (80, 81, 84), "synth_lead", (55, 84), _stereo("Synth Lead") + _mono("Lead Synth")),
        _V(1, ("pad",), (88, 89, 90, 94), "synth_pad", (48, 84), _stereo("Synth Pad", "Pad", "Synth Strings")),
        _V(1, ("arp",), (80, 81, 90), "synth_pluck", (48, 88), _stereo("Synth Arp", "Arp Synth", "Synth")),
    )),
    ClassSpec("Bass", 484, (
        _V(3, ("bass",), (33, 34, 32, 35), "electric_bass", (28, 55), (
            _mono("Bass DI", "Bass", "Bass Gtr") + ((("Bass DI", 1, "main"), ("Bass Amp", 1, "amp")),))),
        _V(1, ("bass",), (38, 39), "synth_bass", (28, 55), _mono("Synth Bass", "Bass Synth", "Sub Bass")),
    )),
    ClassSpec("Rhy_DK", 489, (
        _V(1, ("drums",), (0, 32), "drums", (35, 59), _DRUM_LAYOUTS),
    )),
    ClassSpec("Rhy_PERC", 214, (
        _V(1, ("perc",), (0,), "percussion", (35, 82), _PERC_LAYOUTS),
    )),
    ClassSpec("Orch_STR", 99, (
        _V(3, ("pad",), (48, 49), "strings", (43, 84), _stereo("Strings", "String Section", "Str Ensemble")),
        _V(1, ("lead", "line"), (40,), "violin", (55, 88), _mono("Violin", "Violin 1")),
        _V(1, ("line", "bass"), (42,), "cello", (36, 64), _mono("Cello", "Celli")),
    )),
    ClassSpec("Orch_BR", 52, (
        _V(2, ("stabs", "pad"), (61,), "brass_section", (48, 79), _stereo("Brass", "Horn Section") + _mono("Horns")),
        _V(1, ("lead", "line"), (56,), "trumpet", (55, 82), _mono("Trumpet", "Tpt")),
        _V(1, ("line",), (57, 60), "trombone", (40, 70), _mono("Trombone", "French Horn", "Trombones")),
    )),
)

CLASS_IDS: tuple[str, ...] = tuple(c.class_id for c in CLASSES)
_BY_ID = {c.class_id: c for c in CLASSES}


def class_spec(class_id: str) -> ClassSpec:
    """The spec of ``class_id`` (KeyError when unknown; callers validate first)."""
    return _BY_ID[class_id]


def stem_names(class_id: str) -> set[str]:
    """Every file name (without extension) the generator may give a stem of ``class_id``."""
    return {stem[0] for v in _BY_ID[class_id].variants for layout in v.layouts for stem in layout}
