"""Automatic labelling from stem file names (paper §3.2, step 1) on realistic multitrack names."""

import pytest

from stemrestore.taxonomy import UNK, class_ids, label_from_filename

# File names as they appear in multitrack sessions (Mixing Secrets style: track numbers,
# CamelCase, abbreviations, mic positions, L/R, takes) and the class a careful person gives them.
# UNK marks names that do not settle the class: a guess there could be wrong.
TABLE = [
    # drum kit
    ("Kick In.wav", "Rhy_DK"), ("01_KickOut.wav", "Rhy_DK"), ("KICKIN.wav", "Rhy_DK"), ("Kik Sub.flac", "Rhy_DK"),
    ("02_SnareUp.wav", "Rhy_DK"), ("Snare Bottom.wav", "Rhy_DK"), ("SnrTop.wav", "Rhy_DK"), ("Tom1.wav", "Rhy_DK"),
    ("FloorTom.wav", "Rhy_DK"), ("Rack Tom 2.wav", "Rhy_DK"), ("HiHat.wav", "Rhy_DK"), ("Hi-Hat.wav", "Rhy_DK"),
    ("HH.wav", "Rhy_DK"), ("OH L.wav", "Rhy_DK"), ("OHR.wav", "Rhy_DK"), ("Overheads.wav", "Rhy_DK"),
    ("Ride.wav", "Rhy_DK"), ("Drums_Room.wav", "Rhy_DK"), ("Drum Kit.mp3", "Rhy_DK"), ("BassDrum.wav", "Rhy_DK"),
    ("808 Kick.wav", "Rhy_DK"), ("Cymbals.wav", "Rhy_DK"),
    # percussion
    ("Shaker.wav", "Rhy_PERC"), ("Tambourine.wav", "Rhy_PERC"), ("Tamb_02.wav", "Rhy_PERC"), ("Congas.wav", "Rhy_PERC"),
    ("Bongo Hi.wav", "Rhy_PERC"), ("Cowbell.wav", "Rhy_PERC"), ("Perc Loop.wav", "Rhy_PERC"), ("Claps.wav", "Rhy_PERC"),
    ("HandDrum.wav", "Rhy_PERC"), ("Sleigh Bells.wav", "Rhy_PERC"), ("Cajon Mic.wav", "Rhy_PERC"),
    # vocals
    ("LeadVox_Comp.flac", "Voc_LV"), ("Lead Vocal.wav", "Voc_LV"), ("Main Vox Dbl.wav", "Voc_LV"),
    ("VoxLead.wav", "Voc_LV"), ("Rap Vox.wav", "Voc_LV"), ("BVs 3.wav", "Voc_BV"), ("BV1.wav", "Voc_BV"),
    ("BackingVox.wav", "Voc_BV"), ("Harmony Vox 2.wav", "Voc_BV"), ("BGVs.wav", "Voc_BV"), ("Oohs.wav", "Voc_BV"),
    ("Choir.wav", "Voc_GRP"), ("Gang Vox.wav", "Voc_GRP"), ("Group Vocals.wav", "Voc_GRP"),
    ("Vox.wav", UNK), ("Vocal 2.wav", UNK), ("Lead BV.wav", UNK),
    # guitars
    ("AcGtr.wav", "Gtr_AG"), ("Acoustic Guitar L.wav", "Gtr_AG"), ("AG 1.wav", "Gtr_AG"), ("NylonGtr.wav", "Gtr_AG"),
    ("12 String Acoustic.wav", "Gtr_AG"), ("ElecGtr1.wav", "Gtr_EG"), ("Elec Gtr DI.wav", "Gtr_EG"),
    ("Gtr Amp.wav", "Gtr_EG"), ("Dist Gtr L.wav", "Gtr_EG"), ("EG 2.wav", "Gtr_EG"), ("Strat.wav", "Gtr_EG"),
    ("Gtr 2.wav", UNK), ("Lead Gtr.wav", UNK), ("GtrDI.wav", UNK), ("12 String.wav", UNK), ("Pedal Steel.wav", UNK),
    ("Banjo.wav", UNK), ("Mandolin.wav", UNK),
    # bass
    ("Bass DI.wav", "Bass"), ("BassAmp.wav", "Bass"), ("SynthBass.wav", "Bass"), ("Synth Bass 2.wav", "Bass"),
    ("Sub Bass.wav", "Bass"), ("Upright Bass.wav", "Bass"), ("Moog Bass.wav", "Bass"), ("Bass Gtr.wav", "Bass"),
    ("BassGuitar.wav", "Bass"), ("E Bass.wav", "Bass"),
    # keyboards
    ("Piano L.wav", "Kbs_PN"), ("Grand Piano Hi.wav", "Kbs_PN"), ("Upright Piano.wav", "Kbs_PN"),
    ("Rhodes L.wav", "Kbs_EP"), ("Wurli.wav", "Kbs_EP"), ("E Piano.wav", "Kbs_EP"), ("Electric Piano.wav", "Kbs_EP"),
    ("Organ.wav", "Kbs_OR"), ("Hammond B3 Leslie.wav", "Kbs_OR"), ("Mellotron.wav", "Kbs_MTR"),
    ("Mellotron Strings.wav", "Kbs_MTR"), ("Tron Flute.wav", "Kbs_MTR"), ("Keys.wav", UNK), ("Clav.wav", UNK),
    ("Synth Keys.wav", UNK), ("Harpsichord.wav", UNK),
    # orchestra
    ("Strings Hi.wav", "Orch_STR"), ("Violin 1.wav", "Orch_STR"), ("Cello.wav", "Orch_STR"), ("Celli.wav", "Orch_STR"),
    ("Fiddle.wav", "Orch_STR"),
    ("Trumpet.wav", "Orch_BR"), ("Trombone 2.wav", "Orch_BR"), ("Horns.wav", "Orch_BR"),
    ("Horn Section.wav", "Orch_BR"), ("Sax Trumpet.wav", "Orch_BR"), ("Flute.wav", "Orch_WW"),
    ("Clarinet.wav", "Orch_WW"),
    ("Bass Clarinet.wav", "Orch_WW"), ("Tenor Sax.wav", "Orch_WW"), ("Bass Trombone.wav", "Orch_BR"),
    ("Strings Brass.wav", UNK),
    # synths
    ("Synth Pad.wav", "Synth"), ("Synth Strings.wav", "Synth"), ("Lead Synth.wav", "Synth"), ("Pads.wav", "Synth"),
    ("Juno.wav", "Synth"), ("Moog.wav", UNK), ("Arp.wav", UNK),
    # misc and room mics
    ("FX.wav", "Misc"), ("Riser.wav", "Misc"), ("Glockenspiel.wav", "Misc"), ("Bells.wav", "Misc"),
    ("Noise Sweep.wav", "Misc"), ("Room Mic L.wav", "MiscRoom"), ("Room.wav", "MiscRoom"), ("Ambience.wav", "MiscRoom"),
    ("Vox FX.wav", UNK), ("Amp Room.wav", UNK), ("Steel Drums.wav", UNK), ("Toy Piano.wav", UNK),
    # not stems, or nothing to go on
    ("Click.wav", UNK), ("Mix.wav", UNK), ("Audio 01.wav", UNK), ("Track 7.wav", UNK), ("Electron.wav", UNK),
    ("Organic.wav", UNK), ("Tomato.wav", UNK), ("Piano Vox.wav", UNK), ("Kick Bass.wav", UNK),
]  # fmt: skip


def test_table_is_large_and_labels_are_valid():
    assert len(TABLE) >= 80
    assert len({name for name, _ in TABLE}) == len(TABLE)
    assert {label for _, label in TABLE} - {UNK} <= set(class_ids())


@pytest.mark.parametrize("name, expected", TABLE)
def test_label_from_filename(name, expected):
    assert label_from_filename(name) == expected


def test_never_a_wrong_guess_on_the_table():
    """Summary over the table: every non-UNK answer is right (a wrong guess is worse than UNK)."""
    wrong = [(n, e, got) for n, e in TABLE if (got := label_from_filename(n)) != UNK and got != e]
    assert wrong == []


@pytest.mark.parametrize(
    "name, expected",
    [("Gtr 2.wav", "Gtr"), ("Vox.wav", "Voc"), ("Keys.wav", "Kbs"), ("Strings Brass.wav", "Orch"),
     ("Kick.wav", "Rhy_DK"), ("Moog.wav", UNK), ("Piano Vox.wav", UNK), ("Banjo.wav", UNK)],
)  # fmt: skip
def test_partial_labels_give_the_certain_group(name, expected):
    assert label_from_filename(name, partial=True) == expected


def test_paths_case_and_extensions_do_not_matter():
    assert label_from_filename("/sessions/Song/Audio Files/LEADVOX.WAV") == "Voc_LV"
    assert label_from_filename("snare top.aif") == "Rhy_DK"
    assert label_from_filename("Piano") == "Kbs_PN"  # no extension
