"""``stemrestore serve``: the web page (Gradio) to restore stems from uploaded songs."""

from __future__ import annotations

import argparse

from stemrestore.cli.restore import HALF_HELP

NAME = "serve"
HELP = "serve a web page to upload a song, restore a stem, listen to and download it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--checkpoint", action="append", metavar="CK",
                        help="checkpoint offered in the page; repeat for several "
                        "(default: the demo checkpoint shipped with stemrestore)")
    parser.add_argument("--max-upload-mb", type=float, default=200.0, metavar="MB",
                        help="largest upload accepted, in MB (default 200)")
    parser.add_argument("--share", default="off", choices=("off", "on"),
                        help="'on' opens a public gradio.live link (needs internet; default off)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--half", action="store_true", help=HALF_HELP)


def run(args: argparse.Namespace) -> int:
    from stemrestore.errors import ConfigError

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port: must be between 1 and 65535, got {args.port}")
    try:
        from stemrestore.app import build_app, launch
    except ModuleNotFoundError as exc:
        if exc.name != "gradio":
            raise
        raise ConfigError("the web page needs gradio: pip install 'stemrestore[web]'") from None

    app = build_app(args.checkpoint, device=args.device, half=args.half, max_upload_mb=args.max_upload_mb)
    launch(app, host=args.host, port=args.port, max_upload_mb=args.max_upload_mb, share=args.share == "on")
    return 0
