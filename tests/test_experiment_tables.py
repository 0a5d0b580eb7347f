"""experiments/tables.py turns evaluation summaries and exported models into the README tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from stemrestore.models import ConditionalConfig, ConditionalUFormer, UFormer, UFormerConfig, save_checkpoint
from stemrestore.models.uformer import count_parameters

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "tables.py"


def load_tables():
    spec = importlib.util.spec_from_file_location("tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summary(path: Path, estimators: dict[str, float]) -> None:
    path.mkdir(parents=True)
    body = {name: {"metrics": {m: {"mean": base + k, "ci95": 0.5, "n": 7}
                               for k, m in enumerate(("si_sdr", "mel_ssim", "multi_mel_snr"))}}
            for name, base in estimators.items()}
    (path / "summary.json").write_text(json.dumps({"estimators": body}))


def test_tables_from_a_finished_run(tmp_path, capsys):
    models = tmp_path / "models"
    small = dict(channels=[4, 8, 8, 8], n_layer=1, n_head=1, n_embd=8, n_fft=256, hop=64)
    one_class, conditional = UFormer(UFormerConfig(**small)), ConditionalUFormer(ConditionalConfig(**small, embed_dim=4))
    save_checkpoint(one_class, models / "Voc-paper", target="Voc")
    save_checkpoint(one_class, models / "Voc-studio", target="Voc")
    save_checkpoint(conditional, models / "conditional", target="Voc")
    summary(tmp_path / "eval" / "A-Voc", {"identity": -3.0, "Voc-paper": 1.0, "conditional": 2.0})
    # Per-example scores: conditional - per-class is +1, +3 dB SI-SDR (mean 2, std 1, n 2).
    lines = ["estimator,id,class,segment,start_s,end_s,mel_ssim,si_sdr,multi_mel_snr"]
    for ex, (cond, single) in enumerate(((2.0, 1.0), (4.0, 1.0))):
        lines += [f"conditional,{ex},Voc,0,0,10,0.5,{cond},3", f"Voc-paper,{ex},Voc,0,0,10,0.5,{single},3",
                  f"identity,{ex},Voc,0,0,10,0.1,-3,1"]
    (tmp_path / "eval" / "A-Voc" / "per_example.csv").write_text("\n".join(lines) + "\n")
    summary(tmp_path / "eval" / "B-paper-test", {"identity": -3.0, "Voc-paper": 1.0, "Voc-studio": 0.25})
    summary(tmp_path / "eval" / "B-studio-test", {"identity": -4.0, "Voc-paper": -1.0, "Voc-studio": 0.5})

    load_tables().main(tmp_path)
    out = capsys.readouterr().out
    assert "| Voc | per-class (Voc) | 1.00 ± 0.50 | 2.0000 ± 0.5000 | 3.00 ± 0.50 | 7 |" in out
    assert "| Voc | conditional | 2.00 ± 0.50 |" in out
    paired_ci = 1.96 * 1.0 / 2 ** 0.5
    assert f"| Voc | **conditional − per-class** (paired) | +2.00 ± {paired_ci:.2f} | +0.0000 ± 0.0000 |" in out
    # trainable parameters, as count_parameters (BatchNorm statistics are buffers, not parameters)
    assert f"| 1 per-class models | {count_parameters(one_class):,} |" in out
    assert f"| one conditional model | {count_parameters(conditional):,} |" in out
    assert count_parameters(conditional) > count_parameters(one_class)
    assert "| studio protocol | 0.25 ± 0.50 | 1.2500 ± 0.5000 | 0.50 ± 0.50 | 1.5000 ± 0.5000 |" in out
