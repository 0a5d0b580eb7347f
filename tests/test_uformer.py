"""The U-Former network: exactness against an independent computation and the paper's output."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stemrestore.errors import ConfigError
from stemrestore.models import UFormer, UFormerConfig, count_parameters

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
needs_fixtures = pytest.mark.skipif(
    not (FIXTURES / "uformer_reference.npz").is_file(),
    reason=f"paper reference fixture not found in {FIXTURES.resolve()}",
)

TINY = {
    "channels": (4, 8, 16, 16),
    "n_layer": 1,
    "n_head": 2,
    "n_embd": 16,
    "n_fft": 256,
    "hop": 64,
    "sample_rate": 8000,
}


def tiny_model(seed: int = 0, **overrides) -> UFormer:
    """A small U-Former in eval mode, every tensor drawn from an explicitly seeded generator."""
    model = UFormer(UFormerConfig(**{**TINY, **overrides}))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            shape = tensor.shape
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                value = 1.0 + 0.5 * torch.rand(shape, generator=gen)
            elif name.endswith(("running_mean", "bias")):
                value = 0.1 * torch.randn(shape, generator=gen)
            elif name.endswith("scale") or ".bn" in name:
                value = 1.0 + 0.1 * torch.randn(shape, generator=gen)
            else:
                value = torch.randn(shape, generator=gen) / math.sqrt(math.prod(shape[1:]))
            tensor.copy_(value)
    return model.eval()


def load_fixture_module():
    """The shared fixture generator (uformer_fixture.py), imported from its file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("uformer_fixture", FIXTURES / "uformer_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def released_layout() -> list[tuple[str, tuple[int, ...]]]:
    """Keys and shapes of a paper-release state_dict, written out from UFORMER.md's rules."""
    rows: list[tuple[str, tuple[int, ...]]] = [("t_rope", (128, 16, 2)), ("f_rope", (2000, 16, 2))]

    def conv_block(prefix: str, c_in: int, c_out: int) -> None:
        for bn, c in (("bn1", c_in), ("bn2", c_out)):
            for part in ("weight", "bias", "running_mean", "running_var"):
                rows.append((f"{prefix}.conv_block.{bn}.{part}", (c,)))
            rows.append((f"{prefix}.conv_block.{bn}.num_batches_tracked", ()))
        rows.append((f"{prefix}.conv_block.conv1.weight", (c_out, c_in, 3, 3)))
        rows.append((f"{prefix}.conv_block.conv2.weight", (c_out, c_out, 3, 3)))
        if c_in != c_out:
            rows.append((f"{prefix}.conv_block.shortcut.weight", (c_out, c_in, 1, 1)))
            rows.append((f"{prefix}.conv_block.shortcut.bias", (c_out,)))

    for i, (c_in, c_out) in enumerate([(4, 16), (16, 64), (64, 256), (256, 256)], 1):
        conv_block(f"encoder_block{i}", c_in, c_out)
    for i, (c_in, c_out) in enumerate([(256, 256), (256, 64), (64, 16), (16, 16)], 1):
        rows.append((f"decoder_block{i}.upsample.weight", (c_in, c_in, 2, 2)))
        conv_block(f"decoder_block{i}", 2 * c_in, c_out)
    for kind in ("t_blocks", "f_blocks"):
        for i in range(6):
            p = f"{kind}.{i}"
            rows += [(f"{p}.att_norm.scale", (256,)), (f"{p}.att.c_attn.weight", (768, 256))]
            rows += [(f"{p}.att.c_proj.weight", (256, 256)), (f"{p}.ffn_norm.scale", (256,))]
            rows += [(f"{p}.mlp.c_fc1.weight", (682, 256)), (f"{p}.mlp.c_fc2.weight", (682, 256))]
            rows += [(f"{p}.mlp.c_proj.weight", (256, 682))]
    return rows + [("post_fc.weight", (4, 16, 1, 1)), ("post_fc.bias", (4,))]


def oracle_forward(state: dict[str, torch.Tensor], cfg: UFormerConfig, wave: torch.Tensor) -> torch.Tensor:
    """The network of UFORMER.md computed independently, in float64, from a state_dict."""
    sd = {k: v.double() for k, v in state.items() if not k.endswith("num_batches_tracked")}
    wave = wave.double()
    b, c, n = wave.shape
    window = torch.hann_window(cfg.n_fft, dtype=torch.float64)
    spec = (
        torch.stft(
            wave.reshape(b * c, n),
            cfg.n_fft,
            cfg.hop,
            window=window,
            center=True,
            normalized=True,
            return_complex=True,
        )
        .reshape(b, c, cfg.n_fft // 2 + 1, -1)
        .transpose(2, 3)
    )
    frames = spec.shape[2]
    x = torch.stack([part for ch in range(c) for part in (spec[:, ch].real, spec[:, ch].imag)], 1)[..., :-1]
    depth = len(cfg.channels)
    x = torch.cat([x, x.new_zeros(b, 2 * c, -frames % 2**depth, x.shape[-1])], 2)
    mixture = torch.complex(x[:, 0::2], x[:, 1::2])

    def block(p: str, h: torch.Tensor) -> torch.Tensor:
        def bn_act(name: str, v: torch.Tensor) -> torch.Tensor:
            s = lambda k: sd[f"{p}.conv_block.{name}.{k}"][None, :, None, None]
            v = (v - s("running_mean")) / torch.sqrt(s("running_var") + 1e-5) * s("weight") + s("bias")
            return torch.where(v > 0, v, 0.01 * v)

        y = F.conv2d(bn_act("bn1", h), sd[f"{p}.conv_block.conv1.weight"], padding=1)
        y = F.conv2d(bn_act("bn2", y), sd[f"{p}.conv_block.conv2.weight"], padding=1)
        if f"{p}.conv_block.shortcut.weight" in sd:
            w = sd[f"{p}.conv_block.shortcut.weight"][:, :, 0, 0]
            h = torch.einsum("oc,bctf->botf", w, h) + sd[f"{p}.conv_block.shortcut.bias"][None, :, None, None]
        return h + y

    skips = []
    for i in range(1, depth + 1):
        skip = block(f"encoder_block{i}", x)
        skips.append(skip)
        bb, cc, tt, ff = skip.shape
        x = skip.reshape(bb, cc, tt // 2, 2, ff // 2, 2).mean((3, 5))

    def rotate(v: torch.Tensor) -> torch.Tensor:  # (N, L, H, D) by complex multiplication
        length, dim = v.shape[1], v.shape[-1]
        angle = torch.arange(length, dtype=torch.float64)[:, None] * 10000.0 ** (
            -torch.arange(0, dim, 2) / dim
        )
        rot = torch.polar(torch.ones_like(angle), angle)[None, :, None, :]
        return torch.view_as_real(
            torch.view_as_complex(v.reshape(*v.shape[:-1], -1, 2).contiguous()) * rot
        ).flatten(-2)

    def transformer(p: str, h: torch.Tensor) -> torch.Tensor:  # h: (N, L, E)
        norm = lambda v, k: v / torch.sqrt((v * v).mean(-1, keepdim=True) + 1e-6) * sd[f"{p}.{k}.scale"]
        heads = cfg.n_head
        q, k, v = (norm(h, "att_norm") @ sd[f"{p}.att.c_attn.weight"].T).chunk(3, -1)
        q, k, v = (t.reshape(*t.shape[:2], heads, -1) for t in (q, k, v))
        q, k = rotate(q), rotate(k)
        att = torch.einsum("nlhd,nmhd->nhlm", q, k) / math.sqrt(q.shape[-1])
        out = torch.einsum("nhlm,nmhd->nlhd", att.softmax(-1), v).flatten(2)
        h = h + out @ sd[f"{p}.att.c_proj.weight"].T
        g = norm(h, "ffn_norm")
        mlp = F.silu(g @ sd[f"{p}.mlp.c_fc1.weight"].T) * (g @ sd[f"{p}.mlp.c_fc2.weight"].T)
        return h + mlp @ sd[f"{p}.mlp.c_proj.weight"].T

    bb, e, tt, ff = x.shape
    for i in range(cfg.n_layer):
        x = transformer(f"t_blocks.{i}", x.permute(0, 3, 2, 1).reshape(bb * ff, tt, e))
        x = x.reshape(bb, ff, tt, e).permute(0, 2, 1, 3).reshape(bb * tt, ff, e)
        x = transformer(f"f_blocks.{i}", x).reshape(bb, tt, ff, e).permute(0, 3, 1, 2)
    for k in range(1, depth + 1):
        w = sd[f"decoder_block{k}.upsample.weight"]  # (in, out, 2, 2): each input pixel paints a 2x2 patch
        up = torch.einsum("bcij,codk->boidjk", x, w).reshape(
            x.shape[0], w.shape[1], 2 * x.shape[2], 2 * x.shape[3]
        )
        x = block(f"decoder_block{k}", torch.cat([up, skips[depth - k]], 1))
    def conv1x1(name: str) -> torch.Tensor:
        y = torch.einsum("oc,bctf->botf", sd[f"{name}.weight"][:, :, 0, 0], x) + sd[f"{name}.bias"][None, :, None, None]
        return torch.complex(y[:, 0::2], y[:, 1::2])

    out = conv1x1("post_fc")
    if "mask_fc.weight" in sd:  # head "mask_map": a complex mask on the mixture spectrum, plus the mapping
        out = out + conv1x1("mask_fc") * mixture
    out = out[:, :, :frames]
    out = torch.cat([out, out.new_zeros(*out.shape[:-1], 1)], -1)
    wav = torch.istft(
        out.transpose(2, 3).reshape(b * cfg.out_channels, cfg.n_fft // 2 + 1, frames),
        cfg.n_fft,
        cfg.hop,
        window=window,
        center=True,
        normalized=True,
        length=n,
    )
    return wav.reshape(b, cfg.out_channels, n)


def rel_error(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_default_config_is_the_papers_network():
    model = UFormer()
    layout = [(k, s) for k, s in released_layout() if not k.endswith("_rope")]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == layout
    assert count_parameters(model) == sum(
        math.prod(s) for k, s in layout if "running" not in k and "num_batches" not in k
    )
    assert 14.2e6 < count_parameters(model) < 14.4e6
    if (FIXTURES / "uformer_layout.txt").is_file():  # the shared layout file says the same
        fixture = load_fixture_module()
        assert fixture.layout(FIXTURES / fixture.LAYOUT) == released_layout()


@needs_fixtures
def test_matches_the_papers_reference_output():
    fixture = load_fixture_module()
    weights = fixture.weights(fixture.layout(FIXTURES / fixture.LAYOUT), seed=7)
    data = np.load(FIXTURES / "uformer_reference.npz")
    model = UFormer().eval()
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
    with torch.inference_mode():
        out = model(torch.from_numpy(data["input"]))
    assert out.shape == data["output"].shape
    assert rel_error(out, data["output"]) < 1e-4
    # the test oracle is itself faithful to the paper's implementation
    oracle = oracle_forward(model.state_dict(), model.config, torch.from_numpy(data["input"]))
    assert rel_error(oracle, data["output"]) < 1e-4


@pytest.mark.parametrize(
    "samples",
    [
        8000,  # 126 frames: padded to 128
        (16 * 8 - 1) * 64,  # exactly 128 frames, a multiple of 16 (the reference returned nothing)
        1001,  # odd length, not a multiple of the hop
        100,  # shorter than n_fft/2: reflect padding impossible without the model's zero extension
    ],
)
@pytest.mark.parametrize("head", ["map", "mask_map"])  # mask_map: the mask layer's weights random too
def test_matches_independent_computation_and_keeps_length(samples, head):
    model = tiny_model(seed=1, head=head)
    wave = torch.from_numpy(
        np.random.default_rng(samples).standard_normal((2, 2, samples)).astype(np.float32) * 0.3
    )
    with torch.inference_mode():
        out = model(wave)
    assert out.shape == wave.shape
    if samples > model.config.n_fft // 2:
        expected = oracle_forward(model.state_dict(), model.config, wave)
        assert rel_error(out, expected) < 1e-4
    assert float(out.abs().mean()) > 1e-3  # not silence: the padded frames were removed, not the signal


def test_no_length_cap_beyond_the_references_rope_tables():
    # hop 16: 40000 samples = 2501 frames -> 157 positions after /16, beyond the reference's 128
    model = tiny_model(seed=2, n_fft=64, hop=16)
    wave = torch.from_numpy(np.random.default_rng(3).standard_normal((1, 2, 40000)).astype(np.float32) * 0.3)
    with torch.inference_mode():
        out = model(wave)
    assert rel_error(out, oracle_forward(model.state_dict(), model.config, wave)) < 1e-4


def test_channels_last_and_classic_layout_agree():
    model = tiny_model(seed=4)
    wave = torch.from_numpy(np.random.default_rng(4).standard_normal((2, 2, 4000)).astype(np.float32))
    with torch.inference_mode():
        fast = model(wave)
        classic = model.use_channels_last(False)(wave)
    assert rel_error(fast, classic) < 1e-5


def test_rope_tables_built_under_inference_mode_still_train():
    model = tiny_model(seed=5)
    wave = torch.from_numpy(np.random.default_rng(5).standard_normal((1, 2, 3000)).astype(np.float32))
    with torch.inference_mode():
        model(wave)  # caches the rotary tables for this length inside inference mode
    model.train()
    loss = model(wave).abs().mean()
    loss.backward()
    grad = model.t_blocks[0].att.c_attn.weight.grad
    assert grad is not None and float(grad.abs().sum()) > 0


def test_a_fresh_mask_map_head_computes_what_the_map_model_did():
    plain = tiny_model(seed=7)
    grown = UFormer(UFormerConfig(**TINY, head="mask_map")).eval()
    missing = grown.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert sorted(missing) == ["mask_fc.bias", "mask_fc.weight"]
    wave = torch.from_numpy(np.random.default_rng(7).standard_normal((1, 2, 3000)).astype(np.float32))
    with torch.inference_mode():
        assert torch.equal(grown(wave), plain(wave))


def test_a_unit_mask_passes_the_mixture_through():
    model = UFormer(UFormerConfig(**TINY, head="mask_map")).eval()
    with torch.no_grad():
        for layer in (model.post_fc, model.mask_fc):
            layer.weight.zero_()
            layer.bias.zero_()
        model.mask_fc.bias[0::2] = 1.0  # real part 1, imaginary 0, for each channel
    t = np.arange(4000) / TINY["sample_rate"]
    wave = np.stack([np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 1000 * t)]).astype(np.float32)
    with torch.inference_mode():
        out = model(torch.from_numpy(wave)[None])[0].numpy()
    error_db = 20 * np.log10(np.linalg.norm(out - wave) / np.linalg.norm(wave))
    assert error_db < -60  # exact but for float rounding (no energy at the dropped Nyquist bin)


def test_config_round_trip_and_validation():
    model = tiny_model()
    clone = UFormer.from_config(model.get_config())
    assert clone.config == model.config
    assert model.get_config()["architecture"] == "uformer"
    with pytest.raises(ConfigError, match="n_embd"):
        UFormerConfig(channels=(16, 64, 128), n_embd=256)
    with pytest.raises(ConfigError, match="n_fft"):
        UFormerConfig(n_fft=2000)
    with pytest.raises(ConfigError, match="unknown field 'n_layers'"):
        UFormerConfig.from_dict({"n_layers": 3})
    with pytest.raises(ConfigError, match="head: 'mask' is not one of map, mask_map"):
        UFormerConfig(head="mask")
    with pytest.raises(ConfigError, match="in_channels .2. must equal out_channels .1."):
        UFormerConfig(head="mask_map", out_channels=1)
    grown = tiny_model(head="mask_map")
    assert UFormer.from_config(grown.get_config()).config.head == "mask_map"


def test_bad_input_shape_is_reported():
    with pytest.raises(ValueError, match=r"expected \(batch, 2, samples\)"):
        tiny_model()(torch.zeros(1, 3, 1000))
