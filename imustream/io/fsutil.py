"""Small durable-filesystem helpers: directory fsync and atomic replace."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: str | os.PathLike) -> None:
    """fsync a directory so a file created, renamed or removed in it survives a power loss."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike) -> None:
    """fsync an existing file's data and metadata."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """fsync ``src``, rename it to ``dst`` atomically and fsync the directory."""
    fsync_file(src)
    os.replace(src, dst)
    fsync_dir(Path(dst).resolve().parent)
