"""The SIP ladder: lifelines, messages in time order, request/response styles, deterministic SVG."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from mspl_lite.frontend import FrontEnd, sample_path
from mspl_lite.view import ladder_diagram, ladder_steps
from mspl_lite.view.ladder import lifelines

sys.path.insert(0, str(Path(__file__).parent))
import view_fixtures as fx  # noqa: E402


def _arrows(trace):
    names = [n for n, _ in lifelines(trace)]
    return [(s.kind, names[s.source], names[s.target], s.text) for s in ladder_steps(trace) if s.kind != "note"]


def test_lifelines_are_sender_front_end_acting_apps_and_destinations():
    assert lifelines(fx.retarget_trace()) == [
        ("Nuria Gonzalez", "sender"), ("Front End", "fe01.contoso.com"), ("RedirectApp", "custom application"),
        ("IIMFilter", "built-in"), ("DefaultRouting", "built-in"), ("Terry Adams", "endpoint")]
    # Applications that only passed the request on are not lifelines.
    assert "TranslationService" not in [n for n, _ in lifelines(fx.retarget_trace())]


def test_retarget_ladder_in_order():
    assert _arrows(fx.retarget_trace()) == [
        ("request", "Nuria Gonzalez", "Front End", "MESSAGE sip:terrya@contoso.com"),
        ("request", "Front End", "RedirectApp", "MESSAGE"),
        ("request", "RedirectApp", "IIMFilter", "MESSAGE"),
        ("request", "IIMFilter", "DefaultRouting", "MESSAGE"),
        ("request", "DefaultRouting", "Terry Adams", "MESSAGE sip:terrya@contoso.com;opaque=user:ep..."),
        ("response", "Terry Adams", "DefaultRouting", "200 OK"),
        ("response", "DefaultRouting", "Front End", "200 OK"),
        ("response", "Front End", "Nuria Gonzalez", "200 OK"),
    ]
    notes = [s.text for s in ladder_steps(fx.retarget_trace()) if s.kind == "note"]
    assert notes[1] == 'neutralised 1 link; body now: "see _http://fabrikam.com/offer now"'


def test_proxyrequest_ladder_never_shows_the_skipped_applications():
    names = [n for n, _ in lifelines(fx.proxy_trace())]
    assert names == ["Nuria Gonzalez", "Front End", "RedirectApp", "Terry Adams"]


def test_answer_and_drop():
    assert _arrows(fx.responded_trace())[-2:] == [
        ("response", "RedirectApp", "Front End", "403 Forbidden"),
        ("response", "Front End", "Nuria Gonzalez", "403 Forbidden")]
    steps = ladder_steps(fx.dropped_trace())
    assert not [s for s in steps if s.kind == "response"]
    assert steps[-1].kind == "note" and steps[-1].source == 0 and "times out" in steps[-1].text


def test_fork_cancel_and_voicemail_failover_come_in_time_order():
    trace = FrontEnd().send(sample_path("messages/invite-adamb.sip").read_text())
    arrows = [(k, a, b, t.split(" ")[0] if k == "request" else t) for k, a, b, t in _arrows(trace)]
    start = arrows.index(("response", "Adam Barr", "DefaultRouting", "180 Ringing"))
    assert arrows[start:start + 6] == [
        ("response", "Adam Barr", "DefaultRouting", "180 Ringing"),
        ("request", "DefaultRouting", "Adam Barr", "CANCEL"),
        # The CANCEL gets its own 200; the INVITE ends 487 (RFC 3261 9.2).
        ("response", "Adam Barr", "DefaultRouting", "200 OK (CANCEL)"),
        ("response", "Adam Barr", "DefaultRouting", "487 Request Terminated"),
        ("request", "DefaultRouting", "ExumRouting", "INVITE"),
        ("request", "ExumRouting", arrows[start + 5][2], "INVITE"),
    ]
    assert arrows[start + 5][2].startswith("Exchange UM")


def test_a_fork_sends_every_invite_first_and_forwards_the_2xx_before_cancelling_the_rest():
    # Jenny is signed in twice: one endpoint answers, the other rings (the lab's default).
    trace = FrontEnd().send(sample_path("messages/invite-jennyl.sip").read_text())
    names = [n for n, _ in lifelines(trace)]
    first, second = names[-2], names[-1]
    arrows = [(k, a, b, t.split(" ")[0] if k == "request" else t) for k, a, b, t in _arrows(trace)]
    start = arrows.index(("request", "DefaultRouting", first, "INVITE"))
    assert arrows[start:] == [
        ("request", "DefaultRouting", first, "INVITE"),
        ("request", "DefaultRouting", second, "INVITE"),     # both INVITEs leave at once
        ("response", first, "DefaultRouting", "180 Ringing"),
        ("response", second, "DefaultRouting", "180 Ringing"),
        ("response", first, "DefaultRouting", "200 OK"),
        ("response", "DefaultRouting", "Front End", "200 OK"),   # the 2xx is forwarded at once (16.7 step 5)
        ("response", "Front End", "Terry Adams", "200 OK"),
        ("request", "DefaultRouting", second, "CANCEL"),         # then the rest is cancelled (16.7 step 10)
        ("response", second, "DefaultRouting", "200 OK (CANCEL)"),
        ("response", second, "DefaultRouting", "487 Request Terminated"),
    ]


def test_a_busy_branch_ends_before_the_answer_and_the_caller_gets_only_the_2xx():
    from mspl_lite.frontend.trace import Branch, Outcome
    trace = FrontEnd().send(sample_path("messages/invite-jennyl.sip").read_text())
    busy = Branch(target="sip:192.0.2.61:50270;transport=tls", kind="endpoint", sent_by="DefaultRouting",
                  party="Ben Smith", responses=((486, "Busy Here"),))
    answered = trace.branches[0]
    forked = type(trace)(**{**{f: getattr(trace, f) for f in trace.__dataclass_fields__},
                            "branches": (answered, busy)})
    arrows = [(k, b, t) for k, a, b, t in _arrows(forked)]
    assert arrows.index(("response", "DefaultRouting", "486 Busy Here")) < \
        arrows.index(("response", "DefaultRouting", "200 OK"))
    assert [t for k, b, t in arrows if b == "Terry Adams"] == ["200 OK"]


def test_svg_requests_solid_responses_dashed_and_identical_twice():
    d = ladder_diagram(fx.retarget_trace())
    svg = d.svg()
    assert svg == ladder_diagram(fx.retarget_trace()).svg()
    lines = re.findall(r'<line x1="\d+" y1="(\d+)" x2="\d+" y2="\1" ([^/]*)/>', svg)
    requests = [s for _, s in lines if "url(#req)" in s]
    responses = [s for _, s in lines if "url(#resp)" in s]
    assert len(requests) == 5 and len(responses) == 3
    assert all("stroke-dasharray" in s for s in responses) and not any("dasharray" in s for s in requests)
    assert "<title>SIP ladder: MESSAGE sip:terrya@contoso.com</title>" in svg
    assert repr(d) == "<Diagram ladder: MESSAGE sip:terrya@contoso.com (6 lifelines, 8 messages)>"
    width = int(re.search(r'<svg [^>]*width="(\d+)"', svg).group(1))
    assert width <= 900


def test_an_application_that_changes_the_response_gets_a_lifeline_and_a_note():
    fe = FrontEnd()
    fe.register(str(sample_path("apps/watch-4xx.am")))
    trace = fe.send(sample_path("messages/im-to-nuriag.sip").read_text().replace("nuriag", "kima"))
    names = [n for n, _ in lifelines(trace)]
    assert names[2] == "Watch4xx"
    steps = ladder_steps(trace)
    note = next(s for s in steps if s.kind == "note" and s.text.startswith("response:"))
    assert note.source == 2 and note.text == "response: + X-Seen-By: Watch4xx"
    i = steps.index(note)
    assert steps[i - 1] == type(note)("response", 3, 2, "480 Temporarily Unavailable")
