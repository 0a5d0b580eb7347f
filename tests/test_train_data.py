"""Resumable, distributed batch order and the dataset factory."""

from __future__ import annotations

from itertools import islice

import numpy as np
import pytest
import torch

from stemrestore.errors import ConfigError
from stemrestore.train import build_config
from stemrestore.train.data import Position, ResumableBatchSampler, SyntheticPairs, make_loader, msr_dataset
from stemrestore.train.distributed import Context

CPU = torch.device("cpu")


def ctx(rank: int = 0, world: int = 1) -> Context:
    return Context(rank, world, rank, CPU)


def test_position_rolls_over_when_the_next_batch_does_not_fit():
    p = Position(0, 8)
    assert p.after(2, 10) == Position(0, 10)
    assert p.after(4, 10) == Position(1, 4)  # 8 + 4 > 10: the 2-item tail is dropped
    assert p.start_of(4, 10) == Position(1, 0)


def test_each_epoch_visits_every_item_once_in_a_seeded_order():
    sampler = ResumableBatchSampler(12, 4, seed=5, ctx=ctx(), position=Position())
    batches = list(islice(iter(sampler), 6))
    epoch0 = [i for b in batches[:3] for e, i in b if e == 0]
    epoch1 = [i for b in batches[3:] for e, i in b if e == 1]
    assert sorted(epoch0) == sorted(epoch1) == list(range(12))
    assert epoch0 == np.random.default_rng([5, 0]).permutation(12).tolist()
    assert epoch0 != epoch1


def test_ranks_take_disjoint_slices_of_the_same_global_batch():
    single = list(islice(iter(ResumableBatchSampler(10, 4, 1, ctx(), Position())), 5))
    r0 = list(islice(iter(ResumableBatchSampler(10, 4, 1, ctx(0, 2), Position())), 5))
    r1 = list(islice(iter(ResumableBatchSampler(10, 4, 1, ctx(1, 2), Position())), 5))
    for whole, a, b in zip(single, r0, r1):
        assert len(a) == len(b) == 2 and a + b == whole


def test_starting_mid_epoch_continues_the_same_sequence():
    full = list(islice(iter(ResumableBatchSampler(10, 3, 2, ctx(), Position())), 7))
    position = Position()
    for _ in range(4):
        position = position.after(3, 10)
    resumed = list(islice(iter(ResumableBatchSampler(10, 3, 2, ctx(), position)), 3))
    assert resumed == full[4:]


def test_bad_batch_sizes_are_user_errors():
    with pytest.raises(ConfigError, match="does not split evenly over 2"):
        ResumableBatchSampler(10, 3, 0, ctx(0, 2), Position())
    with pytest.raises(ConfigError, match="3 items, fewer than one batch of 4"):
        ResumableBatchSampler(3, 4, 0, ctx(), Position())


def test_worker_processes_give_the_same_batches_across_epochs():
    dataset = SyntheticPairs(6, 0.01, 8000, seed=1)
    cfg = build_config(overrides=["data.num_workers=2", "seed=4"])
    batches = [m for m, _ in islice(iter(make_loader(dataset, cfg, ctx(), Position(), 4)), 3)]
    # 6 items, batches of 4: each batch is the start of a new epoch, and the workers'
    # copies of the dataset must have been told which epoch it is.
    for epoch, batch in enumerate(batches):
        order = np.random.default_rng([4, epoch]).permutation(6)[:4]
        dataset.set_epoch(epoch)
        expected = torch.stack([dataset[int(i)][0] for i in order])
        assert torch.equal(batch, expected)
    assert not torch.equal(batches[0], batches[1])


def test_synthetic_target_is_a_fixed_filter_of_the_mixture():
    mixture, target = SyntheticPairs(1, 0.1, 8000, pole=0.9)[0]
    # y[n] = 0.9 y[n-1] + 0.05 x[n]
    assert torch.allclose(target[:, 1:], 0.9 * target[:, :-1] + 0.05 * mixture[:, 1:], atol=1e-6)


def test_no_data_root_is_a_clear_error():
    with pytest.raises(ConfigError, match="data.root: no training data given"):
        msr_dataset(build_config())
