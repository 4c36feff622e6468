"""The ten-minute test that settles decision D1 on a real pool, and what the simulator predicts.

Decision D1 (docs/ARCHITECTURE.md) is the series' reading of what happens after
``ProxyRequest(uri)``: the request leaves the server and no later application sees it. Microsoft's
pages can be read both ways (cc165046 and Dn439067 against dn439171 and Dn439078), so the series
gives a learner with a lab pool a way to check it: three script-only applications (shipped in
``mspl_lite/data/real-pool-test/``, procedure in ``docs/real-pool-test.md``):

* RouteTest, just below UserServices: proxies calls for the test user to a URI, calls for the
  control user with ``""``;
* ProbeNext, just below RouteTest, and ProbeLast, just above DefaultRouting: they only ``Log``.

:func:`predict` runs exactly those manifests through the simulated Front End and tells which probe
logs which call. On a real pool, the Event log gives the same table: if ProbeNext logs the test
user's call, D1 is wrong for that server.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..frontend import FrontEnd, sample_path
from ..frontend.trace import Trace

__all__ = ["MANIFESTS", "manifest_path", "Prediction", "predict"]

#: The three applications, in the order they sit in the chain.
MANIFESTS = ("RouteTest", "ProbeNext", "ProbeLast")
PROBES = ("ProbeNext", "ProbeLast")

#: The two calls of the test: which sample message, and what RouteTest does with it.
CASES = (
    ("test", "messages/invite-jennyl.sip", 'ProxyRequest("sip:nuriag@contoso.com")'),
    ("control", "messages/invite-kima.sip", 'ProxyRequest("")'),
)


def manifest_path(name: str) -> Path:
    """The shipped .am file of one of :data:`MANIFESTS`."""
    return Path(str(resources.files("mspl_lite") / "data" / "real-pool-test" / f"{name}.am"))


def install(fe: FrontEnd) -> None:
    """Register the three applications where docs/real-pool-test.md tells an administrator to:
    RouteTest and ProbeNext just below UserServices, ProbeLast just above DefaultRouting."""
    below_user_services = fe.chain.index("UserServices") + 1
    fe.register(str(manifest_path("RouteTest")), priority=below_user_services)
    fe.register(str(manifest_path("ProbeNext")), priority=below_user_services + 1)
    fe.register(str(manifest_path("ProbeLast")), priority=fe.chain.index("DefaultRouting"))


@dataclass(frozen=True)
class Row:
    case: str          # "test" or "control"
    route_test: str    # what RouteTest did
    logged: tuple[str, ...]  # the probes that wrote "... saw the call"
    outcome: str       # where the call went, as the trace summarises it


@dataclass(frozen=True)
class Prediction:
    """What the simulator predicts the Event log of a real pool shows, case by case."""

    rows: tuple[Row, ...]
    traces: tuple[Trace, ...]

    def probes_that_logged(self, case: str) -> tuple[str, ...]:
        return next(r.logged for r in self.rows if r.case == case)

    def __str__(self) -> str:
        lines = ["call      RouteTest did                           probes that log it"]
        for r in self.rows:
            logged = ", ".join(r.logged) or "none"
            lines.append(f"{r.case:<9} {r.route_test:<39} {logged}")
        lines.append("")
        lines.append("If, on your pool, ProbeNext logs the test call, decision D1 does not hold there.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p, cycle):  # IPython shows the table
        p.text(str(self))


def predict(lab: str | Path | None = None) -> Prediction:
    """Run the real-pool test in the simulator (a fresh Front End of ``lab`` per call)."""
    rows, traces = [], []
    for case, message, action in CASES:
        fe = FrontEnd(lab) if lab is not None else FrontEnd()
        install(fe)
        trace = fe.send(sample_path(message).read_bytes())
        logged = tuple(p for p in PROBES
                       if any("saw the call" in line.text for line in trace.hop(p).log))
        rows.append(Row(case, action, logged, trace.outcome.summary()))
        traces.append(trace)
    return Prediction(tuple(rows), tuple(traces))
