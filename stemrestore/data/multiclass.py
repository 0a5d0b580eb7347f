"""Training data for a conditional model: each example restores a randomly drawn class.

Item ``i`` of epoch ``e`` draws, from ``default_rng([seed, e, i])``, a class
(with configurable weights), then builds the example for that class exactly as
:class:`~stemrestore.data.dataset.MSRDataset` does for its one target: one song
that has the class, one window, the class's stems as the target, the song's
other stems as the background, the SPEC §3 protocol on top.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from stemrestore.data.dataset import MSRDataset, readable_stems, song_entry
from stemrestore.data.rawstems import read_split, scan
from stemrestore.degrade import DegradationProtocol, Example
from stemrestore.errors import ConfigError
from stemrestore.taxonomy import class_ids, class_info, group_of, validate_class

LEVELS = ("group", "code")


class MultiClassDataset(torch.utils.data.Dataset):
    """Items are ``(mixture, target, class_index)``: float32 ``(2, N)`` tensors and a long scalar.

    ``class_index`` is the drawn class's position in :func:`stemrestore.taxonomy.class_ids`
    (what :class:`~stemrestore.models.ConditionalUFormer` takes). ``classes`` are the
    classes to draw from; None means every class present in the corpus whose level
    is in ``levels`` (``group``: ``Gtr``, ``Bass``; ``code``: ``Gtr_EG``). ``weights``
    gives relative draw probabilities (a class it does not list weighs 1; weight 0
    leaves a class out). ``split_file`` limits every class to the songs it lists;
    ``split_dir`` holds per-class lists ``<class>_train.txt`` (the ``split``
    command's output) and limits each class to its own list (no file: no songs).
    The remaining settings are :class:`MSRDataset`'s.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        classes: Sequence[str] | None = None,
        weights: Mapping[str, float] | None = None,
        levels: Sequence[str] = LEVELS,
        split_file: str | os.PathLike | None = None,
        split_dir: str | os.PathLike | None = None,
        segment_seconds: float = 10.0,
        sr: int = 44100,
        protocol: DegradationProtocol | None = None,
        seed: int = 0,
        items_per_epoch: int | None = None,
        silence_db: float = -60.0,
        max_redraws: int = 20,
        target_probability: float = 0.5,
        background_probability: float = 0.5,
    ) -> None:
        songs = scan(root)
        if split_file is not None:
            wanted = set(read_split(split_file))
            songs = [s for s in songs if s.id in wanted]
        stems = [(song, readable_stems(song)) for song in songs]
        present = {c for _, infos in stems for s in infos for c in (s.cls, group_of(s.cls))}
        entries = {c: [e for e in (song_entry(song, infos, c) for song, infos in stems) if e.targets]
                   for c in present}
        if split_dir is not None:
            for cls, found in entries.items():
                listed = Path(split_dir) / f"{cls}_train.txt"
                wanted = set(read_split(listed)) if listed.is_file() else set()
                entries[cls] = [e for e in found if e.id in wanted]
        entries = {c: found for c, found in entries.items() if found}
        candidates = _candidates(root, classes, levels, set(entries))
        self.classes, self.probabilities = _draw_weights(candidates, weights)
        self.seed = int(seed)
        self.epoch = 0
        # One MSRDataset per class over the songs scanned above, sharing settings and protocol,
        # so every example is drawn by MSRDataset's own code.
        protocol = protocol or DegradationProtocol()
        self._views = {
            cls: MSRDataset(
                root, target=cls, segment_seconds=segment_seconds, sr=sr, protocol=protocol, seed=seed,
                silence_db=silence_db, max_redraws=max_redraws, target_probability=target_probability,
                background_probability=background_probability, songs=entries[cls],
            )
            for cls in self.classes
        }
        self.sr, self.protocol = int(sr), protocol
        self.items_per_epoch = int(items_per_epoch or len(stems))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.items_per_epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        example = self.example(index)
        label = torch.tensor(class_ids().index(example.params["class"]), dtype=torch.long)
        return torch.from_numpy(example.mixture), torch.from_numpy(example.target), label

    def songs_of(self, cls: str) -> list[str]:
        """Ids of the songs an example of class ``cls`` can come from."""
        return [song.id for song in self._views[validate_class(cls)].songs]

    def class_of(self, index: int, epoch: int | None = None) -> str:
        """The class item ``index`` of ``epoch`` restores, without building the example."""
        return self._pick(self._rng(index, epoch))

    def example(self, index: int, epoch: int | None = None) -> Example:
        """The degraded example of ``index``; ``params`` records its ``class`` and ``source`` draw."""
        rng = self._rng(index, epoch)
        cls = self._pick(rng)
        draw = self._views[cls].draw(rng)
        example = self.protocol(draw.target, draw.background, sr=self.sr, seed=rng, target_class=cls)
        example.params["class"] = cls
        example.params["source"] = draw.record()
        return example

    def _rng(self, index: int, epoch: int | None) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch if epoch is None else int(epoch), int(index)])

    def _pick(self, rng: np.random.Generator) -> str:
        return self.classes[int(rng.choice(len(self.classes), p=self.probabilities))]


def _candidates(
    root: str | os.PathLike, classes: Sequence[str] | None, levels: Sequence[str], present: set[str]
) -> list[str]:
    """The classes to draw from, in taxonomy order."""
    if classes is not None:
        chosen = [validate_class(c) for c in classes]
        absent = [c for c in chosen if c not in present]
        if absent:
            raise ConfigError(f"{root}: no (training) song has a stem of class {absent[0]}")
        return [c for c in class_ids() if c in chosen]
    bad = [level for level in levels if level not in LEVELS]
    if bad or not levels:
        raise ConfigError(f"class levels must be some of {', '.join(LEVELS)}, got {list(levels)}")
    found = [c for c in class_ids() if c in present and _level(c) in levels]
    if not found:
        raise ConfigError(f"{root}: no stem of any class at level {', '.join(levels)}")
    return found


def _level(cls: str) -> str:
    return "group" if class_info(cls).code is None else "code"


def _draw_weights(candidates: list[str], weights: Mapping[str, float] | None) -> tuple[list[str], np.ndarray]:
    """Classes with a positive weight and their draw probabilities."""
    given = {validate_class(k): float(v) for k, v in (weights or {}).items()}
    stray = [c for c in given if c not in candidates]
    if stray:
        raise ConfigError(f"class weight for '{stray[0]}', which is not trained (classes: {', '.join(candidates)})")
    bad = [c for c, w in given.items() if not 0 <= w < np.inf]
    if bad:
        raise ConfigError(f"class weight for '{bad[0]}' must be a finite number >= 0, got {given[bad[0]]}")
    table = {c: given.get(c, 1.0) for c in candidates}
    kept = [c for c in candidates if table[c] > 0]
    if not kept:
        raise ConfigError("every class weight is zero: nothing to draw")
    p = np.array([table[c] for c in kept])
    return kept, p / p.sum()
