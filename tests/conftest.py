"""Options of the whole test run: only the fuzz campaign's switch lives here (tests/fuzz/conftest.py)."""
from __future__ import annotations


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz-long", action="store_true", default=False,
        help="run tests/fuzz as a long random campaign (thousands of examples per target, not "
             "derandomized) instead of the short deterministic run; for a developer before a release")
