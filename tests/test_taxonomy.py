"""The taxonomy as data, class-name validation, folders and group matching."""

import pytest

from stemrestore.errors import ConfigError
from stemrestore.taxonomy import (
    CLASSES,
    GROUPS,
    class_folder,
    class_from_folder,
    class_ids,
    group_of,
    leaf_ids,
    matches,
    validate_class,
)

# Every class of the paper's released split table (SPEC §4).
RELEASED = (
    "Voc Voc_LV Voc_BV Voc_GRP Bass Gtr Gtr_EG Gtr_AG Rhy Rhy_DK Rhy_PERC Kbs Kbs_PN Kbs_EP Kbs_OR "
    "Kbs_MTR Orch Orch_STR Orch_BR Orch_WW Synth Misc MiscRoom Kbs_SYNTH"
).split()


def test_every_released_class_is_valid_and_nothing_else_exists():
    assert sorted(class_ids()) == sorted(RELEASED)
    assert [g.code for g in GROUPS] == ["Voc", "Rhy", "Gtr", "Kbs", "Orch", "Synth", "Bass", "Misc", "MiscRoom"]
    assert all(c.name for c in CLASSES)
    # The text's 14 codes of Voc/Rhy/Gtr/Kbs/Orch plus the released Kbs_SYNTH; Misc's
    # bells/effects/other are no folders in the released data.
    assert sum(1 for c in CLASSES if c.code) == 15


def test_leaves_are_codes_and_code_free_groups():
    assert set(leaf_ids()) == set(RELEASED) - {"Voc", "Rhy", "Gtr", "Kbs", "Orch"}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("vocals", "Voc"), ("VOC", "Voc"), ("keyboards", "Kbs"), ("synth", "Synth"), ("guitars", "Gtr"),
        ("rhythm", "Rhy"), ("rhythm_section", "Rhy"), ("Rhythm Section", "Rhy"), ("bass", "Bass"),
        ("orchestra", "Orch"), ("acoustic_guitar", "Gtr_AG"), ("electric_guitar", "Gtr_EG"),
        ("Guitars - Acoustic", "Gtr_AG"), ("gtr/ag", "Gtr_AG"), ("voc_gv", "Voc_GRP"), ("kbs_synth", "Kbs_SYNTH"),
        ("miscroom", "MiscRoom"), (" Orch_WW ", "Orch_WW"),
    ],
)  # fmt: skip
def test_validate_class_accepts_ids_case_insensitively_and_aliases(name, expected):
    assert validate_class(name) == expected


@pytest.mark.parametrize("name", ["Voc_XX", "drum", "", "Gtr_", "Bass_DI"])
def test_validate_class_rejects_unknown_names_listing_valid_ids(name):
    with pytest.raises(ConfigError) as err:
        validate_class(name)
    message = str(err.value)
    assert "\n" not in message and "Voc_LV" in message and "MiscRoom" in message


def test_folders_round_trip_for_every_class():
    for cls in class_ids():
        folder = class_folder(cls)
        assert class_from_folder(folder.split("/")) == cls
    assert class_folder("Voc_LV") == "Voc/LV"
    assert class_folder("Bass") == "Bass"
    assert class_folder("vocals") == "Voc"


def test_class_from_folder_handles_deeper_folders_and_errors():
    assert class_from_folder(("Voc", "LV", "takes", "comp")) == "Voc_LV"
    assert class_from_folder(("Bass", "DI")) == "Bass"  # Bass has no codes: any subfolder is Bass
    assert class_from_folder(("voc", "gv")) == "Voc_GRP"
    assert class_from_folder(("Gtr",)) == "Gtr"
    with pytest.raises(ConfigError, match="unknown code folder 'Gtr/XX'"):
        class_from_folder(("Gtr", "XX"))
    with pytest.raises(ConfigError, match="unknown group folder 'Drums'"):
        class_from_folder(("Drums", "DK"))
    with pytest.raises(ConfigError, match="directly in the song folder"):
        class_from_folder(())


def test_group_of_and_matches():
    assert group_of("Gtr_EG") == "Gtr" and group_of("Bass") == "Bass" and group_of("keyboards") == "Kbs"
    assert matches("Gtr_EG", "Gtr")
    assert matches("Gtr_EG", "Gtr_EG")
    assert matches("Gtr_EG", "guitars")
    assert not matches("Gtr_AG", "Gtr_EG")
    assert not matches("Gtr", "Gtr_EG")  # a group-level stem is not known to be electric
    assert not matches("Synth", "Kbs")  # synthesizers are their own group, not keyboards
    assert matches("Kbs_SYNTH", "Kbs")
    assert not matches("Bass", "Rhy")
    with pytest.raises(ConfigError):
        matches("Gtr_EG", "Guitarz")
