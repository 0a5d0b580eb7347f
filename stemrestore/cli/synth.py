"""``stemrestore synth``: write a synthetic multitrack corpus in the RawStems layout."""

from __future__ import annotations

import argparse

NAME = "synth"
HELP = "write synthetic songs with dry, unprocessed-sounding stems in the RawStems layout"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="ROOT", help="corpus root; songs go to ROOT/RawStems/")
    parser.add_argument("--songs", type=int, default=10, metavar="N", help="number of songs (default 10)")
    parser.add_argument("--seconds", type=float, default=30.0, metavar="S", help="song length (default 30)")
    parser.add_argument("--seed", type=int, default=0, metavar="K",
                        help="corpus seed (default 0); use a different seed for a held-out test corpus")
    parser.add_argument("--renderer", choices=("soundfont", "procedural"), default="soundfont",
                        help="soundfont: GM samples via TinySoundFont (default); procedural: numpy/scipy only")
    parser.add_argument("--soundfont", metavar="FILE.sf2", default=None,
                        help="SoundFont for the soundfont renderer (default: TimGM6mb.sf2 from pretty_midi)")
    parser.add_argument("--sr", type=int, default=44100, help="sample rate (default 44100)")
    parser.add_argument("--classes", default=None, metavar="IDS",
                        help="comma-separated class ids each song draws its 4-9 classes from (default: all)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="songs rendered at once, one process each (default 1); the files are the same "
                        "for any N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from stemrestore.data.synth import generate_corpus

    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes is not None else None
    folders = generate_corpus(args.out, args.songs, args.seconds, args.seed, renderer=args.renderer, sr=args.sr,
                              soundfont=args.soundfont, classes=classes, progress=not args.quiet,
                              workers=args.workers)
    print(f"wrote {len(folders)} songs to {folders[0].parent}")
    return 0
