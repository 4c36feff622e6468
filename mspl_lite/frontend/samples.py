"""The samples shipped with mspl-lite (mspl_lite/data): where they are, and the comparison drawn from them.

    sample_path("messages/invite-jennyl.sip")     # a sample message, application, or the lab
    proxied, retargeted = sample_comparison()     # the README's picture, as two traces

The comparison is the series' central example (notebooks 05 and 06, the README's figure): two
sample applications that differ in one word, *RedirectImProxy* calls
``ProxyRequest("sip:nuriag@contoso.com")`` and *RedirectImRetarget* ``RetargetRequest`` with the
same URI; both sit just above UserServices and act on IMs for Jenny.
"""
from __future__ import annotations

from .simulate import FrontEnd
from .trace import Trace

__all__ = ["sample_path", "sample_comparison", "COMPARISON_APPS", "COMPARISON_TITLES"]

#: The ProxyRequest sample and its RetargetRequest twin, in that order.
COMPARISON_APPS = ("redirect-im-proxy.am", "redirect-im-retarget.am")

#: What each of the two does, to title the two sides of a drawing (compare_diagram's ``titles``).
COMPARISON_TITLES = ('ProxyRequest("sip:nuriag@contoso.com")', 'RetargetRequest("sip:nuriag@contoso.com")')


def sample_path(name: str):
    """The path of a sample shipped with mspl-lite: ``sample_path("messages/invite-jennyl.sip")``."""
    from importlib import resources

    return resources.files("mspl_lite").joinpath("data", *name.split("/"))


def sample_comparison(message: str = "im-with-link.sip") -> tuple[Trace, Trace]:
    """The sample message ``messages/<message>`` sent through RedirectImProxy, then through
    RedirectImRetarget, each registered alone on a fresh default Front End: (proxied, retargeted)."""
    text = sample_path(f"messages/{message}").read_text(encoding="utf-8")
    traces = []
    for app in COMPARISON_APPS:
        fe = FrontEnd()
        fe.register(str(sample_path(f"apps/{app}")))
        traces.append(fe.send(text))
    return traces[0], traces[1]
