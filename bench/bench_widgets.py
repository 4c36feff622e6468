"""How long one widget update takes (issue 4: under 100 ms each), and how long each diagram renders.

    .venv/bin/python bench/bench_widgets.py [--repeats 20]

Widget updates are driven as a learner would (set a value, click a button) without a browser;
each figure is the wall time of the whole handler: build the manifest, compile, register, send
the message through the Front End, write the DOT, render the SVG, set the HTML. The first
update of a process also imports and warms the compiler ("cold"); the others are "warm".
The renderer's cache is cleared before every timed update, so the SVG is really drawn each time.

The second table times each diagram kind with graphviz-pure and, if a system ``dot`` is on
PATH, with it too (for the README's comparison; the project never needs it).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mspl_lite.frontend import FrontEnd, sample_comparison, sample_path  # noqa: E402
from mspl_lite.frontend.samples import COMPARISON_APPS, COMPARISON_TITLES  # noqa: E402
from mspl_lite.view import (chain_diagram, compare_diagram, ladder_diagram,  # noqa: E402
                            transaction_diagram)
from mspl_lite.view import render as render_module  # noqa: E402
from mspl_lite.view.render import _render_cached  # noqa: E402

LIMIT_MS = 100.0


def _ms(fn) -> float:
    _render_cached.cache_clear()
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def widget_updates(repeats: int) -> list[tuple[str, float, list[float]]]:
    """(what, cold ms, warm ms list) for each kind of widget update."""
    from mspl_lite.view.widgets import ChainEditor, CompareLab, ScriptLab

    rows = []
    start = time.perf_counter()
    lab = ScriptLab()
    cold = (time.perf_counter() - start) * 1000
    rows.append(("ScriptLab: Run (valid script)", cold, [_ms(lab.run_button.click) for _ in range(repeats)]))
    good = lab.script.value

    def broken():
        lab.script.value = good.replace("EqualString", "EqualStrng")
        lab.run_button.click()
    rows.append(("ScriptLab: Run (broken script)", float("nan"), [_ms(broken) for _ in range(repeats)]))
    lab.script.value = good
    lab.run_button.click()
    rows.append(("ScriptLab: switch to ladder", float("nan"),
                 [_ms(lambda: setattr(lab.view, "value", "ladder" if lab.view.value != "ladder" else "transaction"))
                  for _ in range(repeats)]))

    start = time.perf_counter()
    cmp_lab = CompareLab()
    cold = (time.perf_counter() - start) * 1000
    values = ["position", "disposition"]
    rows.append(("CompareLab: switch what is compared", cold,
                 [_ms(lambda i=i: setattr(cmp_lab.vary, "value", values[i % 2])) for i in range(repeats)]))
    pick = ["invite-jennyl.sip", "im-with-link.sip"]
    rows.append(("CompareLab: pick another message", float("nan"),
                 [_ms(lambda i=i: setattr(cmp_lab.message_picker, "value", pick[i % 2])) for i in range(repeats)]))

    start = time.perf_counter()
    editor = ChainEditor()
    cold = (time.perf_counter() - start) * 1000
    editor.apps.value = "IIMFilter"
    rows.append(("ChainEditor: move an application", cold,
                 [_ms(editor.down.click if i % 2 == 0 else editor.up.click) for i in range(repeats)]))
    rows.append(("ChainEditor: enable / disable", float("nan"), [_ms(editor.toggle.click) for _ in range(repeats)]))
    return rows


def sample_diagrams():
    """One diagram of each kind from real traces of the lab."""
    traces = sample_comparison("im-with-link.sip")
    voicemail = FrontEnd().send(sample_path("messages/invite-adamb.sip").read_text())
    # The chain diagram draws a chain, not a trace: the Front End of the retarget side.
    fe = FrontEnd()
    fe.register(str(sample_path(f"apps/{COMPARISON_APPS[1]}")))
    return [
        ("chain", chain_diagram(fe)),
        ("transaction (IM, retarget)", transaction_diagram(traces[1])),
        ("transaction (fork + voice mail)", transaction_diagram(voicemail)),
        ("comparison", compare_diagram(*traces, titles=COMPARISON_TITLES)),
    ], traces, voicemail


def render_times(repeats: int) -> None:
    diagrams, traces, voicemail = sample_diagrams()
    renderers = [("graphviz-pure", render_module.find_renderer())]
    system_dot = shutil.which("dot")
    if system_dot:
        renderers.append(("system dot", system_dot))
    print(f"\n{'diagram':<34}" + "".join(f"{name:>16}" for name, _ in renderers) + "   identical twice")
    for kind, d in diagrams:
        cells, same = [], []
        for _name, binary in renderers:
            times, outputs = [], []
            for _ in range(repeats):
                _render_cached.cache_clear()
                start = time.perf_counter()
                outputs.append(_render_cached(binary, "svg", d.source))
                times.append((time.perf_counter() - start) * 1000)
            cells.append(f"{statistics.median(times):>13.1f} ms")
            same.append("yes" if len(set(outputs)) == 1 else "NO")
        print(f"{kind:<34}" + "".join(f"{c:>16}" for c in cells) + "   " + " / ".join(same))
    start = time.perf_counter()
    for _ in range(repeats):
        ladder_diagram(voicemail).svg()
    print(f"{'ladder (own SVG, no renderer)':<34}{(time.perf_counter() - start) * 1000 / repeats:>13.1f} ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.pop(render_module.RENDERER_ENV, None)
    print(f"renderer: {render_module.find_renderer()}")
    print(f"\n{'widget update':<40}{'cold':>10}{'median':>10}{'max':>10}   under {LIMIT_MS:.0f} ms?")
    worst = 0.0
    for what, cold, warm in widget_updates(args.repeats):
        worst = max(worst, max(warm))
        cold_text = "" if cold != cold else f"{cold:.1f}"
        print(f"{what:<40}{cold_text:>10}{statistics.median(warm):>10.1f}{max(warm):>10.1f}   "
              f"{'yes' if max(warm) < LIMIT_MS else 'NO'}")
    render_times(max(3, args.repeats // 4))
    return 0 if worst < LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
