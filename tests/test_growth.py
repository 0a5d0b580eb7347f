"""Widening a trained U-Former (stemrestore.models.growth through init_weights): same output, room to learn."""

from __future__ import annotations

import pytest
import torch
from test_uformer import tiny_model

from stemrestore.errors import CheckpointError
from stemrestore.models import save_checkpoint
from stemrestore.models.checkpoint import init_weights

WIDE = (6, 12, 24, 16)  # TINY's (4, 8, 16, 16) wider everywhere but the transformer width


@pytest.fixture
def narrow(tmp_path):
    model = tiny_model(seed=6, head="mask_map")
    save_checkpoint(model, tmp_path / "narrow", target="Voc")
    return model


def _signal() -> torch.Tensor:
    return torch.randn(2, 2, 4096, generator=torch.Generator().manual_seed(1))


def test_a_wider_model_starts_out_computing_the_same(narrow, tmp_path):
    wide = tiny_model(seed=7, channels=WIDE, head="mask_map")
    changed = init_weights(wide, tmp_path / "narrow.safetensors")
    x = _signal()
    with torch.no_grad():
        torch.testing.assert_close(wide.eval()(x), narrow.eval()(x), rtol=0, atol=1e-5)
        # in training mode BatchNorm uses batch statistics, per channel: the old channels' are unchanged
        torch.testing.assert_close(wide.train()(x), narrow.train()(x), rtol=0, atol=1e-5)
    # Blocks that kept their width in the narrow model had no shortcut; wider, they need one (it starts as
    # the identity on the old channels). The transformer is not touched.
    assert "encoder_block1.conv_block.shortcut.weight" in changed
    assert "encoder_block4.conv_block.shortcut.weight" in changed
    assert "encoder_block1.conv_block.conv1.weight" in changed
    assert not any(name.startswith(("t_blocks", "f_blocks")) for name in changed)
    shortcut = wide.encoder_block4.conv_block.shortcut.weight.detach()[:16, :, 0, 0]
    assert torch.equal(shortcut[:, :16], torch.eye(16)) and not shortcut[:, 16:].any()
    # Old weights sit at their old places; new inputs to old outputs are zero; new outputs keep their init.
    conv = wide.encoder_block2.conv_block.conv1.weight.detach()
    assert torch.equal(conv[:8, :4], narrow.encoder_block2.conv_block.conv1.weight)
    assert not conv[:8, 4:].any() and conv[8:].std() > 0
    skip_side = wide.decoder_block2.conv_block.conv1.weight.detach()  # reads cat(upsampled 24, skip 24)
    old = narrow.decoder_block2.conv_block.conv1.weight
    assert torch.equal(skip_side[:8, 24:40], old[:, 16:]) and not skip_side[:8, 40:].any()


def test_the_zero_weights_into_old_channels_get_a_gradient(narrow, tmp_path):
    wide = tiny_model(seed=7, channels=WIDE, head="mask_map")
    init_weights(wide, tmp_path / "narrow.safetensors")
    wide.train()(_signal()).pow(2).mean().backward()
    assert wide.post_fc.weight.grad[:, 4:].abs().max() > 0
    assert wide.decoder_block4.conv_block.conv2.weight.grad[:4, 4:].abs().max() > 0


def test_widening_and_deepening_together(narrow, tmp_path):
    grown = tiny_model(seed=8, channels=WIDE, head="mask_map", n_layer=narrow.config.n_layer + 1).eval()
    changed = init_weights(grown, tmp_path / "narrow.safetensors")
    assert any(name.startswith("t_blocks.1.") for name in changed)
    x = _signal()
    with torch.no_grad():
        torch.testing.assert_close(grown(x), narrow.eval()(x), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"channels": (4, 6, 16, 16)}, r"cannot widen channels \[4, 8, 16, 16\] to \[4, 6, 16, 16\]"),
        ({"channels": (4, 8, 32, 32), "n_embd": 32}, r"cannot widen: 'n_embd' is 16 there, 32 here"),
        ({"channels": WIDE, "n_fft": 512}, r"cannot widen: 'n_fft' is 256 there, 512 here"),
    ],
)
def test_what_cannot_be_widened_is_a_one_line_error(narrow, tmp_path, overrides, message):
    with pytest.raises(CheckpointError, match=message):
        init_weights(tiny_model(head="mask_map", **overrides), tmp_path / "narrow.safetensors")


def test_a_block_that_would_lose_its_shortcut_is_refused(tmp_path):
    model = tiny_model(seed=2, channels=(4, 8, 12, 16))
    save_checkpoint(model, tmp_path / "m", target="Voc")
    with pytest.raises(CheckpointError, match=r"cannot widen encoder_block3.conv_block: .* drop the shortcut"):
        init_weights(tiny_model(channels=(4, 12, 12, 16)), tmp_path / "m.safetensors")
