"""The samples shipped with mspl-lite (mspl_lite/data): where they are, and the comparison drawn from them.

    sample_path("messages/invite-jennyl.sip")     # a sample message, application, or the lab
    proxied, retargeted = sample_comparison()     # the README's picture, as two traces
    proxied, retargeted = session_comparison()    # the same two, on an IM session (INVITE + MESSAGE)

The comparison is the series' central example (notebooks 05 and 06, the README's figure): two
sample applications that differ in one word, *RedirectImProxy* calls
``ProxyRequest("sip:nuriag@contoso.com")`` and *RedirectImRetarget* ``RetargetRequest`` with the
same URI; both sit just above UserServices and act on IMs for Jenny.

``sample_comparison`` sends one stand-alone MESSAGE that carries the text: a simplification
(decision D16). A Lync IM is a session: the INVITE is what the applications redirect (Dn439073),
and the text follows in MESSAGEs inside the dialog, which carry a Route header and so never
reach an application with strictRoute="false" (dn439115). ``session_comparison`` shows that.
"""
from __future__ import annotations

from .simulate import FrontEnd, Session
from .trace import Trace

__all__ = ["sample_path", "sample_comparison", "sample_session", "session_comparison", "COMPARISON_APPS",
           "COMPARISON_TITLES", "SESSION_TEXT"]

#: The IM text of the sample session: the same words as messages/im-with-link.sip.
SESSION_TEXT = "Have a look at http://www.fabrikam.com/offer before Friday!"

#: The ProxyRequest sample and its RetargetRequest twin, in that order.
COMPARISON_APPS = ("redirect-im-proxy.am", "redirect-im-retarget.am")

#: What each of the two does, to title the two sides of a drawing (compare_diagram's ``titles``).
COMPARISON_TITLES = ('ProxyRequest("sip:nuriag@contoso.com")', 'RetargetRequest("sip:nuriag@contoso.com")')


def sample_path(name: str):
    """The path of a sample shipped with mspl-lite: ``sample_path("messages/invite-jennyl.sip")``."""
    from importlib import resources

    return resources.files("mspl_lite").joinpath("data", *name.split("/"))


def _sample_message(name: str) -> str:
    """The text of the sample message ``messages/<name>``, read as every input file is (bounded)."""
    from ..errors import SipParseError
    from ..text import MAX_MESSAGE_FILE, read_input

    data = read_input(str(sample_path(f"messages/{name}")), limit=MAX_MESSAGE_FILE, what="SIP message",
                      error=SipParseError, filename=f"messages/{name}")
    return data.decode("utf-8")


def sample_comparison(message: str = "im-with-link.sip") -> tuple[Trace, Trace]:
    """The sample message ``messages/<message>`` sent through RedirectImProxy, then through
    RedirectImRetarget, each registered alone on a fresh default Front End: (proxied, retargeted).

    With the default stand-alone MESSAGE this is the simplification of decision D16."""
    text = _sample_message(message)
    traces = []
    for app in COMPARISON_APPS:
        fe = FrontEnd()
        fe.register(str(sample_path(f"apps/{app}")))
        traces.append(fe.send(text))
    return traces[0], traces[1]


def sample_session(app: str | None = None, *texts: str, invite: str = "im-invite-jennyl.sip") -> Session:
    """An IM session from the samples: ``messages/<invite>`` (Terry invites Jenny to an IM), then
    one MESSAGE per text in its dialog (default: SESSION_TEXT), on a fresh default Front End with
    the sample application ``apps/<app>`` registered (none when ``app`` is None)."""
    fe = FrontEnd()
    if app is not None:
        fe.register(str(sample_path(f"apps/{app}")))
    text = _sample_message(invite)
    return fe.send_session(text, *(texts or (SESSION_TEXT,)), filename=invite)


def session_comparison(*texts: str) -> tuple[Session, Session]:
    """The comparison on an IM session: (through RedirectImProxy, through RedirectImRetarget)."""
    return sample_session(COMPARISON_APPS[0], *texts), sample_session(COMPARISON_APPS[1], *texts)
