"""Shared test configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("IMUSTREAM_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The shared real-recording folder (../shared/datasets); skip only if it is absent."""
    if not DATASETS.is_dir():
        pytest.skip(f"real recordings not found at {DATASETS}")
    return DATASETS
