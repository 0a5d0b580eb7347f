"""Audio embeddings for the corpus t-SNE (paper §3.3): built-in log-mel statistics or CLAP.

The paper embeds tracks and mixtures with CLAP. CLAP weights cannot be
downloaded here, so CLAP is used only when the user names a local checkpoint
and the ``laion_clap`` package is installed; otherwise the built-in embedding
is the mean and standard deviation over time of a 64-band log-mel spectrogram
of the loudness-normalised excerpt (128 numbers), which separates timbre
families well enough to show the corpus's structure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from stemrestore.audio import audio_info, load_audio, resample
from stemrestore.data.rawstems import Problem, Song, Stem
from stemrestore.errors import AudioError, ConfigError


class Embedder(Protocol):
    """Maps a batch of mono excerpts ``(n, samples)`` at ``sr`` to vectors ``(n, dim)``."""

    name: str
    sr: int

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class LogMelEmbedder:
    """Mean and std over time of the log-mel spectrogram (dB) of each excerpt at -20 dBFS RMS."""

    name = "log-mel statistics (built-in)"

    def __init__(self, sr: int = 22050, n_mels: int = 64, n_fft: int = 2048, hop: int = 512) -> None:
        self.sr, self.n_mels, self.n_fft, self.hop = sr, n_mels, n_fft, hop

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import librosa

        batch = np.atleast_2d(np.asarray(batch, dtype=np.float32))
        rms = np.sqrt(np.mean(np.square(batch, dtype=np.float64), axis=-1, keepdims=True))
        # Level says little about the instrument (raw stems are recorded at any gain).
        batch = (batch * (0.1 / np.maximum(rms, 1e-9))).astype(np.float32)
        mel = librosa.feature.melspectrogram(
            y=batch, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop, n_mels=self.n_mels
        )
        db = 10.0 * np.log10(np.maximum(mel, 1e-10))
        return np.concatenate([db.mean(axis=-1), db.std(axis=-1)], axis=-1)


class ClapEmbedder:
    """LAION-CLAP audio embeddings from a local checkpoint (48 kHz input, 512 numbers)."""

    sr = 48000

    def __init__(self, checkpoint: str | os.PathLike, audio_model: str = "HTSAT-tiny", batch: int = 8) -> None:
        path = Path(checkpoint)
        if not path.is_file():
            raise ConfigError(f"{path}: CLAP checkpoint not found (give a local .pt file)")
        # laion_clap pulls tokenizers from the Hugging Face hub; never go online for them.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import laion_clap
        except ImportError:
            raise ConfigError(
                "--clap-checkpoint needs the laion_clap package (pip install laion-clap); "
                "leave the option out to use the built-in log-mel embedding"
            ) from None
        try:
            self.model = laion_clap.CLAP_Module(enable_fusion=False, amodel=audio_model)
            self.model.load_ckpt(str(path), verbose=False)
        except Exception as exc:  # noqa: BLE001 - laion_clap raises anything for a bad or mismatched file
            raise ConfigError(f"{path}: cannot load as a CLAP {audio_model} checkpoint ({exc})") from None
        self.name = f"CLAP ({path.name}, {audio_model})"
        self.batch = batch

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.atleast_2d(np.asarray(batch, dtype=np.float32))
        parts = [
            np.asarray(self.model.get_audio_embedding_from_data(x=batch[i : i + self.batch], use_tensor=False))
            for i in range(0, len(batch), self.batch)
        ]
        return np.concatenate(parts, axis=0)


def make_embedder(clap_checkpoint: str | os.PathLike | None = None, audio_model: str = "HTSAT-tiny") -> Embedder:
    """CLAP when a checkpoint is given, else the built-in log-mel embedding."""
    return ClapEmbedder(clap_checkpoint, audio_model) if clap_checkpoint else LogMelEmbedder()


@dataclass
class Excerpts:
    """One song's aligned mono excerpts: per readable stem, and their sum (the mixture)."""

    stems: list[Stem]
    tracks: np.ndarray  # (n_stems, samples)
    mixture: np.ndarray  # (samples,)


def song_excerpts(song: Song, seconds: float, sr: int, problems: list[Problem] | None = None) -> Excerpts:
    """``seconds`` of every stem around the song's midpoint, mono at ``sr``.

    Multitrack stems of one song start together, so one window (centred on the
    longest stem) keeps the excerpts aligned and their sum is a true mixture
    excerpt. Unreadable stems are skipped (and reported in ``problems``).
    """
    infos = {}
    for stem in song.stems:
        try:
            infos[stem.path] = audio_info(stem.path)
        except AudioError as exc:
            if problems is not None:
                problems.append(Problem(stem.path, str(exc)))
    longest = max((i.frames / i.samplerate for i in infos.values()), default=0.0)
    start_s = max(0.0, longest / 2 - seconds / 2)
    n = round(seconds * sr)
    kept, tracks = [], []
    for stem in song.stems:
        info = infos.get(stem.path)
        if info is None:
            continue
        start = int(start_s * info.samplerate)
        mono = np.zeros(0, np.float32)
        if start < info.frames:  # a stem that ends before the window stays silent
            try:
                audio, _ = load_audio(stem.path, start=start, frames=int(seconds * info.samplerate))
            except AudioError as exc:
                if problems is not None:
                    problems.append(Problem(stem.path, str(exc)))
                continue
            mono = resample(audio.mean(axis=0, keepdims=True), info.samplerate, sr)[0]
        kept.append(stem)
        tracks.append(np.pad(mono[:n], (0, max(0, n - mono.shape[0]))))
    stacked = np.stack(tracks).astype(np.float32) if tracks else np.zeros((0, n), np.float32)
    return Excerpts(kept, stacked, stacked.sum(axis=0))


def tsne_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE of standardised vectors; perplexity min(30, (n-1)/3), at least 1. Needs n >= 3."""
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    n = len(vectors)
    if n < 3:
        raise ConfigError(f"t-SNE needs at least 3 points, got {n}")
    x = StandardScaler().fit_transform(np.asarray(vectors, dtype=np.float64))
    perplexity = float(min(30.0, max(1.0, (n - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
