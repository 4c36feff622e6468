"""RetargetRequest from below UserServices: still simulated, but the trace says the SDK forbids it (Dn439073)."""
from __future__ import annotations

import json
import subprocess
import sys

from _frontend_support import app, im, invite
from mspl_lite.frontend import FrontEnd, PythonApplication, sample_path
from mspl_lite.manifest import parse_manifest

TO_JENNY = im("sip:jennyl@contoso.com", "are you there?")
ELEMENT = "<r:allowRegistrationBeforeUserServices/>"


def placement_notes(trace):
    """The documented note and the hint about where a RetargetRequest application must sit."""
    documented = [n for n in trace.notes if n.kind == "documented" and "higher (a smaller number) than "
                  "UserServices" in n.text]
    hints = [n for n in trace.notes if n.kind == "hint" and "below UserServices" in n.text]
    return documented, hints


def without_element(name: str):
    """A sample manifest with its <allowRegistrationBeforeUserServices/> taken out."""
    text = open(app(name), encoding="utf-8").read()
    assert ELEMENT in text
    return parse_manifest(text.replace(ELEMENT, ""), filename=name)


def test_the_shipped_retarget_sample_at_its_default_place_gets_no_placement_note():
    fe = FrontEnd()
    fe.register(str(sample_path("apps/redirect-im-retarget.am")))
    trace = fe.send(TO_JENNY)
    hop = trace.hop("RedirectImRetarget")
    assert hop.priority < trace.hop("UserServices").priority
    assert hop.effect == "retargeted"
    assert placement_notes(trace) == ([], [])


def test_below_userservices_retarget_is_still_simulated_and_the_trace_says_the_sdk_wants_it_above():
    above, below = FrontEnd(), FrontEnd()
    above.register(app("redirect-im-retarget.am"))
    us = below.chain.index("UserServices")
    below.register(app("redirect-im-retarget.am"), priority=us + 1)
    t_above, t_below = above.send(TO_JENNY), below.send(TO_JENNY)
    hop = t_below.hop("RedirectImRetarget")
    assert hop.priority == us + 1 and hop.effect == "retargeted"
    # Simulated exactly as from above: same route, same request on the wire.
    assert t_below.outcome == t_above.outcome
    assert t_below.outcome.destination == below.registrations["nuriag@contoso.com"][0].contact
    documented, hints = placement_notes(t_below)
    assert len(documented) == 1 and documented[0].source == "Dn439073"
    assert "allowRegistrationBeforeUserServices" in documented[0].text
    hint, = hints
    assert f"RedirectImRetarget is at priority {us + 1}, below UserServices (priority {us})" in hint.text
    assert f"priority of {us} or less" in hint.text
    # This manifest already declares the element: only the priority needs fixing.
    assert "add <r:allowRegistrationBeforeUserServices/>" not in hint.text
    text = t_below.text()
    assert "[documented] An application that calls RetargetRequest must be registered" in text
    assert "[hint] RedirectImRetarget is at priority" in text


def test_a_manifest_without_the_element_lands_below_userservices_and_the_hint_says_to_add_it():
    fe = FrontEnd()
    fe.register(without_element("redirect-call-retarget.am"))
    assert fe.chain.index("RedirectCallRetarget") == fe.chain.index("UserServices") + 1
    trace = fe.send(invite("sip:+14255550199@contoso.com;user=phone"))
    assert trace.hop("RedirectCallRetarget").effect == "retargeted"
    assert trace.outcome.destination_kind == "gateway"          # still simulated: OutboundRouting routes it
    documented, hints = placement_notes(trace)
    assert len(documented) == 1 and len(hints) == 1
    assert "add <r:allowRegistrationBeforeUserServices/> to its manifest" in hints[0].text


def test_no_note_when_the_script_below_userservices_does_not_retarget():
    fe = FrontEnd()
    fe.register(without_element("redirect-im-retarget.am"))
    trace = fe.send(im("sip:nuriag@contoso.com", "hi"))          # not for Jenny: no RetargetRequest runs
    assert trace.hop("RedirectImRetarget").effect == "passed"
    assert placement_notes(trace) == ([], [])


def test_the_proxyrequest_twin_below_userservices_gets_no_note():
    fe = FrontEnd()
    fe.register(without_element("redirect-im-proxy.am"))
    trace = fe.send(TO_JENNY)
    assert trace.hop("RedirectImProxy").effect == "proxied"
    assert placement_notes(trace) == ([], [])


def test_managed_request_retarget_below_userservices_gets_no_note():
    # The reference states the placement rule for RetargetRequest only, not for Request.Retarget.
    def handler(e):
        e.Request.Retarget("sip:nuriag@contoso.com")
        e.ServerTransaction.CreateBranch().SendRequest(e.Request)

    fe = FrontEnd()
    fe.register(app("dispatch-helpdesk.am"))
    assert fe.chain.index("HelpdeskRouter") > fe.chain.index("UserServices")
    trace = fe.send(invite("sip:terrya@contoso.com"), dispatch_handlers={"OnInvite": handler})
    assert "Request.Retarget" in trace.hop("HelpdeskRouter").sentence
    assert placement_notes(trace) == ([], [])


def test_a_python_stand_in_is_told_the_same_with_its_own_fix():
    def redirect(message, api):
        api.retarget_request("sip:nuriag@contoso.com")

    fe = FrontEnd()
    fe.register(PythonApplication(name="PyRetarget", handler=redirect))
    trace = fe.send(TO_JENNY)
    documented, hints = placement_notes(trace)
    assert len(documented) == 1
    assert "allow_registration_before_user_services=True" in hints[0].text


def test_an_application_below_the_routing_applications_never_runs_so_gets_no_note():
    fe = FrontEnd()
    fe.register(app("redirect-im-retarget.am"), priority=99)
    trace = fe.send(TO_JENNY)
    assert trace.hop("RedirectImRetarget").why == "routed"
    assert placement_notes(trace) == ([], [])


def test_the_command_line_trace_carries_the_notes(tmp_path):
    msg = tmp_path / "im.sip"
    msg.write_bytes(TO_JENNY.encode("utf-8"))
    result = subprocess.run([sys.executable, "-m", "mspl_lite.cli", "trace", str(msg),
                             "--app", app("redirect-im-retarget.am") + "@5", "--json"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert any(n["kind"] == "documented" and n["source"] == "Dn439073" and "UserServices" in n["text"]
               for n in notes)
    assert any(n["kind"] == "hint" and "at priority 5, below UserServices" in n["text"] for n in notes)
