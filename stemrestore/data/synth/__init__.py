"""Synthetic multitrack corpus: songs whose stems sound like dry, unprocessed recordings.

Every song is planned from one seed (tempo, key, chords, a 4-9 class
arrangement, humanised performances; :mod:`.music`) and rendered by one of two
renderers behind the same interface (:mod:`.render`): ``soundfont`` (General-MIDI
samples through TinySoundFont, the default) or ``procedural`` (numpy/scipy
synthesis, no files). :func:`generate_corpus` writes songs in the RawStems
layout; :func:`render_song` returns them in memory.
"""

from stemrestore.data.synth.catalog import CLASS_IDS, stem_names
from stemrestore.taxonomy import class_folder
from stemrestore.data.synth.corpus import generate_corpus, song_folder_name
from stemrestore.data.synth.music import SongPlan, plan_song, song_seed
from stemrestore.data.synth.render import RENDERERS, render_plan, render_song

__all__ = [
    "CLASS_IDS", "RENDERERS", "SongPlan", "class_folder", "generate_corpus", "plan_song", "render_plan",
    "render_song", "song_folder_name", "song_seed", "stem_names",
]
