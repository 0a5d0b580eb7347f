"""A conditional U-Former: one network restores any stem class named at run time.

The paper trains one U-Former per class (SPEC §5); its future work asks for one
model for the whole taxonomy (SPEC §8). :class:`ConditionalUFormer` is the
U-Former with a class vector injected by FiLM (per-channel scale and shift)
after each encoder block, at the transformer bottleneck's input and output,
and after each decoder block. The class vector is hierarchical: the sum of a
group embedding and a code embedding (``Gtr_EG`` = ``Gtr`` + ``EG``), and a
group-level request (``Gtr``) uses the code ``none``. Every FiLM starts as the
identity, so an untrained conditional model computes exactly the plain
U-Former with the same weights. See ``docs/conditional.md``.

Class indices (a ``LongTensor`` given to :meth:`ConditionalUFormer.forward`,
as :class:`~stemrestore.data.multiclass.MultiClassDataset` yields them) are
positions in :func:`stemrestore.taxonomy.class_ids`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Union

import torch
from torch import nn

from stemrestore.errors import ConfigError
from stemrestore.models.uformer import UFormer, UFormerConfig
from stemrestore.taxonomy import GROUPS, class_ids, class_info, validate_class

ARCHITECTURE = "uformer-conditional"
#: The code of a group-level request (``Gtr`` rather than ``Gtr_EG``).
NO_CODE = "none"
#: Default vocabularies: every first-level group, every second-level code, then ``none``.
GROUP_VOCAB: tuple[str, ...] = tuple(g.code for g in GROUPS)
CODE_VOCAB: tuple[str, ...] = tuple(dict.fromkeys(code for g in GROUPS for code, _ in g.codes)) + (NO_CODE,)

#: What :meth:`ConditionalUFormer.forward` accepts as the class: one id for the whole batch,
#: one id per example, or a ``(batch,)`` tensor of indices into ``taxonomy.class_ids()``.
ClassSpec = Union[str, Sequence[str], torch.Tensor, None]

# The class vectors of the forward pass in progress. UFormer.forward owns the STFT
# plumbing and calls self._unet(x) with no room for an extra argument; handing the
# condition over through a context variable reuses that code unchanged, and unlike an
# attribute on the module it stays correct when several threads share one model.
_CONDITION: ContextVar[torch.Tensor | None] = ContextVar("stemrestore_condition", default=None)


@dataclass
class ConditionalConfig(UFormerConfig):
    """U-Former hyper-parameters plus the class vocabulary and the class-vector width.

    ``groups`` and ``codes`` name the rows of the two embedding tables; they are
    stored in the checkpoint so that a row keeps its meaning if the taxonomy grows.
    """

    groups: tuple[str, ...] = GROUP_VOCAB  #: first-level ids, one embedding row each
    codes: tuple[str, ...] = CODE_VOCAB  #: second-level codes and ``none``, one row each
    embed_dim: int = 128  #: width of the class vector fed to every FiLM

    def __post_init__(self) -> None:
        super().__post_init__()
        self.groups = tuple(str(g) for g in self.groups)
        self.codes = tuple(str(c) for c in self.codes)
        if not isinstance(self.embed_dim, int) or self.embed_dim <= 0:
            raise ConfigError(f"ConditionalConfig.embed_dim: must be a positive integer, got {self.embed_dim!r}")
        known_groups = set(GROUP_VOCAB)
        known_codes = set(CODE_VOCAB)
        for name, vocab, known in (("groups", self.groups, known_groups), ("codes", self.codes, known_codes)):
            if not vocab or len(set(vocab)) != len(vocab):
                raise ConfigError(f"ConditionalConfig.{name}: must be a non-empty list without repeats")
            unknown = [v for v in vocab if v not in known]
            if unknown:
                raise ConfigError(
                    f"ConditionalConfig.{name}: unknown entry '{unknown[0]}' (valid: {', '.join(sorted(known))})"
                )
        if NO_CODE not in self.codes:
            raise ConfigError(f"ConditionalConfig.codes: must contain '{NO_CODE}' (group-level requests)")


class FiLM(nn.Module):
    """Feature-wise affine modulation ``x * (1 + scale(c)) + shift(c)``, per channel.

    The projection starts at zero, so the layer starts as the identity and a
    fresh conditional model equals the plain U-Former.
    """

    def __init__(self, embed_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(embed_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """``x`` is ``(batch, channels, ...)``; ``cond`` is ``(batch, embed_dim)``."""
        scale, shift = self.proj(cond).to(x.dtype).chunk(2, dim=-1)
        shape = scale.shape + (1,) * (x.ndim - 2)
        return x * (1 + scale.view(shape)) + shift.view(shape)


class ConditionalUFormer(UFormer):
    """``forward(wave, cls)``: restore the class ``cls`` from ``(batch, channels, samples)``.

    ``cls`` is a class id for the whole batch, one id per example, or a tensor
    of class indices (positions in ``taxonomy.class_ids()``); None means the
    default class ``meta["target"]``, which lets code written for a one-class
    model (the :class:`~stemrestore.restore.Restorer`) run this one unchanged.
    """

    architecture = ARCHITECTURE
    config_class = ConditionalConfig

    def __init__(self, config: ConditionalConfig | None = None) -> None:
        config = config or ConditionalConfig()
        super().__init__(config)
        self.group_embedding = nn.Embedding(len(config.groups), config.embed_dim)
        self.code_embedding = nn.Embedding(len(config.codes), config.embed_dim)
        widths, depth = config.channels, len(config.channels)
        decoder_widths = [widths[max(depth - 2 - k, 0)] for k in range(depth)]
        self.film_encoder = nn.ModuleList(FiLM(config.embed_dim, c) for c in widths)
        self.film_bottleneck_in = FiLM(config.embed_dim, config.n_embd)
        self.film_bottleneck_out = FiLM(config.embed_dim, config.n_embd)
        self.film_decoder = nn.ModuleList(FiLM(config.embed_dim, c) for c in decoder_widths)
        group_rows, code_rows = [], []
        for cls in class_ids():
            info = class_info(cls)
            code = info.code or NO_CODE
            known = info.group in config.groups and code in config.codes
            group_rows.append(config.groups.index(info.group) if known else -1)
            code_rows.append(config.codes.index(code) if known else -1)
        # Derived from the vocabulary in the config, so not part of the saved weights.
        self.register_buffer("_group_rows", torch.tensor(group_rows), persistent=False)
        self.register_buffer("_code_rows", torch.tensor(code_rows), persistent=False)
        self.classes: tuple[str, ...] = tuple(c for c, row in zip(class_ids(), group_rows) if row >= 0)

    def class_indices(self, cls: ClassSpec, batch: int) -> torch.Tensor:
        """``(batch,)`` indices into ``taxonomy.class_ids()`` of a class request, validated."""
        if cls is None:
            cls = str(self.meta.get("target", "unknown"))
            if cls not in self.classes:
                raise ConfigError(
                    "conditional model: name the class to restore (e.g. --target Gtr_EG); "
                    f"it has no default class (target '{cls}')"
                )
        all_ids = class_ids()
        if isinstance(cls, torch.Tensor):
            index = cls.to(device=self._group_rows.device, dtype=torch.long).reshape(-1)
            if index.numel() and (index.min() < 0 or index.max() >= len(all_ids)):
                raise ConfigError(f"conditional model: class index out of range 0..{len(all_ids) - 1}")
            names = [all_ids[i] for i in index.tolist()]
        else:
            names = [cls] if isinstance(cls, str) else list(cls)
            names = [validate_class(name) for name in names]
            index = torch.tensor([all_ids.index(n) for n in names], device=self._group_rows.device)
        if len(names) == 1 and batch != 1:
            index, names = index.expand(batch), names * batch
        if len(names) != batch:
            raise ConfigError(f"conditional model: {len(names)} classes for a batch of {batch}")
        missing = [n for n in names if n not in self.classes]
        if missing:
            raise _not_covered(missing[0], self.classes)
        return index

    def embed(self, cls: ClassSpec, batch: int = 1) -> torch.Tensor:
        """Class vectors ``(batch, embed_dim)``: group embedding + code embedding."""
        index = self.class_indices(cls, batch)
        return self.group_embedding(self._group_rows[index]) + self.code_embedding(self._code_rows[index])

    def forward(self, wave: torch.Tensor, cls: ClassSpec = None) -> torch.Tensor:
        cond = self.embed(cls, wave.shape[0] if wave.ndim == 3 else 1)
        token = _CONDITION.set(cond)
        try:
            return super().forward(wave)
        finally:
            _CONDITION.reset(token)

    def _unet(self, x: torch.Tensor) -> torch.Tensor:
        cond = _CONDITION.get()
        if cond is None:
            raise RuntimeError("ConditionalUFormer._unet runs only inside forward()")
        depth = len(self.config.channels)
        skips = []
        for i in range(depth):
            x, skip = getattr(self, f"encoder_block{i + 1}")(x)
            # FiLM on the block output; average pooling commutes with a per-channel
            # affine map, so modulating the pooled output and the skip alike is the same.
            film = self.film_encoder[i]
            x, skip = film(x, cond), film(skip, cond)
            skips.append(skip)
        x = self.film_bottleneck_out(self._bottleneck(self.film_bottleneck_in(x, cond)), cond)
        for k in range(depth):
            x = getattr(self, f"decoder_block{k + 1}")(x, skips[depth - 1 - k])
            x = self.film_decoder[k](x, cond)
        return x


def is_conditional(model: nn.Module) -> bool:
    """Whether ``model`` takes the class to restore as an argument (it lists its ``classes``)."""
    return getattr(model, "classes", None) is not None


def select_target(model: nn.Module, target: str | None) -> str:
    """The class ``model`` will restore when ``target`` is asked for (None: its own or default).

    A conditional model accepts any class of its vocabulary. A one-class model
    accepts only its own class (or any, when its class is ``unknown``): asking
    it for another is a :class:`ConfigError`, not a silently mislabelled output.
    """
    own = str(getattr(model, "meta", {}).get("target", "unknown"))
    if target is None:
        return own
    target = validate_class(target)
    if is_conditional(model):
        if target not in model.classes:
            raise _not_covered(target, model.classes)
        return target
    if own not in ("unknown", target):
        raise ConfigError(
            f"this checkpoint restores {own} only, not {target} "
            "(one model per class; a conditional checkpoint restores any)"
        )
    return target


def _not_covered(cls: str, classes: Sequence[str]) -> ConfigError:
    return ConfigError(f"conditional model: cannot restore '{cls}' (its vocabulary covers {', '.join(classes)})")
