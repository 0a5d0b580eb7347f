"""The ``stemrestore`` command line.

Each subcommand lives in its own module of this package and exposes
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int | None``.
Modules are discovered at start-up so that adding a command never means
editing a central list; heavy imports stay inside ``run`` to keep ``--help``
fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from types import ModuleType

from stemrestore import __version__
from stemrestore.errors import StemRestoreError


def _command_modules() -> list[ModuleType]:
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            modules.append(module)
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stemrestore",
        description="Music Source Restoration: recover original, unprocessed stems from a mix.",
    )
    parser.add_argument("--version", action="version", version=f"stemrestore {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        # SUPPRESS: an unset sub-command flag must not overwrite `stemrestore -v COMMAND`.
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks on errors")
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        code = args._run(args)
    except StemRestoreError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"stemrestore {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stemrestore {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: say so in one line
        if args.verbose:
            traceback.print_exc()
        message = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"stemrestore {args.command}: internal error: {type(exc).__name__}: {message} "
            "(run with --verbose for the traceback)",
            file=sys.stderr,
        )
        return 1
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
