#!/usr/bin/env python3
"""Draw docs/compare.svg, the README's picture, from the shipped samples.

    .venv/bin/python tools/readme_figure.py          # rewrite docs/compare.svg
    .venv/bin/python tools/readme_figure.py --check  # exit 1 if docs/compare.svg is stale

The same IM with a link, sent to Jenny, redirected to Nuria by an application just above
UserServices: once with ProxyRequest, once with RetargetRequest.
"""
from __future__ import annotations

import sys
from pathlib import Path

from mspl_lite.frontend import sample_comparison
from mspl_lite.frontend.samples import COMPARISON_TITLES
from mspl_lite.view import compare_diagram

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "compare.svg"


def figure() -> str:
    """The SVG of the comparison: the sample IM through the ProxyRequest and the RetargetRequest sample."""
    return compare_diagram(*sample_comparison("im-with-link.sip"), titles=COMPARISON_TITLES).svg()


def main(argv: list[str]) -> int:
    """Write docs/compare.svg, or with --check say (exit 1) whether it is stale."""
    svg = figure()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != svg:
            print(f"{TARGET.relative_to(ROOT)} is stale: run tools/readme_figure.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(svg, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
