"""Hypothesis profiles for the fuzz suite: short and deterministic by default, long with --fuzz-long.

The default profile ("short") keeps the whole suite well under a minute in the normal
`python3 tasks.py test` run and draws the same examples on every run (derandomize), so a failure
there is reproducible by running it again. `pytest tests/fuzz --fuzz-long` loads "long": thousands of
random examples per target, for a developer before a release (MSPL_FUZZ_EXAMPLES changes how many).
Neither profile keeps an example database: nothing is written into the repository; a failure is
reproduced from the falsifying example (and @reproduce_failure blob) that hypothesis prints.
Hypothesis's own deadline is off: every test times and measures its examples itself with
tests/fuzz/_contract.guard, whose limits are generous on purpose (a noisy shared machine).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps small caches next to the tests (.hypothesis/) even without a database: outside the repo.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "mspl-lite-hypothesis"))

#: Examples per test in the normal run: about 25 s for the whole fuzz suite on a 2-core machine.
SHORT_EXAMPLES = 50
#: Examples per test in the campaign (--fuzz-long); MSPL_FUZZ_EXAMPLES overrides it.
LONG_EXAMPLES = 3000

_RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
            HealthCheck.large_base_example]

settings.register_profile("short", max_examples=SHORT_EXAMPLES, derandomize=True, database=None,
                          deadline=None, suppress_health_check=_RELAXED, print_blob=True)
settings.register_profile("long", max_examples=int(os.environ.get("MSPL_FUZZ_EXAMPLES", LONG_EXAMPLES)),
                          derandomize=False, database=None, deadline=None, suppress_health_check=_RELAXED,
                          print_blob=True)


def pytest_configure(config):
    settings.load_profile("long" if config.getoption("--fuzz-long") else "short")
