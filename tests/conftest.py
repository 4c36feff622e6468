"""Options of the whole test run: only the fuzz campaign's switch lives here (tests/fuzz/conftest.py)."""
from __future__ import annotations

import os
import tempfile


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz-long", action="store_true", default=False,
        help="run tests/fuzz as a long random campaign (thousands of examples per target, not "
             "derandomized) instead of the short deterministic run; for a developer before a release")


def pytest_configure(config):
    # A passing check records itself for progress() (mspl_lite.course.progress): keep the test run's
    # record, and that of the notebook kernels nbval starts, out of the tester's own data folder.
    os.environ["MSPL_LITE_PROGRESS"] = os.path.join(tempfile.mkdtemp(prefix="mspl-progress-"), "progress.json")
