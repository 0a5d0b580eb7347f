"""The training configuration: nested dataclasses whose defaults are the paper's recipe.

``configs/paper/<target>.yaml`` spell out the paper's recipe for each target (SPEC §6);
any field can be changed from YAML or from the command line
(``optim.lr=1e-3``); an unknown field is an error that names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from stemrestore.config import apply_overrides, from_dict, load_yaml
from stemrestore.errors import ConfigError
from stemrestore.models import ConditionalConfig, ConditionalUFormer, UFormer, UFormerConfig
from stemrestore.models.discriminators import DiscriminatorConfig
from stemrestore.taxonomy import validate_class

PRECISIONS = ("fp32", "bf16", "fp16")
CPU_PRECISIONS = ("fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")
METRICS = ("si_sdr", "mel_ssim")
MODEL_KINDS = ("uformer", "conditional")
CLASS_LEVELS = ("group", "code")


def _number(value: Any, integer: bool) -> Any:
    """The number a user meant: YAML reads ``1e-3`` (no dot) as a string, ``1e5`` steps too."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if integer and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _require(
    obj: Any, section: str, names: tuple[str, ...], *, allow_zero: bool = False, integer: bool = False
) -> None:
    """Each named field must be a number > 0 (or >= 0): a typo fails at start-up, not mid-run."""
    for name in names:
        value = _number(getattr(obj, name), integer)
        kinds = (int,) if integer else (int, float)
        ok = isinstance(value, kinds) and not isinstance(value, bool)
        if not ok or value < 0 or (value == 0 and not allow_zero):
            kind = "an integer" if integer else "a number"
            bound = ">= 0" if allow_zero else "> 0"
            raise ConfigError(f"{section}.{name}: must be {kind} {bound}, got {getattr(obj, name)!r}")
        setattr(obj, name, value)


@dataclass
class ModelConfig(UFormerConfig):
    """The network: the U-Former's settings, and whether it restores one class or any."""

    kind: str = "uformer"  #: "uformer" (one class, data.target) or "conditional" (any class, FiLM)
    embed_dim: int = 128  #: class-vector width of a conditional model

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind not in MODEL_KINDS:
            raise ConfigError(f"model.kind: '{self.kind}' is not one of {', '.join(MODEL_KINDS)}")
        _require(self, "model", ("embed_dim",), integer=True)

    def build(self) -> UFormer:
        """A fresh network of this kind (its ``config`` holds only the architecture's fields)."""
        base = {f.name: getattr(self, f.name) for f in fields(UFormerConfig)}
        if self.kind == "conditional":
            return ConditionalUFormer(ConditionalConfig(**base, embed_dim=self.embed_dim))
        return UFormer(UFormerConfig(**base))


@dataclass
class DataConfig:
    """Training data: the online protocol of SPEC §3 over a RawStems tree."""

    root: str | None = None  #: RawStems root (also ``--data``)
    target: str = "Voc"  #: class id or alias of the stem to restore
    split_file: str | None = None  #: the paper's ``<class>_train.txt``; None = every song
    protocol: str | None = None  #: degradation YAML; None = the paper's settings
    segment_seconds: float = 10.0
    items_per_epoch: int | None = None  #: None = one item per song
    batch_size: int = 16  #: stage 1, summed over all processes
    stage2_batch_size: int = 4  #: stage 2, summed over all processes
    num_workers: int = 4  #: DataLoader worker processes per training process
    # A conditional model draws a class per example (data.target is then its default class):
    classes: list[str] | None = None  #: classes to train; None = every class in the corpus at class_levels
    class_levels: tuple[str, ...] = CLASS_LEVELS  #: "group" (Gtr), "code" (Gtr_EG) or both
    class_weights: dict[str, float] | None = None  #: relative draw weights; unlisted classes weigh 1
    split_dir: str | None = None  #: per-class ``<class>_train.txt`` lists (conditional only)

    def __post_init__(self) -> None:
        if self.classes is not None:
            self.classes = [validate_class(c) for c in self.classes]
        bad_level = [level for level in self.class_levels if level not in CLASS_LEVELS]
        if not self.class_levels or bad_level:
            levels = ", ".join(CLASS_LEVELS)
            raise ConfigError(f"data.class_levels: must be some of {levels}, got {list(self.class_levels)}")
        if self.class_weights is not None:  # the dataset checks the weights against the corpus
            self.class_weights = {validate_class(k): _number(v, False) for k, v in self.class_weights.items()}
        _require(self, "data", ("segment_seconds",))
        _require(self, "data", ("batch_size", "stage2_batch_size"), integer=True)
        _require(self, "data", ("num_workers",), allow_zero=True, integer=True)
        if self.items_per_epoch is not None:
            _require(self, "data", ("items_per_epoch",), integer=True)


@dataclass
class OptimConfig:
    """Generator optimiser: Adam (AdamW with weight decay 0 by default)."""

    lr: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    grad_clip: float = 2.0  #: max global gradient norm, for generator and discriminator
    max_nonfinite: int = 10  #: consecutive non-finite steps that stop the run

    def __post_init__(self) -> None:
        _require(self, "optim", ("lr", "grad_clip"))
        _require(self, "optim", ("max_nonfinite",), integer=True)
        _require(self, "optim", ("weight_decay",), allow_zero=True)


@dataclass
class LossConfig:
    """Reconstruction loss: the paper's waveform L1, plus optional SI-SDR and log-mel terms (not in the paper)."""

    si_sdr_weight: float = 0.0  #: weight of the negative SI-SDR (dB) added to L1; 0 = the paper
    mel_weight: float = 0.0  #: weight of a log-mel L1 term (losses.log_mel_loss); 0 = the paper

    def __post_init__(self) -> None:
        _require(self, "loss", ("si_sdr_weight", "mel_weight"), allow_zero=True)


@dataclass
class GanConfig:
    """Stage 2: least-squares GAN with feature matching."""

    lr: float = 5e-5  #: discriminator learning rate
    betas: tuple[float, float] = (0.8, 0.99)  #: discriminator Adam betas (HiFi-GAN's)
    lambda_gen: float = 0.001
    lambda_feat: float = 0.01
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)

    def __post_init__(self) -> None:
        _require(self, "gan", ("lr",))
        _require(self, "gan", ("lambda_gen", "lambda_feat"), allow_zero=True)


#: Learning-rate shapes after the warm-up.
DECAYS = ("constant", "cosine")


@dataclass
class ScheduleConfig:
    """Steps. ``stage2_step`` is the stage switch: GAN training from that step on."""

    max_steps: int = 85_000
    stage2_step: int | None = 50_000  #: None = stage 1 only; 0 = GAN from the start
    warmup_steps: int = 1000  #: linear learning-rate warm-up (the discriminator's from stage 2)
    #: after warm-up: "constant" (the paper) or "cosine" (half-cosine to ``min_lr_ratio`` at max_steps)
    decay: str = "constant"
    min_lr_ratio: float = 0.1  #: final rate / configured rate for ``decay: cosine``
    #: wall-clock limit of one ``train`` process (None = none): at the first step past it the run
    #: validates, checkpoints, exports and exits as at ``max_steps``; ``--resume`` goes on from there
    max_minutes: float | None = None

    def __post_init__(self) -> None:
        _require(self, "schedule", ("max_steps",), integer=True)
        if self.max_minutes is not None:
            _require(self, "schedule", ("max_minutes",))
        _require(self, "schedule", ("warmup_steps",), allow_zero=True, integer=True)
        if self.decay not in DECAYS:
            raise ConfigError(f"schedule.decay: '{self.decay}' is not one of {', '.join(DECAYS)}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ConfigError(f"schedule.min_lr_ratio: {self.min_lr_ratio} is not within [0, 1]")
        if self.stage2_step is not None:
            _require(self, "schedule", ("stage2_step",), allow_zero=True, integer=True)


@dataclass
class CheckpointConfig:
    every: int = 1000  #: steps between checkpoints (one is also written at the end)
    keep_last: int = 3  #: step checkpoints kept; ``best.pt`` is kept besides
    best_metric: str = "si_sdr"  #: validation metric that picks ``best.pt`` (higher is better)
    #: checkpoint whose weights a new run starts from (fine-tuning); ignored when resuming
    init_from: str | None = None

    def __post_init__(self) -> None:
        _require(self, "checkpoint", ("every", "keep_last"), integer=True)
        if self.best_metric not in METRICS:
            raise ConfigError(f"checkpoint.best_metric: '{self.best_metric}' is not one of {', '.join(METRICS)}")


@dataclass
class ValidationConfig:
    testset: str | None = None  #: offline test set folder (index.jsonl) or manifest; None = skip
    every: int = 2000
    max_examples: int = 32  #: first N pairs of the test set
    max_seconds: float = 10.0  #: each pair is cropped to this length
    audio_examples: int = 2  #: pairs logged as audio and spectrogram images

    def __post_init__(self) -> None:
        _require(self, "validation", ("max_seconds",))
        _require(self, "validation", ("every", "max_examples"), integer=True)
        _require(self, "validation", ("audio_examples",), allow_zero=True, integer=True)


@dataclass
class LoggingConfig:
    every: int = 50  #: steps between scalar logs (TensorBoard and metrics.jsonl)
    tensorboard: bool = True
    progress: bool = True  #: tqdm bar on stderr

    def __post_init__(self) -> None:
        _require(self, "logging", ("every",), integer=True)


@dataclass
class RuntimeConfig:
    """Device, precision and threads; distribution comes from ``torchrun``'s environment."""

    device: str = "auto"  #: auto = CUDA when present, else CPU
    precision: str = "bf16"  #: autocast on CUDA ("fp32", "bf16", "fp16")
    #: autocast on the CPU ("fp32", "bf16"). fp32 by default: it is exact and reproducible across
    #: CPUs, and bf16 pays only where the CPU computes it natively (AVX512-BF16 or AMX).
    cpu_precision: str = "fp32"
    threads: int | None = None  #: CPU threads per process; None = torch's default

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ConfigError(f"runtime.device: '{self.device}' is not one of {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"runtime.precision: '{self.precision}' is not one of {', '.join(PRECISIONS)}")
        if self.cpu_precision not in CPU_PRECISIONS:
            raise ConfigError(
                f"runtime.cpu_precision: '{self.cpu_precision}' is not one of {', '.join(CPU_PRECISIONS)}"
            )
        if self.threads is not None:
            _require(self, "runtime", ("threads",), integer=True)


@dataclass
class TrainConfig:
    """Everything a training run needs; the defaults reproduce the paper."""

    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    gan: GanConfig = field(default_factory=GanConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError(f"seed: must be an integer >= 0, got {self.seed!r}")

    def stage(self, step: int) -> int:
        """Training stage (1 = L1 only, 2 = with GAN) of the step that starts at ``step``."""
        switch = self.schedule.stage2_step
        return 2 if switch is not None and step >= switch else 1

    def batch_size(self, step: int) -> int:
        """Global batch size of ``step``."""
        return self.data.stage2_batch_size if self.stage(step) == 2 else self.data.batch_size

    @property
    def uses_gan(self) -> bool:
        """Whether any step of this run trains a discriminator."""
        switch = self.schedule.stage2_step
        return switch is not None and switch < self.schedule.max_steps


def build_config(data: dict[str, Any] | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """A :class:`TrainConfig` from plain data plus ``key.sub=value`` overrides."""
    return from_dict(TrainConfig, apply_overrides(data or {}, overrides))


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config (None = the paper's defaults) and apply command-line overrides."""
    return build_config(load_yaml(path) if path is not None else {}, overrides)
