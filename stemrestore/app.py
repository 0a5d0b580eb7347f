"""``stemrestore serve``: a Gradio page to restore a stem from an uploaded song.

Upload a song (or take the built-in example), choose the target / checkpoint,
press Restore, listen to and download the result, and compare before/after mel
spectrograms. The page works offline: no analytics, no fonts or scripts from
the internet, and the example is synthesized on demand. User mistakes (no file,
a file that is not audio, NaN samples, a file over the size limit) come back as
a readable message in the page, never a traceback.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import gradio as gr

from stemrestore.audio import load_audio, save_audio
from stemrestore.demo import degrade_song, synthesize_song
from stemrestore.errors import ConfigError, StemRestoreError
from stemrestore.models import default_checkpoint, load_checkpoint, read_checkpoint_meta, target_from_filename
from stemrestore.models.checkpoint import RELEASE_SUFFIXES
from stemrestore.plots import mel_comparison_png
from stemrestore.restore import Restorer

#: The built-in example: the demo's default song (seed 0, 8 s), degraded with seed 0.
EXAMPLE_SEED, EXAMPLE_SECONDS = 0, 8.0
DEFAULT_MAX_UPLOAD_MB = 200.0
#: Gradio copies each result into its own cache when the handler returns; ours may go after that.
OUTPUT_LIFETIME_S = 600.0

Checkpoints = Mapping[str, str | os.PathLike] | Sequence[str | os.PathLike]


class RestorePage:
    """The page's state and event handlers; :meth:`blocks` lays the page out.

    ``checkpoints`` maps display names to checkpoint paths (a list uses each
    file's stem as its name; ``None`` means the shipped demo checkpoint). Models
    are loaded on first use and kept. Outputs go to ``work_dir`` (a fresh temp
    folder by default); the example is cached in ``example_dir``. ``half`` is
    :class:`~stemrestore.restore.Restorer`'s 16-bit inference.
    """

    def __init__(
        self,
        checkpoints: Checkpoints | None = None,
        *,
        device: str = "auto",
        half: bool = False,
        max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
        work_dir: str | os.PathLike | None = None,
        example_dir: str | os.PathLike | None = None,
        example_seconds: float = EXAMPLE_SECONDS,
    ) -> None:
        self.paths = _name_checkpoints(checkpoints)
        self.targets = {name: _checkpoint_target(path) for name, path in self.paths.items()}
        if not max_upload_mb > 0:
            raise ConfigError(f"max_upload_mb: must be a positive number, got {max_upload_mb}")
        self.max_upload_mb = float(max_upload_mb)
        self.device = device
        self.half = half
        # Gradio serves files from the system temp folder, so everything we hand it lives there;
        # a folder of our own is removed when the process ends.
        self._own_dir = None if work_dir else tempfile.TemporaryDirectory(prefix="stemrestore-serve-")
        self.work_dir = Path(work_dir or self._own_dir.name)
        self.example_dir = Path(example_dir or Path(tempfile.gettempdir()) / "stemrestore-examples")
        self.example_seconds = float(example_seconds)
        self._restorers: dict[str, Restorer] = {}
        self._lock = threading.Lock()

    def choices(self) -> list[tuple[str, str]]:
        """Dropdown entries ``(label, name)``: the target class first, then the checkpoint's name."""
        return [(f"{self.targets[name]} ({name})", name) for name in self.paths]

    def restorer(self, name: str) -> Restorer:
        """The model behind checkpoint ``name``, loaded once."""
        if name not in self.paths:
            raise ConfigError(f"unknown checkpoint '{name}' (choose one of: {', '.join(self.paths)})")
        with self._lock:
            if name not in self._restorers:
                self._restorers[name] = Restorer(
                    load_checkpoint(self.paths[name], "cpu"), device=self.device, half=self.half
                )
            return self._restorers[name]

    def example(self, name: str) -> str:
        """Path of the built-in example mixture for checkpoint ``name`` (made once, then cached)."""
        try:
            restorer = self.restorer(name)
            key = f"{restorer.target}_{restorer.sample_rate}Hz_seed{EXAMPLE_SEED}_{self.example_seconds:g}s"
            path = self.example_dir / key / "example.wav"
            if not path.is_file():
                song = synthesize_song(
                    restorer.target, EXAMPLE_SEED, self.example_seconds, restorer.sample_rate
                )
                save_audio(path, degrade_song(song, EXAMPLE_SEED).mixture, song.sr)
        except StemRestoreError as exc:
            raise _user_error(str(exc)) from None
        return str(path)

    def restore(
        self, audio_path: str | None, name: str, progress: gr.Progress = gr.Progress()
    ) -> tuple[str, str, str, str]:
        """Gradio handler: restore ``audio_path`` with checkpoint ``name``.

        Returns (restored WAV, the same for download, spectrogram PNG, status
        text). The WAV has the input's duration, sample rate and channels.
        Problems with the upload raise :class:`gradio.Error` with a one-line message.
        """
        if not audio_path:
            raise _user_error("No song yet: upload an audio file or press 'Use the built-in example'.")
        try:
            return self._restore(Path(audio_path), name, progress)
        except StemRestoreError as exc:
            raise _user_error(str(exc).replace(str(Path(audio_path).parent) + os.sep, "")) from None

    def _restore(self, path: Path, name: str, progress: gr.Progress) -> tuple[str, str, str, str]:
        size_mb = path.stat().st_size / 1e6 if path.is_file() else 0.0
        if size_mb > self.max_upload_mb:
            raise ConfigError(
                f"{path.name}: {size_mb:.1f} MB is over the upload limit of {self.max_upload_mb:g} MB"
            )
        progress(0.0, desc="loading the model")
        restorer = self.restorer(name)
        progress(0.0, desc="reading the file")
        audio, sr = load_audio(path)
        start = time.perf_counter()
        restored = restorer.restore(
            audio, sr, progress=lambda done, total: progress(done / total, desc="restoring")
        )
        elapsed = time.perf_counter() - start
        progress(1.0, desc="drawing spectrograms")
        _remove_older_than(self.work_dir, OUTPUT_LIFETIME_S)
        out_dir = self.work_dir / uuid.uuid4().hex
        out = save_audio(out_dir / f"{path.stem}_{restorer.target}.wav", restored, sr)
        png = mel_comparison_png({"input": audio, "restored": restored}, sr, out_dir / "spectrograms.png",
                                 title=f"{path.name}: {restorer.target}")
        channels = {1: "mono", 2: "stereo"}[audio.shape[0]]
        status = (f"Restored **{restorer.target}** from `{path.name}`: {audio.shape[1] / sr:.2f} s, {sr} Hz, "
                  f"{channels}, in {elapsed:.1f} s.")
        return str(out), str(out), str(png), status

    def blocks(self) -> gr.Blocks:
        """Lay out the page and wire its events."""
        with gr.Blocks(title="stemrestore", analytics_enabled=False, delete_cache=(3600, 86400)) as page:
            gr.Markdown(
                "# stemrestore: restore a stem\n"
                "Recover the original, unprocessed recording of one instrument from a produced song. "
                f"Upload a song (up to {self.max_upload_mb:g} MB) or take the built-in synthetic example, "
                "choose the target, press **Restore**."
            )
            with gr.Row():
                with gr.Column():
                    song = gr.Audio(sources=["upload"], type="filepath", label="Song", buttons=[],
                                    elem_id="input-audio")
                    checkpoint = gr.Dropdown(choices=self.choices(), value=next(iter(self.paths)),
                                             label="Target (checkpoint)", elem_id="checkpoint")
                    with gr.Row():
                        example = gr.Button("Use the built-in example", elem_id="example-button")
                        run = gr.Button("Restore", variant="primary", elem_id="restore-button")
                with gr.Column():
                    restored = gr.Audio(type="filepath", label="Restored stem", interactive=False,
                                        buttons=["download"], elem_id="restored-audio")
                    download = gr.File(label="Download (WAV)", interactive=False, elem_id="restored-file")
                    status = gr.Markdown(elem_id="status")
            spectrograms = gr.Image(type="filepath", label="Mel spectrograms: input / restored",
                                    interactive=False, buttons=["download", "fullscreen"],
                                    elem_id="spectrograms")
            example.click(self.example, inputs=checkpoint, outputs=song)
            run.click(self.restore, inputs=[song, checkpoint],
                      outputs=[restored, download, spectrograms, status])
        return page


def build_app(checkpoints: Checkpoints | None = None, **options) -> gr.Blocks:
    """The page as a :class:`gradio.Blocks`; ``options`` are :class:`RestorePage`'s keywords."""
    return RestorePage(checkpoints, **options).blocks()


def launch(
    app: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    share: bool = False,
    block: bool = True,
) -> str:
    """Serve ``app``; returns its local URL. ``block=False`` returns at once (the server runs in a thread).

    ``max_upload_mb`` (1 MB = 10^6 bytes) is enforced by the server before a file reaches a handler.
    """
    if not max_upload_mb > 0:
        raise ConfigError(f"max_upload_mb: must be a positive number, got {max_upload_mb}")
    try:
        _, url, _ = app.launch(
            server_name=host, server_port=port, share=share, max_file_size=int(max_upload_mb * 1e6),
            ssr_mode=False, show_error=True, quiet=True, prevent_thread_lock=True,
        )
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port} ({exc})") from None
    if block:
        print(f"stemrestore serve: open {url} (Ctrl-C stops)", flush=True)
        app.block_thread()
    return url


def _user_error(message: str) -> gr.Error:
    """A message for the page (it renders HTML, so markup is escaped); no traceback in the server log."""
    return gr.Error(html.escape(message, quote=False), print_exception=False)


def _remove_older_than(folder: Path, seconds: float) -> None:
    """Delete the result folders in ``folder`` last changed more than ``seconds`` ago."""
    now = time.time()
    for item in folder.glob("*"):
        if item.is_dir() and now - item.stat().st_mtime > seconds:
            shutil.rmtree(item, ignore_errors=True)


def _name_checkpoints(checkpoints: Checkpoints | None) -> dict[str, Path]:
    """Display name -> path; list entries are named after their file, made unique with a number."""
    if checkpoints is None:
        checkpoints = [default_checkpoint()]
    if isinstance(checkpoints, Mapping):
        named = {str(k): Path(v) for k, v in checkpoints.items()}
    else:
        named = {}
        for path in map(Path, checkpoints):
            base = path.name if path.is_dir() else path.stem
            name, n = base, 2
            while name in named:
                name, n = f"{base} {n}", n + 1
            named[name] = path
    if not named:
        raise ConfigError("no checkpoint to serve: pass at least one --checkpoint")
    return named


def _checkpoint_target(path: Path) -> str:
    """Target class of a checkpoint without loading its weights (validates the file)."""
    if path.suffix.lower() in RELEASE_SUFFIXES:
        if not path.is_file():
            raise ConfigError(f"{path}: no such checkpoint file")
        return target_from_filename(path)
    return str(read_checkpoint_meta(path)["target"])
