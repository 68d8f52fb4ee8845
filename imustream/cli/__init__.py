"""Command-line entry point: ``imustream <command> [options]``.

Each module in this package is one sub-command. It defines ``COMMAND`` (the name),
``HELP`` (one line) and ``register(parser)`` (adds its options and sets
``parser.set_defaults(func=run)`` where ``run(args) -> int``). Modules keep their
top-level imports light; heavy imports (numba, h5py, Qt, bleak) happen inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from ..errors import ImustreamError


def _commands() -> list:
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "COMMAND") and hasattr(mod, "register"):
            mods.append(mod)
    return mods


def build_parser() -> argparse.ArgumentParser:
    """Build the ``imustream`` argument parser with every sub-command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="imustream",
        description=(
            "Live running-gait analysis from clip-on IMUs (pelvis + both shoes) over "
            "Bluetooth LE: foot strikes, toe-offs, pelvic drop, left/right asymmetry, "
            "crash-safe HDF5 recordings. Start with `imustream demo` (no hardware needed)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"imustream {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for mod in _commands():
        p = sub.add_parser(
            mod.COMMAND, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP)
        )
        mod.register(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except ImustreamError as exc:
        print(f"imustream: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("imustream: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
