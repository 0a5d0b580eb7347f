"""The RawStems two-level instrument taxonomy (SPEC §4) and automatic labelling.

Class ids follow the paper's released split files: ``Group_Code`` for a
second-level class (``Voc_LV``, ``Gtr_EG``) and the group alone for a group
(``Voc``) or a group without codes (``Bass``, ``Synth``, ``Misc``, ``MiscRoom``).
On disk a class lives in the folder ``Group/Code`` (or ``Group``).

:func:`label_from_filename` is the paper's first labelling pass (§3.2): a stem
file name becomes a class id, or ``UNK`` whenever the name does not settle
the class, so that a person labels it instead of a wrong guess slipping through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

from stemrestore.errors import ConfigError

UNK = "UNK"


@dataclass(frozen=True)
class Group:
    """A first-level group: its folder/id ``code``, a human name and its second-level codes."""

    code: str
    name: str
    codes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StemClass:
    """One class id: a group (``code is None``) or one of its second-level codes."""

    id: str
    group: str
    code: str | None
    name: str


GROUPS: tuple[Group, ...] = (
    Group("Voc", "Vocals", (("LV", "lead vocal"), ("BV", "backing vocal"), ("GRP", "group vocals"))),
    Group("Rhy", "Rhythm section", (("DK", "drum kit"), ("PERC", "percussion"))),
    Group("Gtr", "Guitars", (("AG", "acoustic guitar"), ("EG", "electric guitar"))),
    Group(
        "Kbs",
        "Keyboards",
        (
            ("PN", "acoustic piano"),
            ("EP", "electric piano"),
            ("MTR", "mellotron"),
            ("OR", "organ"),
            ("SYNTH", "keyboard-played synthesizer"),
        ),
    ),
    Group("Orch", "Orchestra", (("STR", "strings"), ("BR", "brass"), ("WW", "woodwinds"))),
    Group("Synth", "Synthesizers"),
    Group("Bass", "Bass"),
    Group("Misc", "Misc (bells, effects, other)"),
    Group("MiscRoom", "Room microphones"),
)

_GROUP = {g.code: g for g in GROUPS}

CLASSES: tuple[StemClass, ...] = tuple(
    c
    for g in GROUPS
    for c in (
        StemClass(g.code, g.code, None, g.name),
        *(StemClass(f"{g.code}_{code}", g.code, code, f"{g.name}: {name}") for code, name in g.codes),
    )
)

_CLASS = {c.id: c for c in CLASSES}

#: Names accepted by :func:`validate_class` besides the ids themselves (compared
#: lower-case with spaces, dashes and slashes read as ``_``): the paper's model
#: names, its text's ``GV`` for the released ``GRP``, and common spellings.
ALIASES: dict[str, str] = {
    "vocals": "Voc", "vocal": "Voc", "vox": "Voc",
    "rhythm": "Rhy", "rhythm_section": "Rhy",
    "guitars": "Gtr", "guitar": "Gtr",
    "keyboards": "Kbs", "keyboard": "Kbs", "keys": "Kbs",
    "orchestra": "Orch",
    "synth": "Synth", "synths": "Synth", "synthesizers": "Synth",
    "room": "MiscRoom", "room_mics": "MiscRoom",
    "acoustic_guitar": "Gtr_AG", "guitars_acoustic": "Gtr_AG",
    "electric_guitar": "Gtr_EG", "guitars_electric": "Gtr_EG",
    "lead_vocals": "Voc_LV", "backing_vocals": "Voc_BV", "voc_gv": "Voc_GRP",
    "drums": "Rhy_DK", "percussion": "Rhy_PERC", "piano": "Kbs_PN", "organ": "Kbs_OR",
    "strings": "Orch_STR", "brass": "Orch_BR", "woodwinds": "Orch_WW",
}  # fmt: skip

#: Code folders spelled as in the paper's text rather than the released data.
_FOLDER_ALIASES = {("Voc", "gv"): "GRP"}

_LOOKUP = {**{c.id.lower(): c.id for c in CLASSES}, **ALIASES}


def class_ids() -> tuple[str, ...]:
    """Every valid class id, groups and second-level codes, in taxonomy order."""
    return tuple(_CLASS)


def leaf_ids() -> tuple[str, ...]:
    """The most specific classes (codes, and groups without codes): what a stem is labelled."""
    return tuple(c.id for c in CLASSES if c.code is not None or not _GROUP[c.group].codes)


def class_info(cls: str) -> StemClass:
    """The :class:`StemClass` of a (validated) class name."""
    return _CLASS[validate_class(cls)]


def validate_class(name: str) -> str:
    """Canonical class id of ``name`` (case-insensitive, aliases allowed) or :class:`ConfigError`."""
    key = re.sub(r"[\s/\-]+", "_", str(name).strip().lower())
    key = re.sub(r"_+", "_", key)
    if key in _LOOKUP:
        return _LOOKUP[key]
    raise ConfigError(f"unknown stem class '{name}' (valid: {', '.join(class_ids())})")


def group_of(cls: str) -> str:
    """First-level group id of a class (``Gtr_EG`` -> ``Gtr``, ``Bass`` -> ``Bass``)."""
    return class_info(cls).group


def class_folder(cls: str) -> str:
    """Folder of a class below a song folder: ``Voc_LV`` -> ``Voc/LV``, ``Bass`` -> ``Bass``."""
    info = class_info(cls)
    return info.group if info.code is None else f"{info.group}/{info.code}"


def class_from_folder(rel_parts: Sequence[str]) -> str:
    """Class of a stem from the folders between its song folder and the file.

    ``("Voc", "LV", "takes")`` -> ``Voc_LV``; ``("Bass", "DI")`` -> ``Bass`` (groups
    without codes may hold any subfolders); a file directly inside a group that has
    codes (``("Voc",)``) gets the group id. Unknown groups or codes raise
    :class:`ConfigError`. Folder names match case-insensitively.
    """
    if not rel_parts:
        raise ConfigError("file sits directly in the song folder, not in a class folder")
    groups = {g.code.lower(): g for g in GROUPS}
    group = groups.get(rel_parts[0].lower())
    if group is None:
        valid = ", ".join(g.code for g in GROUPS)
        raise ConfigError(f"unknown group folder '{rel_parts[0]}' (valid: {valid})")
    if not group.codes or len(rel_parts) == 1:
        return group.code
    codes = {code.lower(): code for code, _ in group.codes}
    code = codes.get(rel_parts[1].lower()) or _FOLDER_ALIASES.get((group.code, rel_parts[1].lower()))
    if not code:
        valid = ", ".join(c for c, _ in group.codes)
        raise ConfigError(f"unknown code folder '{group.code}/{rel_parts[1]}' (valid: {valid})")
    return f"{group.code}_{code}"


def matches(stem_class: str, target: str) -> bool:
    """True when ``stem_class`` is ``target`` or lies inside the group ``target``."""
    stem, goal = class_info(stem_class), class_info(target)
    if stem.id == goal.id:
        return True
    return goal.code is None and stem.group == goal.group


# --- automatic labelling from file names -------------------------------------------------------

# Each word maps to a tag: a class id, "UNK" (an instrument outside the
# taxonomy's clear cases, which forces UNK), "SAX" (woodwind, or brass inside a
# mixed horn section), a "+" modifier that picks a code inside a group already
# named by another word, or "" (a known word that says nothing about the class).
_VOCAB_TEXT = {
    "Voc": "vox vocal vocals voc vocs voice voices vx vcl singer adlib adlibs",
    "Voc_LV": "lv leadvox rap raps",
    "Voc_BV": "bv bvs bgv bgvs bvox backing backup bkg bckg bkgd harmony harmonies harm harms "
    "oohs aahs ooh aah",
    "Voc_GRP": "choir choirs gv",
    "+LV": "lead ld main",
    "+GRP": "gang group crowd",
    "Rhy_DK": "kick kik kck bd snare snr sn sd tom toms floortom rack hihat hh hat hats oh ovh ovhd "
    "ohd overhead overheads oheads ride crash cymbal cymbals cym cymb china drum drums drm drms "
    "kit drumkit",
    "Rhy_PERC": "perc percs percussion shaker shakers shkr tamb tambo tambourine conga congas bongo "
    "bongos cowbell cabasa guiro timbale timbales triangle woodblock claves clave djembe cajon "
    "maraca maracas tabla agogo clap claps handclap handclaps snap snaps fingersnaps stomp "
    "stomps castanets udu surdo cuica",
    "Gtr": "gtr gtrs guitar guitars guit gtar",
    "Gtr_AG": "ag agtr acgtr",
    "Gtr_EG": "eg egtr strat tele",
    "+AC": "acoustic ac acc acous acoust nylon steel classical",
    "+EL": "electric elec el e dist distorted crunch fuzz od overdrive amp cab",
    "Bass": "bass bs bassgtr",
    "Kbs": "keys keyboard keyboards kbd kbds kybd clav clavinet",
    "Kbs_PN": "piano pianos pno pn grand",
    "Kbs_EP": "rhodes wurli wurly wurlitzer ep epiano epno",
    "Kbs_OR": "organ organs org hammond b3 leslie farfisa harmonium",
    "Kbs_MTR": "mellotron mellotrons tron",
    "Orch_STR": "strings string str strs stgs stg violin violins vln vl viola violas vla cello "
    "cellos celli vc vlc fiddle fiddles pizz",
    "Orch_BR": "brass horn horns trumpet trumpets tpt trp tp trombone trombones tbn trb tuba "
    "flugel flugelhorn cornet",
    "Orch_WW": "woodwind woodwinds ww flute flutes fl piccolo clarinet clarinets clar clt oboe "
    "bassoon recorder pennywhistle",
    "SAX": "sax saxes saxophone saxophones",
    "Synth": "synth synths synthesizer synthesiser syn synt pad pads juno prophet jupiter",
    "Misc": "fx sfx efx effect effects noise riser risers sweep sweeps impact impacts whoosh bell "
    "bells glock glockenspiel chimes chime foley",
    "MiscRoom": "room rooms ambience amb ambient",
    UNK: "banjo mandolin mando ukulele ukelele uke harp accordion harmonica sitar vibes vibraphone "
    "marimba xylophone theremin talkbox vocoder kalimba dulcimer bouzouki bazouki steelpan "
    "melodica celesta celeste harpsichord timpani timps dobro bagpipes autoharp click metronome "
    "guide mix master reference ref pedalsteel lapsteel steeldrum steeldrums toy digital",
    "": "l r left right lt rt mono st stereo in out top bottom bot btm up dn down under side front "
    "back mic mics di line direct close far near hi lo low high mid comp dbl double doubled dub "
    "take tk edit print bounce section sec solo verse chorus intro outro bridge part alt upright "
    "french tenor alto bari baritone soprano sub moog arp loop hand sleigh pedal lap talk box "
    "tubular electron electronic original orig track audio",
}

_VOCAB = {word: tag for tag, words in _VOCAB_TEXT.items() for word in words.split()}

# Short words are too easily found inside unrelated names ("tron" in
# "electron"), so splitting a glued name may only use these short pieces.
_SHORT_PIECES = {"l", "r", "in", "up", "dn", "di", "hi", "lo", "ac", "el", "oh", "hh", "bd", "sn", "bv", "lv"}
_PIECES = {w for w in _VOCAB if len(w) >= 3 and w not in {"tron", "org"}} | _SHORT_PIECES

_PHRASES = {
    ("bass", "drum"): "kick", ("hand", "drum"): "perc", ("hand", "drums"): "perc",
    ("sleigh", "bell"): "perc", ("sleigh", "bells"): "perc", ("pedal", "steel"): "pedalsteel",
    ("lap", "steel"): "lapsteel", ("talk", "box"): "talkbox", ("12", "string"): "gtr",
    ("steel", "drum"): "steelpan", ("steel", "drums"): "steelpan",
}  # fmt: skip

#: Codes a "+" modifier selects inside a group.
_MODIFIERS = {
    "Voc": {"+LV": "Voc_LV", "+GRP": "Voc_GRP"},
    "Gtr": {"+AC": "Gtr_AG", "+EL": "Gtr_EG"},
}


def label_from_filename(name: str, *, partial: bool = False) -> str:
    """Class id of a stem from its file name, or ``UNK`` when the name does not settle it.

    ``Kick In.wav`` -> ``Rhy_DK``, ``LeadVox_Comp.flac`` -> ``Voc_LV``,
    ``SynthBass.wav`` -> ``Bass``, ``Gtr 2.wav`` -> ``UNK`` (acoustic or electric?).
    With ``partial=True`` a name whose group is certain but whose code is not
    gives the group (``Gtr 2.wav`` -> ``Gtr``).
    """
    words = _apply_phrases(_words(name))
    return _resolve([_VOCAB[w] for w in words if _VOCAB.get(w)], partial)


def _words(name: str) -> list[str]:
    stem = PurePath(name).name
    if re.search(r"\.[A-Za-z0-9]{2,4}$", stem):
        stem = stem.rsplit(".", 1)[0]
    words: list[str] = []
    for chunk in re.split(r"[^0-9A-Za-z]+", stem):
        if chunk:
            words.extend(_split_chunk(chunk))
    return words


def _known(word: str) -> str | None:
    """``word`` itself or its singular, if the vocabulary knows it."""
    if word in _VOCAB:
        return word
    if word.endswith("s") and word[:-1] in _VOCAB:
        return word[:-1]
    return None


def _split_chunk(chunk: str) -> list[str]:
    low = chunk.lower()
    known = _known(low)
    if known:
        return [known]
    runs = re.findall(r"[A-Za-z]+|[0-9]+", chunk)
    if len(runs) > 1:
        return [w for run in runs for w in _split_chunk(run)]
    camel = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+", chunk)
    if len(camel) > 1:
        return [w for part in camel for w in _split_chunk(part)]
    return list(_segment(low) or [low])


@lru_cache(maxsize=4096)
def _segment(word: str) -> tuple[str, ...] | None:
    """Split a glued word ("kickin", "leadvox") into the fewest known pieces, or None."""
    best: list[tuple[str, ...] | None] = [()] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            head, piece = best[start], word[start:end]
            if head is not None and piece in _PIECES:
                candidate = head + (piece,)
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
    return best[-1]


def _apply_phrases(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        pair = tuple(words[i : i + 2])
        if pair in _PHRASES:
            out.append(_PHRASES[pair])  # type: ignore[index]
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out


def _resolve(tags: list[str], partial: bool) -> str:
    if not tags or UNK in tags:
        return UNK
    if "Kbs_MTR" in tags:  # every mellotron is Kbs_MTR, whatever it imitates
        return "Kbs_MTR"
    mods = {t for t in tags if t.startswith("+")}
    classes = {t for t in tags if not t.startswith("+")}
    if "SAX" in classes:  # a mixed horn section (trumpets and saxophones) is brass
        classes.discard("SAX")
        classes.add("Orch_BR" if "Orch_BR" in classes else "Orch_WW")
    groups = {_CLASS[c].group for c in classes}
    if "Bass" in classes:
        if groups & {"Voc", "Orch"}:  # "bass" names a register: bass clarinet, bass vox
            classes.discard("Bass")
        else:  # every synth bass is Bass; a bass guitar is Bass
            classes = {c for c in classes if _CLASS[c].group not in ("Synth", "Gtr")}
    if "Synth" in classes:  # synth strings / synth brass are synthesizers
        classes = {c for c in classes if _CLASS[c].group != "Orch"}
    if "MiscRoom" in classes and (len(classes) > 1 or mods):
        # "Drum Room", "Piano Room", "Amp Room": a room mic of that instrument
        classes.discard("MiscRoom")
    groups = {_CLASS[c].group for c in classes}
    if len(groups) != 1:
        return UNK
    group = groups.pop()
    codes = {c for c in classes if c != group}
    if group == "Kbs" and "+EL" in mods and "Kbs_PN" in codes:  # "E Piano", "Electric Piano"
        codes = (codes - {"Kbs_PN"}) | {"Kbs_EP"}
    codes |= {code for mod, code in _MODIFIERS.get(group, {}).items() if mod in mods}
    if len(codes) == 1:
        return codes.pop()
    if not codes and not _GROUP[group].codes:
        return group
    return group if partial else UNK
