"""Regenerate ``demo_reference.npz``: the shipped demo checkpoint's output on a fixed input.

Run after deliberately changing the shipped checkpoint or the model's numerics:

    python tests/data/make_demo_reference.py

``tests/test_demo_regression.py`` then checks every later change reproduces it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SR = 44100
STRIDE = 8  #: every 8th output sample is stored: 16 kB, enough to catch any numeric drift


def reference_input() -> np.ndarray:
    """1.5 s of stereo: a vibrato tone with harmonics over a bass line and noise (seed 0)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(1.5 * SR)) / SR
    voice = sum(0.3 / k * np.sin(2 * np.pi * k * 220 * t + 3 * np.sin(2 * np.pi * 5 * t)) for k in range(1, 6))
    bass = 0.4 * np.sign(np.sin(2 * np.pi * 55 * t))
    left = voice + bass + 0.02 * rng.standard_normal(t.size)
    right = 0.8 * voice + bass + 0.02 * rng.standard_normal(t.size)
    return (0.5 * np.stack([left, right])).astype(np.float32)


def demo_output() -> np.ndarray:
    from stemrestore.models.checkpoint import default_checkpoint
    from stemrestore.restore import Restorer

    restorer = Restorer(default_checkpoint(), device="cpu")
    return restorer.restore(reference_input(), SR)


if __name__ == "__main__":
    out = demo_output()
    path = Path(__file__).with_name("demo_reference.npz")
    np.savez_compressed(path, decimated=out[:, ::STRIDE], shape=np.array(out.shape))
    print(f"wrote {path} ({path.stat().st_size} bytes)")
