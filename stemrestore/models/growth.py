"""Growing a trained U-Former wider: its conv path gets more channels and still computes the same.

:func:`widen_state` maps a checkpoint's weights onto a model whose encoder/decoder
widths (all but the last, which is the transformer's ``n_embd``) are at least the
checkpoint's. Every old channel keeps its place and its weights; a new channel reads
from every channel of the layer below with the wider model's own random
initialization, and everything a new channel feeds into an old one starts at zero.
The old channels therefore compute exactly what they did (BatchNorm is per
channel), the output layers read only old channels, and the wider model's output
is the checkpoint's. The zero weights from new to old channels get a gradient
(their inputs are the new channels' non-zero activations), so training grows them
from there, as Net2Net-style function-preserving growth does for depth and width.

The transformer width stays: RMSNorm normalises over all of ``n_embd``, so new
features there would change what the old ones compute.
"""

from __future__ import annotations

import os

import torch

from stemrestore.errors import CheckpointError
from stemrestore.models.layers import ConvBlock
from stemrestore.models.uformer import UFormer

#: Config fields a widening may change (channels); n_layer and head grow through init_weights.
_MAY_DIFFER = ("channels", "n_layer", "head")

Maps = tuple[torch.Tensor, torch.Tensor]  # (old input channels, old output channels) as new indices


def can_widen(old: torch.nn.Module, new: torch.nn.Module) -> bool:
    """Whether both are plain U-Formers whose conv widths differ (the case :func:`widen_state` handles).

    The conditional U-Former's FiLM layers are sized by the widths too; it is not widened.
    """
    return type(old) is UFormer and type(new) is UFormer and old.config.channels != new.config.channels


def widen_state(old: UFormer, new: UFormer, source: str | os.PathLike) -> tuple[dict[str, torch.Tensor], list[str]]:
    """``old``'s weights laid out for the wider ``new``; returns them and the names only partly copied.

    Keys ``old`` lacks (deeper transformer, mask head) are left out, as in any
    other growth; a shortcut the narrow model did not need (its block kept its
    width) starts as the identity on the old channels. Raises a one-line
    :class:`CheckpointError` naming ``source`` when the configs differ in more
    than the widths, a width shrinks or the last width changes.
    """
    _check_compatible(old, new, source)
    fresh, narrow = new.state_dict(), old.state_dict()
    state: dict[str, torch.Tensor] = {}
    for prefix, (in_map, out_map) in _channel_maps(old, new).items():
        state.update(_layout(new.get_submodule(prefix), prefix, in_map, out_map, narrow, fresh, source))
    widened = sorted(k for k, v in state.items() if k not in narrow or v.shape != narrow[k].shape)
    for name, tensor in narrow.items():
        state.setdefault(name, tensor)
    return state, widened


def _check_compatible(old: UFormer, new: UFormer, source: str | os.PathLike) -> None:
    a, b = old.get_config(), new.get_config()
    for key in a:
        if key not in _MAY_DIFFER and a[key] != b.get(key):
            raise CheckpointError(f"{source}: cannot widen: '{key}' is {a[key]!r} there, {b.get(key)!r} here")
    narrow, wide = old.config.channels, new.config.channels
    if len(narrow) != len(wide) or any(w < n for n, w in zip(narrow, wide)) or narrow[-1] != wide[-1]:
        raise CheckpointError(
            f"{source}: cannot widen channels {list(narrow)} to {list(wide)}: the same number of widths, none "
            f"smaller, and the last (n_embd) unchanged"
        )


def _channel_maps(old: UFormer, new: UFormer) -> dict[str, Maps]:
    """Where each conv-path module's old input and output channels sit in the wider model.

    The counts are read from the narrow model's own layers, so the layout rules stay
    in :class:`UFormer` alone.
    """
    first = torch.arange
    maps: dict[str, Maps] = {}
    for i in range(len(old.config.channels)):
        block = old.get_submodule(f"encoder_block{i + 1}.conv_block")
        maps[f"encoder_block{i + 1}.conv_block"] = (first(block.bn1.num_features), first(block.conv1.out_channels))
    for k in range(len(old.config.channels)):
        prefix = f"decoder_block{k + 1}"
        c_in = old.get_submodule(f"{prefix}.upsample").in_channels
        c_in_wide = new.get_submodule(f"{prefix}.upsample").in_channels
        maps[f"{prefix}.upsample"] = (first(c_in), first(c_in))
        # The block reads cat(upsampled, skip): the skip's channels start after the upsampled ones.
        c_out = old.get_submodule(f"{prefix}.conv_block").conv1.out_channels
        maps[f"{prefix}.conv_block"] = (torch.cat((first(c_in), c_in_wide + first(c_in))), first(c_out))
    for head in ("post_fc", "mask_fc"):
        if hasattr(new, head) and hasattr(old, head):
            layer = old.get_submodule(head)
            maps[head] = (first(layer.in_channels), first(layer.out_channels))
    return maps


def _layout(
    module: torch.nn.Module, prefix: str, in_map: torch.Tensor, out_map: torch.Tensor,
    old: dict[str, torch.Tensor], fresh: dict[str, torch.Tensor], source: str | os.PathLike,
) -> dict[str, torch.Tensor]:
    """The wide tensors of one module (a ConvBlock, a conv or a transposed conv)."""
    if not isinstance(module, ConvBlock):
        transposed = isinstance(module, torch.nn.ConvTranspose2d)
        keys = [k for k in fresh if k.startswith(f"{prefix}.")]
        return {k: _place(fresh[k], old[k], in_map, out_map, transposed) for k in keys if k in old}
    parts = {"bn1": (None, in_map), "conv1": (in_map, out_map), "bn2": (None, out_map),
             "conv2": (out_map, out_map), "shortcut": (in_map, out_map)}
    result: dict[str, torch.Tensor] = {}
    for part, (i_map, o_map) in parts.items():
        name = f"{prefix}.{part}"
        if getattr(module, part) is None:
            if f"{name}.weight" in old:
                raise CheckpointError(
                    f"{source}: cannot widen {prefix}: its width change would drop the shortcut it has"
                )
            continue
        if f"{name}.weight" in old:
            narrow = {k: old[k] for k in fresh if k.startswith(f"{name}.") and k in old}
        else:  # a shortcut the narrow block did not need: the identity on the old channels
            eye = torch.eye(len(o_map)).view(len(o_map), len(o_map), 1, 1)
            narrow = {f"{name}.weight": eye, f"{name}.bias": torch.zeros(len(o_map))}
        result.update({k: _place(fresh[k], tensor, i_map, o_map) for k, tensor in narrow.items()})
    return result


def _place(
    fresh: torch.Tensor, old: torch.Tensor, in_map: torch.Tensor | None, out_map: torch.Tensor,
    transposed: bool = False,
) -> torch.Tensor:
    """``old`` written into a copy of ``fresh`` at the old channels; new inputs to old outputs zeroed."""
    if old.ndim == 0:  # BatchNorm's batch counter
        return old.clone()
    out = fresh.clone()
    if old.ndim == 1:  # per-channel: biases, BatchNorm affine and running statistics
        out[out_map] = old
        return out
    weight = out.transpose(0, 1) if transposed else out  # a view: (out, in, ...) either way
    source = old.transpose(0, 1) if transposed else old
    weight[out_map] = 0.0
    weight[out_map[:, None], in_map[None, :]] = source
    return out

