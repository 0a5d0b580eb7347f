"""``stemrestore demo``: the whole method on one synthetic song, offline, with a report.

Synthesize a short multitrack song that contains the checkpoint's target class,
degrade it with the training protocol (seeded, parameters recorded), restore
the target stem, score the result and the identity baseline (the mixture
itself) against the clean target, and write a report folder: WAVs,
a mel-spectrogram comparison, ``params.json``, ``report.md`` and a
self-contained ``report.html``. With ``input_file`` the user's own recording is
restored instead; it is scored only against a ``reference_file``.
"""

from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
from stemrestore.progress import progress_bar

from stemrestore.audio import load_audio, save_audio, to_stereo
from stemrestore.data.synth import CLASS_IDS, plan_song, render_plan, song_seed
from stemrestore.degrade import DegradationProtocol
from stemrestore.degrade.protocol import Example
from stemrestore.errors import ConfigError
from stemrestore.fileio import write_atomic
from stemrestore.metrics import METRICS, match_pair, score
from stemrestore.plots import mel_comparison_png
from stemrestore.taxonomy import matches, validate_class

#: Every file a report folder can hold; a run removes the ones it did not write (a previous run's).
REPORT_FILES = (
    "mixture.wav", "restored.wav", "clean_target.wav", "degraded_target.wav", "reference.wav",
    "spectrograms.png", "params.json", "report.md", "report.html",
)
#: Song seeds tried (derived from the demo seed) until one plans the target class.
MAX_SONG_TRIES = 200
#: The audio files of a report (by key) and how the report labels them, in display order.
_AUDIO_LABELS = {
    "mixture": "mixture (model input)", "restored": "restored stem", "clean_target": "clean target",
    "degraded_target": "degraded target (as heard in the mixture)", "reference": "reference",
}
_SCORES_NOTE = ("The identity baseline scores the unprocessed input as if it were the restored stem; "
                "the model helps where it beats it. Higher is better for every metric.")


@dataclass(frozen=True)
class SyntheticSong:
    """A rendered song split into the clean target and everything else (stereo, float32)."""

    target: np.ndarray
    background: np.ndarray
    sr: int
    #: What :func:`synthesize_song` needs to render it again (``render_song`` arguments + classes).
    recipe: dict[str, Any]


@dataclass(frozen=True)
class DemoReport:
    """What :func:`run_demo` wrote: file paths by key, and the scores (``None`` without a reference)."""

    out_dir: Path
    target: str
    sample_rate: int
    seconds: float
    files: dict[str, Path]
    #: Row (``restored`` / ``mixture``) -> metric key -> value.
    scores: dict[str, dict[str, float]] | None
    row_labels: dict[str, str] = field(default_factory=dict)
    #: What aligning the reference changed (trimmed length, channel conversion), if anything.
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the terminal: the score rows (if any) and where the report is."""
        lines = [f"target {self.target}: {self.seconds:.1f} s at {self.sample_rate} Hz"]
        if self.scores:
            lines.append(f"{'':30s}" + "".join(f"{m.label:>20s}" for m in METRICS))
            for row, values in self.scores.items():
                numbers = "".join(f"{values[m.key]:20.4f}" for m in METRICS)
                lines.append(f"{self.row_labels[row]:30s}{numbers}")
        else:
            lines.append("no reference given, so no scores")
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"report: {self.files['report_html']}")
        return "\n".join(lines)


def synthesize_song(
    target: str, seed: int, seconds: float, sr: int, renderer: str = "soundfont"
) -> SyntheticSong:
    """Render the first song derived from ``seed`` whose arrangement plays ``target``.

    Song ``k`` has seed ``song_seed(seed, k)``; plans are cheap, so candidates
    are planned until one includes a class matching ``target`` that is audible.
    """
    target = validate_class(target)
    if not any(matches(c, target) for c in CLASS_IDS):
        raise ConfigError(
            f"target '{target}': the synthesizer makes no stem of this class; restore a file with --input"
        )
    for k in range(MAX_SONG_TRIES):
        plan = plan_song(song_seed(seed, k), seconds)
        if not any(matches(part.class_id, target) for part in plan.parts):
            continue
        stems = render_plan(plan, sr, renderer)
        ours = [to_stereo(a) for c, files in stems.items() if matches(c, target) for _, a in files]
        rest = [to_stereo(a) for c, files in stems.items() if not matches(c, target) for _, a in files]
        clean = np.sum(ours, axis=0, dtype=np.float32)
        if np.max(np.abs(clean)) > 1e-4 and rest:
            recipe = {"seed": plan.seed, "seconds": seconds, "sr": sr, "renderer": renderer,
                      "classes": sorted(stems), "target": target}
            return SyntheticSong(clean, np.sum(rest, axis=0, dtype=np.float32), sr, recipe)
    raise ConfigError(f"target '{target}': no song from seed {seed} plays it; try another --seed")


def degrade_song(song: SyntheticSong, seed: int) -> Example:
    """The training protocol with its default (paper) settings applied to ``song``, seeded."""
    return DegradationProtocol()(song.target, song.background, sr=song.sr, seed=seed)


def run_demo(
    out_dir: str | os.PathLike = "demo_out",
    seed: int = 0,
    seconds: float = 8.0,
    checkpoint: str | os.PathLike | None = None,
    *,
    input_file: str | os.PathLike | None = None,
    reference_file: str | os.PathLike | None = None,
    device: str = "auto",
    renderer: str = "soundfont",
    progress: bool = True,
    restorer_options: dict[str, Any] | None = None,
) -> DemoReport:
    """Run the demo (see the module notes) and write its report folder; returns what was written.

    ``restorer_options`` are :class:`~stemrestore.restore.Restorer` keywords (``tta``,
    ``chunk_seconds``, ...); those left out take the checkpoint's recommendation.
    """
    from stemrestore.models import default_checkpoint, load_checkpoint
    from stemrestore.restore import Restorer

    if reference_file is not None and input_file is None:
        raise ConfigError("--reference needs --input (the synthetic song brings its own clean target)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed: must be a whole number >= 0, got {seed!r}")
    if not 1.0 <= float(seconds) <= 600.0:
        raise ConfigError(f"seconds: must be between 1 and 600, got {seconds}")
    steps = ["load checkpoint"] + (["read input"] if input_file else ["synthesize song", "degrade"])
    steps += ["restore"] + (["score"] if input_file is None or reference_file else []) + ["write report"]
    checkpoint = checkpoint or default_checkpoint()
    with progress_bar(total=len(steps), desc=steps[0], unit="step", disable=not progress) as bar:
        restorer = Restorer(load_checkpoint(checkpoint, "cpu"), device=device, **(restorer_options or {}))
        bar.update(1)
        audio: dict[str, np.ndarray] = {}
        params = None
        if input_file is None:
            bar.set_description("synthesize song")
            song = synthesize_song(restorer.target, int(seed), float(seconds), restorer.sample_rate, renderer)
            bar.update(1)
            bar.set_description("degrade")
            example = degrade_song(song, int(seed))
            params = {"song": song.recipe, "degradation": example.params}
            audio.update(mixture=example.mixture, clean_target=example.target,
                         degraded_target=example.degraded_target)
            sr = song.sr
        else:
            bar.set_description("read input")
            audio["mixture"], sr = load_audio(input_file)
        bar.update(1)

        bar.set_description("restore")
        audio["restored"] = restorer.restore(
            audio["mixture"], sr, progress=lambda done, total: bar.set_postfix_str(f"{100 * done // total}%")
        )
        bar.set_postfix_str("")
        bar.update(1)
        scores, notes = None, []
        reference_key = "clean_target" if input_file is None else "reference"
        if input_file is None or reference_file is not None:
            bar.set_description("score")
            if reference_file is not None:
                audio["reference"] = load_audio(reference_file, sr=sr)[0]
            scores, notes, audio = _score(audio, reference_key, sr)
            bar.update(1)
        bar.set_description("write report")
        context = {"target": restorer.target, "checkpoint": str(checkpoint), "notes": notes,
                   "settings": restorer.describe_settings()}
        report = _write_report(Path(out_dir), audio, sr, scores, params, context, input_file)
        bar.update(1)
    return report


def _score(
    audio: dict[str, np.ndarray], reference_key: str, sr: int
) -> tuple[dict[str, dict[str, float]], list[str], dict[str, np.ndarray]]:
    """Scores of the restored stem and of the input against the reference (aligned first).

    Returns the scores, what the alignment changed (for the report), and the
    audio with the reference replaced by its aligned copy, so that the written
    file is exactly what was scored.
    """
    restored, reference, notes = match_pair(audio["restored"], audio[reference_key], sr)
    mixture, _, _ = match_pair(audio["mixture"], reference, sr)
    scores = {"restored": score(restored, reference, sr), "mixture": score(mixture, reference, sr)}
    return scores, notes, {**audio, reference_key: reference}


def _write_report(
    out_dir: Path,
    audio: dict[str, np.ndarray],
    sr: int,
    scores: dict[str, dict[str, float]] | None,
    params: dict[str, Any] | None,
    context: dict[str, Any],
    input_file: str | os.PathLike | None,
) -> DemoReport:
    target = context["target"]
    files = {key: save_audio(out_dir / f"{key}.wav", signal, sr) for key, signal in audio.items()}
    mixture_label = "mixture" if input_file is None else "input"
    panels = {mixture_label: audio["mixture"], "restored": audio["restored"]}
    reference_key = "clean_target" if input_file is None else "reference"
    if reference_key in audio:
        panels[reference_key.replace("_", " ")] = audio[reference_key]
    seconds = audio["mixture"].shape[-1] / sr
    files["spectrograms"] = mel_comparison_png(panels, sr, out_dir / "spectrograms.png",
                                               title=f"target {target}")
    if params is not None:
        files["params"] = write_atomic(out_dir / "params.json", json.dumps(params, indent=2) + "\n")
    labels = {"restored": "restored", "mixture": f"{mixture_label} (identity baseline)"}
    if input_file is None:
        song = params["song"]  # type: ignore[index]
        intro = (f"A synthetic song (song seed {song['seed']}, classes {', '.join(song['classes'])}) "
                 f"was degraded with the training protocol; the model restored its {target} stem.")
    else:
        intro = f"{Path(input_file).name} was restored to its {target} stem."
    context = {**context, "seconds": seconds, "sr": sr, "intro": intro}
    for key, name, render in (("report_md", "report.md", _markdown), ("report_html", "report.html", _html)):
        files[key] = write_atomic(out_dir / name, render(context, scores, labels, params, files))
    for name in REPORT_FILES:
        if out_dir / name not in files.values():
            (out_dir / name).unlink(missing_ok=True)
    return DemoReport(out_dir, target, sr, seconds, files, scores, labels, context["notes"])


def _markdown(context: dict[str, Any], scores: dict[str, dict[str, float]] | None, labels: dict[str, str],
              params: dict[str, Any] | None, files: dict[str, Path]) -> str:
    lines = [
        f"# stemrestore demo: restoring {context['target']}", "",
        context["intro"], "",
        f"Checkpoint `{context['checkpoint']}` ({context['settings']}); {context['seconds']:.2f} s at {context['sr']} Hz.",
        "",
        "## Scores" + (" against the clean target" if params else " against the reference" if scores else ""),
        "",
    ]
    if scores:
        lines += [_SCORES_NOTE, ""]
        lines.append("| estimate | " + " | ".join(m.label for m in METRICS) + " |")
        lines.append("|---|" + "---:|" * len(METRICS))
        for row, values in scores.items():
            lines.append(f"| {labels[row]} | " + " | ".join(f"{values[m.key]:.4f}" for m in METRICS) + " |")
        lines += [""] + [f"Note: {note}" for note in context["notes"]]
    else:
        lines.append("No reference was given, so there is nothing to score against.")
    lines += ["", "## Audio", ""]
    lines += [f"- {label}: [{files[k].name}]({files[k].name})"
              for k, label in _AUDIO_LABELS.items() if k in files]
    lines += ["", "## Mel spectrograms", "", "![mel spectrograms](spectrograms.png)", ""]
    if params is not None:
        lines += ["## Degradations applied", ""]
        lines += [f"- {item}" for item in describe_degradations(params["degradation"])]
        lines += ["", "Every parameter is in [params.json](params.json).", ""]
    return "\n".join(lines)


def _html(context: dict[str, Any], scores: dict[str, dict[str, float]] | None, labels: dict[str, str],
          params: dict[str, Any] | None, files: dict[str, Path]) -> str:
    esc = html.escape
    if scores:
        head = "".join(f"<th>{esc(m.label)}</th>" for m in METRICS)
        body = "".join(
            f"<tr><td>{esc(labels[row])}</td>{''.join(f'<td>{v[m.key]:.4f}</td>' for m in METRICS)}</tr>"
            for row, v in scores.items()
        )
        notes = "".join(f"<p>Note: {esc(note)}</p>" for note in context["notes"])
        table = f"<p>{esc(_SCORES_NOTE)}</p><table><tr><th>estimate</th>{head}</tr>{body}</table>{notes}"
    else:
        table = "<p>No reference was given, so there is nothing to score against.</p>"
    players = "".join(
        f'<figure><figcaption>{esc(_AUDIO_LABELS[k])}</figcaption>'
        f'<audio controls preload="none" src="{esc(files[k].name)}"></audio></figure>'
        for k in _AUDIO_LABELS if k in files
    )
    degradations = ""
    if params is not None:
        items = "".join(f"<li>{esc(item)}</li>" for item in describe_degradations(params["degradation"]))
        degradations = (f'<h2>Degradations applied</h2><ul>{items}</ul>'
                        '<p>Every parameter: <a href="params.json">params.json</a>.</p>')
    png = base64.b64encode(files["spectrograms"].read_bytes()).decode("ascii")
    template = Template(resources.files("stemrestore").joinpath("assets/report.html").read_text("utf-8"))
    return template.substitute(
        target=esc(context["target"]), intro=esc(context["intro"]),
        details=esc(f"Checkpoint {context['checkpoint']} ({context['settings']}); "
                    f"{context['seconds']:.2f} s at {context['sr']} Hz."),
        scores=table, players=players, png=png, degradations=degradations,
    )


def describe_degradations(params: dict[str, Any]) -> list[str]:
    """One readable line per stage of a degradation ``params`` record (see ``params.json``)."""

    def chain(record: dict[str, Any]) -> str:
        return "; ".join(_effect(e) for e in record["effects"]) or "none"

    noise = params.get("noise")
    return [
        f"target chain: {chain(params['target_chain'])}",
        f"mixed with the background at {params['snr_db']:.1f} dB SNR",
        f"mixture chain: {chain(params['mixture_chain'])}",
        f"noise: std {noise['std']:.4f}" if noise else "noise: none",
        f"normalised to a peak of {params['peak_level']:.2f} (gain {params['gain']:.3f})",
    ]


def _effect(effect: dict[str, Any]) -> str:
    """``compressor (threshold_db -3.73, ratio 9.26, ...)``; lists are summarised by their range."""
    parts = []
    for key, value in effect.items():
        if key == "effect" or key == "seed":
            continue
        if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
            parts.append(f"{key} {min(value):.3g}..{max(value):.3g} ({len(value)} values)")
        elif isinstance(value, float):
            parts.append(f"{key} {value:.3g}")
        else:
            parts.append(f"{key} {value}")
    return f"{effect['effect']} ({', '.join(parts)})" if parts else str(effect["effect"])

