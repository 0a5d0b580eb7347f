"""Strict dataclass configs: nested building, unknown fields named, overrides."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from stemrestore.config import apply_overrides, from_dict, load_yaml, save_yaml, to_dict
from stemrestore.errors import ConfigError


@dataclass
class Inner:
    low: float = 1.0
    high: float = 2.0
    bands: tuple[int, ...] = (1, 2)


@dataclass
class Outer:
    name: str = "x"
    inner: Inner = field(default_factory=Inner)
    maybe: Inner | None = None


def test_nested_build_and_roundtrip(tmp_path):
    cfg = from_dict(Outer, {"name": "y", "inner": {"low": 3, "bands": [4, 5, 6]}, "maybe": {"high": 9}})
    assert cfg.inner.low == 3.0 and isinstance(cfg.inner.low, float)
    assert cfg.inner.bands == (4, 5, 6)
    assert cfg.maybe == Inner(high=9.0)
    save_yaml(cfg, tmp_path / "c.yaml")
    assert from_dict(Outer, load_yaml(tmp_path / "c.yaml")) == cfg
    assert to_dict(cfg)["inner"]["bands"] == [4, 5, 6]


def test_unknown_field_is_named_with_its_path():
    with pytest.raises(ConfigError, match=r"Outer\.inner: unknown field 'lwo'"):
        from_dict(Outer, {"inner": {"lwo": 1}})


def test_overrides_parse_values():
    data = apply_overrides({"inner": {"low": 1.0}}, ["inner.low=0.5", "name=abc", "inner.bands=[7]"])
    cfg = from_dict(Outer, data)
    assert cfg.inner.low == 0.5 and cfg.name == "abc" and cfg.inner.bands == (7,)
    assert from_dict(Outer, apply_overrides({}, ["inner.high=1e-3"])).inner.high == 0.001
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["oops"])


def test_bad_yaml_files(tmp_path):
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(tmp_path / "list.yaml")
    with pytest.raises(ConfigError, match="no such config"):
        load_yaml(tmp_path / "missing.yaml")
