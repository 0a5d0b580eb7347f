"""Score estimators on an offline test set: per-segment metrics, summary, table, plots.

An :class:`Estimator` is a named callable ``(audio, sr) -> audio``: the identity
baseline, a trained model (:func:`restorer_estimator`) or any test double are
scored the same way. :func:`evaluate` restores every mixture once per
estimator, cuts reference and estimate into segments (:func:`segment_bounds`),
scores each with :data:`stemrestore.metrics.METRICS` and writes
``per_example.csv``, ``summary.json``, ``table.md`` and ``plots/`` atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from stemrestore.progress import progress_bar

from stemrestore.audio import check_audio, load_audio, resample, rms_db
from stemrestore.errors import AudioError, ConfigError, StemRestoreError
from stemrestore.metrics import METRICS, match_pair, score
from stemrestore.fileio import write_atomic
from stemrestore.plots import histogram_png, mel_comparison_png

INDEX_NAME = "index.jsonl"
METRIC_KEYS = tuple(m.key for m in METRICS)


@dataclass(frozen=True)
class Pair:
    """One test example: a mixture and the clean target it should be restored to."""

    id: str
    mixture: Path
    target: Path
    stem_class: str | None = None
    #: what degraded it (:func:`~stemrestore.degrade.protocol.effect_labels` of its params file); () = unknown
    effects: tuple[str, ...] = ()


def load_pairs(path: str | os.PathLike) -> list[Pair]:
    """Pairs of a make-testset folder (its ``index.jsonl``) or of a CSV/JSONL manifest.

    Records need ``mixture`` and ``target`` (absolute, or relative to the
    file's folder) and may give ``id`` (default: the record's 0-based number,
    six digits), ``class`` and ``params`` (make-testset's record of the
    degradation, read for :attr:`Pair.effects`). Every referenced file must exist.
    """
    path = Path(path)
    if path.is_dir():
        if not (path / INDEX_NAME).is_file():
            raise ConfigError(f"{path}: no {INDEX_NAME}; give a make-testset folder or a .csv/.jsonl manifest")
        path = path / INDEX_NAME
    if not path.is_file():
        raise ConfigError(f"{path}: no such test set or manifest")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        records = _read_jsonl(path)
    elif suffix == ".csv":
        records = _read_csv(path)
    else:
        raise ConfigError(f"{path}: manifest must be .csv or .jsonl, got '{suffix}'")
    pairs, seen = [], set()
    for i, (line, rec) in enumerate(records):
        where = f"{path} line {line}"
        values = {key: str(rec.get(key) or "").strip() for key in ("mixture", "target")}
        for key, value in values.items():
            if not value:
                raise ConfigError(f"{where}: missing '{key}'")
        files = {key: _in_folder(path.parent, v) for key, v in values.items()}
        for key, file in files.items():
            if not file.is_file():
                raise AudioError(f"{where}: {key} file {file} does not exist")
        pair_id = str(rec.get("id") or f"{i:06d}")
        if pair_id in seen:
            raise ConfigError(f"{where}: duplicate id '{pair_id}'")
        seen.add(pair_id)
        effects = _effects(path.parent, str(rec.get("params") or "").strip(), where)
        stem_class = str(rec["class"]) if rec.get("class") else None
        pairs.append(Pair(pair_id, files["mixture"], files["target"], stem_class, effects))
    if not pairs:
        raise ConfigError(f"{path}: lists no pairs")
    return pairs


def _in_folder(folder: Path, value: str) -> Path:
    """A record's file path: absolute as given, else relative to the index or manifest's folder."""
    return Path(value) if Path(value).is_absolute() else folder / value


def _effects(folder: Path, params: str, where: str) -> tuple[str, ...]:
    """The effect labels of a record's ``params`` file (a make-testset ``params.json``); () without one."""
    from stemrestore.degrade.protocol import effect_labels

    if not params:
        return ()
    file = _in_folder(folder, params)
    try:
        record = json.loads(file.read_text())
    except OSError:
        raise ConfigError(f"{where}: params file {file} cannot be read") from None
    except json.JSONDecodeError:
        raise ConfigError(f"{where}: params file {file} is not valid JSON") from None
    try:
        return effect_labels(record.get("degradation", record) if isinstance(record, dict) else record)
    except ConfigError as exc:
        raise ConfigError(f"{where}: params file {file}: {exc}") from None


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"{path} line {line_no}: not valid JSON") from None
        if not isinstance(rec, dict):
            raise ConfigError(f"{path} line {line_no}: expected a JSON object")
        records.append((line_no, rec))
    return records


def _read_csv(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {"mixture", "target"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"{path}: CSV header lacks column(s) {', '.join(sorted(missing))}")
        return [(reader.line_num, row) for row in reader]


@dataclass(frozen=True)
class Estimator:
    """A named restoration function ``fn(audio, sr) -> audio`` (same shape and rate).

    ``sample_rate`` is the rate ``fn`` works at (None: any rate); the input is
    resampled to it and the output back to the reference's rate. ``for_class``,
    when given, makes the estimator conditional: ``for_class(cls)`` is the
    function that restores class ``cls``, used for pairs that name their class.
    """

    name: str
    fn: Callable[[np.ndarray, int], np.ndarray]
    sample_rate: int | None = None
    for_class: Callable[[str], Callable[[np.ndarray, int], np.ndarray]] | None = None

    def run(self, audio: np.ndarray, sr: int, out_sr: int, stem_class: str | None = None) -> np.ndarray:
        """Restore ``audio`` (at ``sr``) and return the result at ``out_sr``.

        A conditional estimator restores ``stem_class`` when given; others ignore it.
        """
        work_sr = self.sample_rate or sr
        fn = self.fn if stem_class is None or self.for_class is None else self.for_class(stem_class)
        out = check_audio(fn(resample(audio, sr, work_sr), work_sr), f"{self.name} output")
        return resample(out, work_sr, out_sr)


def identity() -> Estimator:
    """The mixture itself as the estimate (the paper's 'no processing' reference point)."""
    return Estimator("identity", lambda audio, sr: audio)


def restorer_estimator(
    checkpoint: str | os.PathLike, device: str = "cpu", name: str | None = None, **options: Any
) -> Estimator:
    """A trained model as an estimator, named after its checkpoint file unless ``name``.

    ``options`` are :class:`~stemrestore.restore.Restorer`'s keywords (``chunk_seconds``,
    ``overlap``, ``shifts``, ``tta``, ...), so a model is scored as ``restore`` runs it.

    A conditional checkpoint restores each pair's class (the pair's ``class`` field).
    """
    from stemrestore.restore import Restorer  # heavy (torch); only when a model is scored

    restorer = Restorer(checkpoint, device=device, **options)
    for_class = (lambda cls: restorer.with_target(cls).restore) if restorer.conditional else None
    return Estimator(name or Path(checkpoint).stem, restorer.restore, restorer.sample_rate, for_class)


@dataclass(frozen=True)
class EvalConfig:
    """Scoring settings. The paper scores 10-second segments; the rest are project choices."""

    segment_seconds: float = 10.0  #: pairs up to this long are one segment, longer ones are cut
    silence_db: float = -60.0  #: segments whose reference RMS is below this (dBFS) are skipped
    rank_metric: str = "mel_ssim"  #: picks the best / median / worst examples for plots
    plots: bool = True
    #: estimator the others are compared with segment by segment; None: the identity
    #: baseline when it is scored, otherwise the first estimator
    paired_against: str | None = None
    #: segments where the identity baseline's SI-SDR is below this are summarised apart as
    #: near-erased (the degradation all but removed the target, SPEC §3 a); needs the identity
    #: baseline among the estimators; None: no split
    erased_below_db: float | None = -10.0
    #: summarise the segments of each degradation effect apart, when the pairs name their effects
    by_effect: bool = True

    def __post_init__(self) -> None:
        if not self.segment_seconds > 0:
            raise ConfigError(f"segment_seconds: must be positive, got {self.segment_seconds}")
        if self.erased_below_db is not None and not math.isfinite(self.erased_below_db):
            raise ConfigError(f"erased_below_db: must be a finite number of dB, got {self.erased_below_db}")
        if self.rank_metric not in METRIC_KEYS:
            raise ConfigError(f"rank_metric: '{self.rank_metric}' is not one of {', '.join(METRIC_KEYS)}")


def segment_bounds(n_samples: int, sr: int, segment_seconds: float) -> list[tuple[int, int]]:
    """Non-overlapping ``[start, end)`` segments of a pair of ``n_samples``.

    A pair no longer than one segment is scored whole. A longer pair is cut
    from the start; a trailing remainder is kept as a shorter segment when it
    is at least half a segment long, and dropped otherwise.
    """
    size = max(1, round(segment_seconds * sr))
    if n_samples <= size:
        return [(0, n_samples)]
    bounds = [(s, s + size) for s in range(0, n_samples - size + 1, size)]
    end = bounds[-1][1]
    if n_samples - end >= size / 2:
        bounds.append((end, n_samples))
    return bounds


def confidence_interval(values: Sequence[float]) -> float:
    """Half-width of the 95 % CI of the mean: 1.96·std/√n with the population std (ddof 0).

    The population std is what the paper's reference code uses (``np.std``); n=1 gives 0.
    """
    v = np.asarray(values, dtype=float)
    return 0.0 if v.size == 0 else float(1.96 * v.std() / math.sqrt(v.size))


def summarize(values: Sequence[float]) -> dict[str, float | int | None]:
    """``{"mean", "ci95", "median", "n"}`` of one metric (all but n are None for n=0).

    The median is there because SI-SDR is heavy-tailed: a target that its degradation nearly
    erased scores -30 dB or less for any estimate, and a few such examples move the mean by
    whole decibels. SiSEC / museval report medians for the same reason; the paper reports means.
    """
    if len(values) == 0:
        return {"mean": None, "ci95": None, "median": None, "n": 0}
    return {"mean": float(np.mean(values)), "ci95": confidence_interval(values),
            "median": float(np.median(values)), "n": len(values)}


def _load_pair(pair: Pair) -> tuple[np.ndarray, int, np.ndarray, int]:
    mixture, mix_sr = load_audio(pair.mixture)
    target, ref_sr = load_audio(pair.target)
    return mixture, mix_sr, target, ref_sr


def evaluate(
    pairs: Sequence[Pair],
    estimators: Sequence[Estimator],
    out_dir: str | os.PathLike,
    config: EvalConfig | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Score every estimator on every pair; write the report to ``out_dir``; return the summary."""
    config = config or EvalConfig()
    names = [e.name for e in estimators]
    if not estimators:
        raise ConfigError("evaluate: give at least one estimator (a checkpoint or a baseline)")
    if len(set(names)) != len(names):
        raise ConfigError(f"evaluate: estimator names must be unique, got {', '.join(names)}")
    if not pairs:
        raise ConfigError("evaluate: the test set has no pairs")
    reference = paired_reference(names, config.paired_against)  # a misspelt name fails now, not after scoring
    out_dir = Path(out_dir)
    try:  # before hours of scoring, not after
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out_dir}: cannot create output folder ({exc.strerror})") from None
    rows: list[dict[str, Any]] = []
    skipped = dict.fromkeys(names, 0)
    bar = progress_bar(pairs, desc="evaluate", unit="pair", disable=not progress)
    for pair in bar:
        try:
            rows += _score_pair(pair, estimators, config, skipped, lambda note: bar.write(note, file=sys.stderr))
        except StemRestoreError as exc:
            raise type(exc)(f"pair {pair.id}: {exc}") from None
    summary = _summary(rows, names, skipped, len(pairs), config)
    if len(names) > 1:
        summary["paired"] = paired_differences(rows, reference, names)
    if config.erased_below_db is not None and "identity" in names:
        summary["by_difficulty"] = difficulty_split(rows, names, reference, config.erased_below_db)
    if config.by_effect and any(pair.effects for pair in pairs):
        summary["by_effect"] = effect_split(rows, pairs, names, reference)
    write_atomic(out_dir / "per_example.csv", _csv_text(rows).encode())
    write_atomic(out_dir / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    write_atomic(out_dir / "table.md", table_markdown(summary).encode())
    if config.plots:
        _plots(rows, pairs, estimators, out_dir / "plots", config)
    return summary


def _score_pair(
    pair: Pair, estimators: Sequence[Estimator], config: EvalConfig, skipped: dict[str, int],
    warn: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Rows of every estimator's scored segments of one pair; counts silent segments in ``skipped``."""
    mixture, mix_sr, target, ref_sr = _load_pair(pair)
    rows = []
    for est in estimators:
        estimate, reference, notes = match_pair(est.run(mixture, mix_sr, ref_sr, pair.stem_class), target, ref_sr)
        for note in notes:
            warn(f"warning: pair {pair.id} ({est.name}): {note}")
        for k, (start, end) in enumerate(segment_bounds(reference.shape[1], ref_sr, config.segment_seconds)):
            ref_seg = reference[:, start:end]
            if rms_db(ref_seg) < config.silence_db:
                skipped[est.name] += 1
                continue
            rows.append(
                {"estimator": est.name, "id": pair.id, "class": pair.stem_class or "", "segment": k,
                 "start_s": start / ref_sr, "end_s": end / ref_sr, **score(estimate[:, start:end], ref_seg, ref_sr)}
            )
    return rows


def _summary(
    rows: list[dict[str, Any]], names: list[str], skipped: dict[str, int], n_pairs: int, config: EvalConfig
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "settings": {**asdict(config), "ci": "1.96 * std / sqrt(n), population std (ddof 0), over segments"},
        "pairs": n_pairs,
        "estimators": {},
    }
    for name in names:
        mine = [r for r in rows if r["estimator"] == name]
        classes = sorted({r["class"] for r in mine if r["class"]})
        result["estimators"][name] = {
            "metrics": {k: summarize([r[k] for r in mine]) for k in METRIC_KEYS},
            "by_class": {
                c: {k: summarize([r[k] for r in mine if r["class"] == c]) for k in METRIC_KEYS} for c in classes
            },
            "segments": len(mine),
            "skipped_silent_segments": skipped[name],
        }
    return result


def paired_reference(names: Sequence[str], requested: str | None) -> str:
    """The estimator the others are paired against: ``requested``, else identity, else the first."""
    if requested is not None:
        if requested not in names:
            raise ConfigError(f"paired_against: '{requested}' is not a scored estimator ({', '.join(names)})")
        return requested
    return "identity" if "identity" in names else names[0]


def paired_differences(rows: list[dict[str, Any]], reference: str, names: Sequence[str]) -> dict[str, Any]:
    """Per-segment differences ``estimator - reference`` for every other estimator and metric.

    Two models scored on the same segments share most of their variance (the hard
    examples are hard for both), so the CI of the paired difference is far
    narrower than the two rows' CIs suggest; ``better`` counts the segments where
    the estimator scores higher.
    """
    by_key = {name: {(r["id"], r["segment"]): r for r in rows if r["estimator"] == name} for name in names}
    base = by_key[reference]
    result: dict[str, Any] = {"against": reference, "estimators": {}}
    for name in names:
        if name == reference:
            continue
        common = [key for key in by_key[name] if key in base]
        result["estimators"][name] = {}
        for metric in METRIC_KEYS:
            delta = [by_key[name][key][metric] - base[key][metric] for key in common]
            stat = summarize(delta)
            stat["better"] = sum(d > 0 for d in delta)
            result["estimators"][name][metric] = stat
    return result


#: The two strata of :func:`difficulty_split`, with their table labels.
STRATA = {"ordinary": "ordinary", "near_erased": "near-erased"}


def difficulty_split(
    rows: list[dict[str, Any]], names: Sequence[str], reference: str, erased_below_db: float
) -> dict[str, Any]:
    """Summaries (and paired differences) of the ordinary and the near-erased segments apart.

    A segment is near-erased when the identity baseline (the mixture itself) scores below
    ``erased_below_db`` SI-SDR on it: its degradation chain all but removed the target. Such
    segments score far below the others for any estimate and swing by many dB between models,
    so a few of them can decide a mean (README, "The shipped demo checkpoint"); reporting the two
    strata apart shows whether a model's gain is on the ordinary segments or a swing of the erased ones.
    """
    erased = {(r["id"], r["segment"]) for r in rows
              if r["estimator"] == "identity" and r["si_sdr"] < erased_below_db}
    result: dict[str, Any] = {"erased_below_db": erased_below_db, "against": reference, "strata": {}}
    for stratum in STRATA:
        mine = [r for r in rows if ((r["id"], r["segment"]) in erased) == (stratum == "near_erased")]
        result["strata"][stratum] = _group_summary(mine, names, reference)
    return result


def _group_summary(rows: list[dict[str, Any]], names: Sequence[str], reference: str) -> dict[str, Any]:
    """A group of segments: their count, every estimator's metrics and (two or more) the paired differences."""
    entry: dict[str, Any] = {
        "segments": sum(r["estimator"] == reference for r in rows),
        "estimators": {name: {k: summarize([r[k] for r in rows if r["estimator"] == name]) for k in METRIC_KEYS}
                       for name in names},
    }
    if len(names) > 1:
        entry["paired"] = paired_differences(rows, reference, names)["estimators"]
    return entry


def effect_split(
    rows: list[dict[str, Any]], pairs: Sequence[Pair], names: Sequence[str], reference: str
) -> dict[str, Any]:
    """Per degradation effect, the segments of the pairs it degraded: metrics and paired differences.

    An example is degraded by several effects at once, so the groups overlap and an effect's
    figures mix in its companions' (and the near-erased segments', mostly parametric-EQ ones);
    compare an effect's paired gain with the overall one, not with zero.
    """
    effects_of = {pair.id: pair.effects for pair in pairs}
    result: dict[str, Any] = {"against": reference, "effects": {}}
    for effect in sorted({e for pair in pairs for e in pair.effects}):
        result["effects"][effect] = _group_summary([r for r in rows if effect in effects_of[r["id"]]], names, reference)
    return result


def table_markdown(summary: dict[str, Any]) -> str:
    """Table-1 style Markdown: one row per estimator, ``mean ± ci`` per metric, and n.

    With two or more estimators a second table follows: the paired differences
    against the reference row (:func:`paired_differences`).
    """
    body = [(name, entry["metrics"], entry["segments"]) for name, entry in summary["estimators"].items()]
    text = _markdown_table([m.label for m in METRICS], body, signed=False) + (
        "\n\nMean ± 95 % confidence interval (1.96·std/√n) over n scored segments.\n")
    if "paired" in summary:
        against = summary["paired"]["against"]
        body = [(name, metrics, metrics[METRIC_KEYS[0]]["n"])
                for name, metrics in summary["paired"]["estimators"].items()]
        text += "\n" + _markdown_table([f"Δ {m.label}" for m in METRICS], body, signed=True) + (
            f"\n\nPaired against {against}: per segment, the model's score minus {against}'s; "
            "mean ± 95 % CI (k/n: segments where the model scores higher).\n")
    if "by_difficulty" in summary:
        text += _difficulty_tables(summary["by_difficulty"])
    if "by_effect" in summary:
        text += _effect_table(summary["by_effect"])
    return text


def _effect_table(split: dict[str, Any]) -> str:
    """The :func:`effect_split` table: each other estimator's paired row per effect (or, alone, its scores)."""
    effects, against = split["effects"], split["against"]
    paired = all("paired" in entry for entry in effects.values())
    part = "paired" if paired else "estimators"
    labels = [f"Δ {m.label}" if paired else m.label for m in METRICS]
    body = _group_rows(effects.items(), part)
    note = (f"paired against {against}" if paired else "scores") + ", on the segments of the examples each effect "
    return "\n" + _markdown_table(labels, body, signed=paired) + (
        f"\n\nBy degradation effect: {note}degraded (one example has several, so the groups overlap).\n")


def _difficulty_tables(split: dict[str, Any]) -> str:
    """The :func:`difficulty_split` tables: each estimator's row per stratum, then the paired rows."""
    strata = split["strata"]
    labelled = [(label, strata[stratum]) for stratum, label in STRATA.items()]
    counts = {stratum: strata[stratum]["segments"] for stratum in STRATA}
    text = "\n" + _markdown_table([m.label for m in METRICS], _group_rows(labelled, "estimators"), signed=False) + (
        f"\n\nBy difficulty: {counts['ordinary']} ordinary segments (identity SI-SDR at least "
        f"{split['erased_below_db']:g} dB) and {counts['near_erased']} near-erased ones (below it).\n")
    if all("paired" in strata[stratum] for stratum in STRATA):
        paired = _group_rows(labelled, "paired")
        text += "\n" + _markdown_table([f"Δ {m.label}" for m in METRICS], paired, signed=True) + (
            f"\n\nBy difficulty, paired against {split['against']}.\n")
    return text


def _group_rows(groups: Iterable[tuple[str, dict[str, Any]]], part: str) -> list[tuple[str, dict[str, Any], int]]:
    """Table rows ``NAME, GROUP`` of ``part`` ("estimators" or "paired") of each labelled group summary."""
    return [(f"{name}, {label}", metrics, metrics[METRIC_KEYS[0]]["n"])
            for label, entry in groups for name, metrics in entry[part].items()]


def _markdown_table(labels: list[str], body: list[tuple[str, dict[str, Any], int]], signed: bool) -> str:
    """Rows of ``mean ± ci`` cells; ``signed`` rows are differences and also show ``(better/n)``."""
    digits = {"mel_ssim": 4}
    lines = ["| " + " | ".join(["model", *labels, "n"]) + " |", "|" + "---|" * (len(labels) + 2)]
    for name, metrics, n in body:
        cells = [name]
        for key in METRIC_KEYS:
            stat, d = metrics[key], digits.get(key, 2)
            if stat["mean"] is None:
                cells.append("—")
            elif signed:
                cells.append(f"{stat['mean']:+.{d}f} ± {stat['ci95']:.{d}f} ({stat['better']}/{stat['n']})")
            else:
                cells.append(f"{stat['mean']:.{d}f} ± {stat['ci95']:.{d}f}")
        lines.append("| " + " | ".join([*cells, str(n)]) + " |")
    return "\n".join(lines)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    fields = ["estimator", "id", "class", "segment", "start_s", "end_s", *METRIC_KEYS]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "estimator"


def _plots(
    rows: list[dict[str, Any]], pairs: Sequence[Pair], estimators: Sequence[Estimator], folder: Path,
    config: EvalConfig,
) -> None:
    """Histograms per metric, and mel comparisons of each estimator's best, median and worst segment."""
    for metric in METRICS:
        values = {e.name: np.array([r[metric.key] for r in rows if r["estimator"] == e.name]) for e in estimators}
        histogram_png(values, folder / f"hist_{metric.key}.png", metric.label)
    by_id = {p.id: p for p in pairs}
    label = next(m.label for m in METRICS if m.key == config.rank_metric)
    for est in estimators:
        ranked = sorted((r for r in rows if r["estimator"] == est.name), key=lambda r: r[config.rank_metric])
        if not ranked:
            continue
        for which, row in (("best", ranked[-1]), ("median", ranked[len(ranked) // 2]), ("worst", ranked[0])):
            # Estimates are not kept in memory (a full test set would not fit); re-run this one.
            pair = by_id[row["id"]]
            mixture, mix_sr, target, sr = _load_pair(pair)
            estimate, reference, _ = match_pair(est.run(mixture, mix_sr, sr, pair.stem_class), target, sr)
            heard, _, _ = match_pair(identity().run(mixture, mix_sr, sr), target, sr)
            cut = slice(round(row["start_s"] * sr), round(row["end_s"] * sr))
            value = row[config.rank_metric]
            mel_comparison_png(
                {"mixture": heard[:, cut], "estimate": estimate[:, cut], "target": reference[:, cut]},
                sr,
                folder / f"{_slug(est.name)}_{which}.png",
                title=f"{est.name}: {which} {label} {value:.3f} (id {row['id']}, segment {row['segment']})",
            )
