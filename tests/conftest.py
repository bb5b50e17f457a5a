"""Shared fixtures: paths to the published measurement sets.

The published sets are read by path and never copied into the project. Set
``ALPHAFLOPS_T2000`` (and ``ALPHAFLOPS_NEUSIGHT`` for the folder with the
NeuSight tables) to point elsewhere. Without the files the tests that need
them skip, except when ``CI`` is set, where they fail.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_T2000 = ROOT.parent / "shared" / "datasets" / "t2000" / "data.pickle"
DEFAULT_NEUSIGHT = ROOT.parent / "shared" / "datasets" / "neusight"
DEFAULT_CASES = ROOT.parent / "shared" / "cases"


def _require(path, variable):
    if path.exists():
        return path
    message = f"{path} not found; set {variable} to its location"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def t2000_path():
    """Path of the published Quadro T2000 pickle."""
    path = Path(os.environ.get("ALPHAFLOPS_T2000", DEFAULT_T2000))
    return _require(path, "ALPHAFLOPS_T2000")


@pytest.fixture(scope="session")
def neusight_dir():
    """Folder with the NeuSight T4 and V100 convolution tables and device files."""
    path = Path(os.environ.get("ALPHAFLOPS_NEUSIGHT", DEFAULT_NEUSIGHT))
    return _require(path, "ALPHAFLOPS_NEUSIGHT")


@pytest.fixture(scope="session")
def cases_dir():
    """Folder with the FLOP-count cases (flops.json)."""
    path = Path(os.environ.get("ALPHAFLOPS_CASES", DEFAULT_CASES))
    return _require(path, "ALPHAFLOPS_CASES")
