"""Training: the paper's two-stage recipe (L1, then LSGAN with feature matching).

    from stemrestore.train import Trainer, load_config
    config = load_config("configs/tiny.yaml", ["optim.lr=1e-3"])
    Trainer(config, "runs/tiny", resume=True).train()

See ``docs/training.md``.
"""

from stemrestore.train.config import TrainConfig, build_config, load_config
from stemrestore.train.trainer import Trainer, TrainingError, TrainResult

__all__ = ["TrainConfig", "TrainResult", "Trainer", "TrainingError", "build_config", "load_config"]
