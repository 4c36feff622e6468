"""Solutions of the exercises, shown only when asked for: ``show_solution("3.1")``.

A ``Solution`` displays as a collapsed HTML ``<details>`` block: the learner clicks to open it.
Its plain text (``print(show_solution("3.1"))``) is the whole solution. tests/test_course.py runs
every solution through its check, so a solution that stops passing fails the suite.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from ..errors import UsageError

__all__ = ["Solution", "SOLUTIONS", "show_solution"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Solution:
    """One exercise's solution: ``code`` in ``language`` (mspl, python, xml, sip) and why it works."""

    exercise: str
    language: str
    code: str
    why: str

    def text(self) -> str:
        """The whole solution as plain text: the code, then why it works."""
        return f"Solution {self.exercise}\n\n{self.code.strip()}\n\nWhy: {self.why}"

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (f"<Solution {self.exercise}: hidden; open it in JupyterLab, "
                f"or print(show_solution({self.exercise!r}))>")

    def _repr_html_(self) -> str:
        return (f"<details><summary><b>Solution {html.escape(self.exercise)}</b> "
                "(click to show; try the exercise first)</summary>"
                f'<pre style="margin:6px 0">{html.escape(self.code.strip())}</pre>'
                f"<p><b>Why:</b> {html.escape(self.why)}</p></details>")


def _s(exercise: str, language: str, code: str, why: str) -> Solution:
    return Solution(exercise=exercise, language=language, code=code, why=why)


SOLUTIONS: dict[str, Solution] = {s.exercise: s for s in (
    _s("0.1", "text", "UserServices", "UserServices is the registrar (with presence and conferencing): it "
       "registers the endpoint and answers 200 OK itself, so the REGISTER goes no further down the chain."),
    _s("1.1", "python", '''
def routing_target(message):
    if not isinstance(message, Request):
        return None
    return get_user_at_host(message.request_uri)
''', "The server routes a request on its Request-URI; get_user_at_host (MSPL GetUserAtHost) returns None "
     "when the URI names no user, as in a REGISTER's sip:contoso.com. A response has no Request-URI at all."),
    _s("1.2", "python", '''
def dialog_id(message):
    return (message.get("Call-ID"),
            get_parameter_value(message.get("From"), "tag"),
            get_parameter_value(message.get("To"), "tag"))
''', "tag is a header parameter (after the '>'), so get_parameter_value reads it and returns None while the "
     "To has no tag yet. Each side keeps its own tag: in the callee's BYE, From carries the callee's tag."),
    _s("1.3", "sip", '''
INVITE sip:jennyl@contoso.com SIP/2.0
Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-call-jenny-10
Max-Forwards: 70
From: "Terry Adams" <sip:terrya@contoso.com>;tag=1a2b3c4d;epid=7c2e5f3a01
To: "Jenny Lee" <sip:jennyl@contoso.com>
Call-ID: call-jenny-10
CSeq: 1 INVITE
Content-Type: text/plain
Content-Length: 24

Hello, this is a test.
''', "Straight double quotes around the display name, a ':' after Call-ID, and a Content-Length equal to the "
     "body's bytes: 22 characters plus the CRLF that ends the line."),
    _s("2.1", "python", "answer_2_1 = 5",
       "Any priority from just below UserServices down to just above DefaultRouting works (4 to 7 in the "
       "default chain, counting WatchIm's own place). Above UserServices the server refuses it (no "
       "allowRegistrationBeforeUserServices); below DefaultRouting it never sees an IM, because DefaultRouting "
       "routes every IM for a signed-in user out of the server."),
    _s("2.2", "powershell", '''
New-CsServerApplication -Identity "service:Registrar:pool01.contoso.com/WatchIm" -Uri "http://www.contoso.com/WatchIm" -Priority 5 -ScriptName "C:\\Apps\\WatchIm.am" -Enabled $true -Critical $false
''', "Identity is service:Registrar:<pool>/<Name>; Uri must equal the manifest's appUri; Enabled defaults to "
       "False and Critical to True, so say both (New-CsServerApplication, office-docs-powershell)."),
    _s("3.1", "mspl", '''
if (sipRequest) {
    if (sipRequest.Method == StandardMethod.Invite) {
        if (EqualString(GetUserAtHost(sipRequest.RequestUri), "adamb@contoso.com", true)) {
            Respond(480, "Adam is on leave");
            return;
        }
    }
}
''', "if (sipRequest) keeps Respond off responses; the Method test keeps Adam's REGISTER and IMs out; the "
     "callee is the Request-URI's user. Everything else gets no action, and proxyByDefault true passes it on."),
    _s("3.2", "xml", '''
<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/AdamOnLeave"
                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="NONE"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipRequest) {
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "adamb@contoso.com", true)) {
        Respond(480, "Adam is on leave");
        return;
    }
}
]]></r:splScript>
</r:applicationManifest>
''', "methodNames=\"INVITE\" and reasonCodes=\"NONE\" let the server skip the script for everything else; "
     "proxyByDefault true passes on what the script does not answer; scriptOnly says there is no managed part. "
     "The Method test may stay in the script: it costs little and keeps it safe if the filter is widened."),
    _s("3.3", "mspl", '''
if (sipRequest) {
    if (sipRequest.Method == "MESSAGE") {
        if (ContainsString(sipMessage.Content, "password", true)) {
            Log("Event", false, "password mentioned in an IM from ", sipMessage.From);
        }
    }
}
''', "\"Event\" is a warning in the event log; detail false adds only the summary line; ContainsString's "
     "true ignores case. No routing action: proxyByDefault true passes the IM on."),
    _s("4.1", "mspl", '''
if (sipRequest) {
    host = GetHostName(sipMessage.From);
    if (host != null) {
        AddHeader("X-Caller-Host", host);
    }
}
''', "GetHostName returns null when the address has no host (a tel: URI). Passing null where a string is "
     "expected is a critical error that stops the script, so test it first."),
    _s("4.2", "mspl", '''
if (sipRequest) {
    foreach (value in GetHeaderValues("Supported")) {
        if (EqualString(value, "ms-early-media", true)) {
            Log("Debugr", false, "early media");
            break;
        }
    }
}
''', "GetHeaderValues returns every value of every Supported header, comma lists split; EqualString(..., true) "
     "ignores case; break leaves the loop at the first match."),
    _s("4.3", "mspl", '''
if (sipRequest) {
    switch (sipRequest.Method) {
        case "INVITE":
            Log("Debugr", false, "call");
            break;
        case "MESSAGE":
            Log("Debugr", false, "im");
            break;
        case "SUBSCRIBE":
            Log("Debugr", false, "presence");
            break;
        default:
            Log("Debugr", false, "other");
            break;
    }
}
''', "Every case, default included, ends with break (MSPL refuses fall-through). On a response "
     "sipRequest.Method reads false, which is why the switch sits inside if (sipRequest)."),
    _s("5.1", "mspl", '''
if (sipRequest) {
    if (sipRequest.Method == "INVITE") {
        if (EqualString(GetUserAtHost(sipRequest.RequestUri), "room1@contoso.com", true)) {
            ProxyRequest("sip:room1@rooms.contoso.com");
            return;
        }
    }
}
''', "ProxyRequest(uri) sends the request to that URI and marks it routed: nothing below the application "
       "runs. Right for a destination you know and the chain does not (a room system, a trunk, another "
       "server); every other request gets no action and goes on down the chain."),
    _s("5.2", "python", '''
answer_5_2 = ["TranslationService", "IncomingFederation", "RedirectImProxy"]
''', "In the simulator ClientVersionFilter handles REGISTER only (inferred), so it does not run; "
       "TranslationService and IncomingFederation run and pass the IM on; RedirectImProxy (just above "
       "UserServices) proxies it to Nuria, and every application below it, UserServices, IIMFilter and "
       "DefaultRouting included, is skipped (decision D1)."),
    _s("6.1", "mspl", '''
if (sipRequest) {
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "jennyl@contoso.com", true)) {
        RetargetRequest("sip:nuriag@contoso.com");
        return;
    }
}
''', "RetargetRequest sets a new target user; the Request-URI follows it, To keeps Jenny, and the chain goes "
       "on: IIMFilter neutralises the link and DefaultRouting finds Nuria's endpoints (Dn439073; the simulator's "
       "reading is decision D5). In an IM session it is the INVITE that is retargeted, as in the SDK's sample "
       "(Dn439073); the MESSAGEs of its dialog carry a Route header, so an application with "
       "strictRoute=\"false\" never sees them (dn439115, decision D16)."),
    _s("6.2", "mspl", '''
if (sipRequest) {
    if (ContainsString(sipRequest.RequestUri, "+14255550199", false)) {
        RetargetRequest("sip:+12065550123@contoso.com;user=phone");
        return;
    }
}
''', "With RetargetRequest the new number still meets OutboundRouting, which applies the caller's voice "
       "policy, PSTN usages and routes and picks the gateway. ProxyRequest to the same URI would send the call "
       "nowhere useful: no application would route it."),
    _s("4.4", "mspl", '''
function DelegateOf(aor) {
    delegate = delegates[aor].delegate;
    if (delegate == null) {
        return "";
    }
    return Concatenate("sip:", delegate);
}

if (sipRequest) {
    if (sipRequest.Method == "INVITE") {
        target = DelegateOf(GetUserAtHost(sipRequest.RequestUri));
        if (target != "") {
            Respond(302, "Moved Temporarily", Concatenate("Contact=<", target, ">"));
            return;
        }
    }
}
''', "Functions come before the body and see only their parameters (and the flat files). A key lookup that "
     "finds no row is null; the function turns it into \"\" so the body never passes null on. The file's "
     "ignoreCase=\"true\" makes sip:JennyL@Contoso.com find jennyl@contoso.com."),
)}

# Notebooks 07-10: each module lists its solutions as (exercise, language, code, why) rows.
from . import answering_exercises, capstone, debugging_exercises, managed_exercises  # noqa: E402

for _module in (answering_exercises, debugging_exercises, managed_exercises, capstone):
    SOLUTIONS.update({row[0]: _s(*row) for row in _module.SOLUTION_ROWS})


def show_solution(exercise: str) -> Solution:
    """The solution of ``exercise`` ("3.1"): collapsed in a notebook until clicked."""
    try:
        return SOLUTIONS[str(exercise)]
    except KeyError:
        raise UsageError(f"no solution for exercise {exercise!r}; known: {', '.join(SOLUTIONS)}") from None
