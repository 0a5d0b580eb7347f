"""Training batches that can be resumed exactly, on one process or many.

Epoch ``e`` visits the dataset in the order ``default_rng([seed, e]).permutation``;
each step takes the next *global* batch from it and rank ``r`` of ``W`` takes
its ``r``-th slice (distributed sampling without torch's DistributedSampler,
whose position cannot be restored mid-epoch). An incomplete global batch at
the end of an epoch is dropped. The position (epoch, offset) is all a
checkpoint needs to continue with the very next batch, and the dataset sees
``(epoch, index)`` pairs, so one DataLoader with its workers serves many epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from stemrestore.errors import ConfigError
from stemrestore.train.config import TrainConfig
from stemrestore.train.distributed import Context

#: Builds the training dataset from the config; tests pass an in-memory one.
DatasetFactory = Callable[[TrainConfig], Dataset]


def msr_dataset(config: TrainConfig) -> Dataset:
    """The online-protocol dataset described by ``config.data``.

    :class:`MSRDataset` (items ``(mixture, target)``) for a one-class model;
    :class:`MultiClassDataset` (items ``(mixture, target, class_index)``) when
    ``model.kind`` is ``conditional``.
    """
    from stemrestore.data.dataset import MSRDataset
    from stemrestore.degrade import DegradationProtocol

    data = config.data
    if data.root is None:
        raise ConfigError("data.root: no training data given (use --data ROOT or data.root=ROOT)")
    protocol = DegradationProtocol.from_yaml(data.protocol) if data.protocol else None
    if config.model.kind == "conditional":
        from stemrestore.data.multiclass import MultiClassDataset

        return MultiClassDataset(
            data.root,
            classes=data.classes,
            weights=data.class_weights,
            levels=data.class_levels,
            split_file=data.split_file,
            split_dir=data.split_dir,
            segment_seconds=data.segment_seconds,
            sr=config.model.sample_rate,
            protocol=protocol,
            seed=config.seed,
            items_per_epoch=data.items_per_epoch,
        )
    return MSRDataset(
        data.root,
        target=data.target,
        split_file=data.split_file,
        segment_seconds=data.segment_seconds,
        sr=config.model.sample_rate,
        protocol=protocol,
        seed=config.seed,
        items_per_epoch=data.items_per_epoch,
    )


class SyntheticPairs(Dataset):
    """In-memory stand-in for :class:`MSRDataset`: noise mixtures, target = a fixed filter of them.

    The target is the mixture through a one-pole low-pass at half gain, a
    spectral reweighting a U-Former learns in a few steps. Used by the training
    benchmark (model speed without data-loading cost) and by tests. Item ``i``
    of epoch ``e`` is drawn from ``default_rng([seed, e, i])``.
    """

    def __init__(self, items: int, seconds: float, sr: int, seed: int = 0, pole: float = 0.9) -> None:
        self.items, self.samples, self.seed = items, int(round(seconds * sr)), seed
        self.pole = pole
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.items

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        from scipy.signal import lfilter

        rng = np.random.default_rng([self.seed, self.epoch, index])
        mixture = (0.1 * rng.standard_normal((2, self.samples))).astype(np.float32)
        target = lfilter([0.5 * (1.0 - self.pole)], [1.0, -self.pole], mixture, axis=-1).astype(np.float32)
        return torch.from_numpy(mixture), torch.from_numpy(target)


@dataclass(frozen=True)
class Position:
    """Where the next global batch starts: epoch and offset into its permutation."""

    epoch: int = 0
    offset: int = 0

    def start_of(self, global_batch: int, size: int) -> Position:
        """The position a batch of ``global_batch`` really starts at (rolls over a short tail)."""
        return Position(self.epoch + 1, 0) if self.offset + global_batch > size else self

    def after(self, global_batch: int, size: int) -> Position:
        """The position once one batch of ``global_batch`` examples has been consumed."""
        start = self.start_of(global_batch, size)
        return Position(start.epoch, start.offset + global_batch)


class _EpochIndexed(Dataset):
    """Routes ``(epoch, index)`` to ``dataset.set_epoch`` + ``dataset[index]`` (inside workers)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.epoch: int | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> Any:
        epoch, index = key
        if epoch != self.epoch and hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        self.epoch = epoch
        return self.dataset[index]


class ResumableBatchSampler(Sampler[list[tuple[int, int]]]):
    """Endless batches of ``(epoch, index)`` for one rank, starting at ``position``."""

    def __init__(self, size: int, global_batch: int, seed: int, ctx: Context, position: Position) -> None:
        if global_batch % ctx.world_size:
            raise ConfigError(
                f"data: batch size {global_batch} does not split evenly over {ctx.world_size} processes"
            )
        if size < global_batch:
            raise ConfigError(f"data: the dataset has {size} items, fewer than one batch of {global_batch}")
        self.size, self.global_batch, self.seed = size, global_batch, seed
        self.rank, self.local_batch = ctx.rank, global_batch // ctx.world_size
        self.position = position

    def order(self, epoch: int) -> np.ndarray:
        """Visiting order of epoch ``epoch``, the same on every rank."""
        return np.random.default_rng([self.seed, epoch]).permutation(self.size)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        position = self.position
        order_epoch, order = None, None
        while True:
            start = position.start_of(self.global_batch, self.size)
            if start.epoch != order_epoch:
                order_epoch, order = start.epoch, self.order(start.epoch)
            mine = start.offset + self.rank * self.local_batch
            yield [(start.epoch, int(i)) for i in order[mine : mine + self.local_batch]]
            position = position.after(self.global_batch, self.size)


def make_loader(
    dataset: Dataset, config: TrainConfig, ctx: Context, position: Position, global_batch: int
) -> DataLoader:
    """DataLoader of this rank's share of the global batches from ``position`` on."""
    sampler = ResumableBatchSampler(len(dataset), global_batch, config.seed, ctx, position)
    workers = config.data.num_workers
    return DataLoader(
        _EpochIndexed(dataset),
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=ctx.device.type == "cuda",
        persistent_workers=False,
        # Its own generator: creating the loader must not consume the global torch RNG,
        # or a resumed run would diverge from an uninterrupted one.
        generator=torch.Generator().manual_seed(config.seed),
    )
