"""Exercises of notebook 08 (logging, monitoring and debugging), and the SDK sample it investigates.

8.1 Read a trace: who routed Terry's call to Ben, what Terry got, who logged, who never saw it.
8.2 Make the published DefaultRouting sample route: its null tests (a finding, not a fact about Lync).
8.3 Silence the checker: fix a script until `mspl-lite check` has nothing to say, keeping what it does.

``SDK_DEFAULT_ROUTING`` is the DefaultRouting sample of the Lync Server 2013 SDK (MicrosoftDocs/
office-developer-lync-evergreen-docs, docs/server-sdk/mspl-script-sample-as-message-filter-lync-
server-2013-preview-sdk.md), script copied verbatim; the page's two XML typos (``<?xml version="1.0">``
and ``/ >``), which no XML parser accepts, are corrected (as in tests/data/check/default_routing.am).

Under mspl-lite's null semantics (values.py: null equals only null; passing null where a string
is expected is a critical error, Dn439066) the sample as published stops at its line 46 on every
request, and with that line fixed its ``requestEPID != ""`` skips every endpoint. That is what
the simulator shows; what a real Lync Server does with the sample is not in our sources.
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError, RegistrationRefused
from ..language import Script
from ..manifest import parse_manifest
from .feedback import Passed, Problem, exercise_check
from .harness import (Outcome, critical_hint, critical_problem, describe_run, error_lines, load_problem,
                      manifest_answer, run_script, script_check, warning_lines)
from .lab_apps import lab_app
from .variants import variant

__all__ = ["SDK_DEFAULT_ROUTING", "default_routing_app", "check_read_trace", "check_default_routing",
           "check_quiet_checker", "ben_trace", "CALL_WATCH_SCRIPT", "KIM_AWAY_BUGGY", "EXERCISE_ROWS",
           "SOLUTION_ROWS"]

_NB08 = "08-logging-monitoring-and-debugging"

#: The SDK's DefaultRouting sample, as published (XML typos of the page corrected).
SDK_DEFAULT_ROUTING = r'''<?xml version="1.0"?>
<lc:applicationManifest
 lc:appUri="http://www.contoso.com/DefaultRoutingScript"
 xmlns:lc="http://schemas.microsoft.com/lcs/2006/05">
<lc:requestFilter methodNames="INVITE,MESSAGE,INFO,REFER,ACK,BYE,OTHER"
                        strictRoute="false"
                        registrarGenerated="true"
                        domainSupported="true"/>
<lc:responseFilter reasonCodes="NONE" />
<lc:proxyByDefault action="true" />
<lc:scriptOnly />
<lc:splScript><![CDATA[
    //
    // This script handles default routing of requests to Lync Server.  It
    // looks up all the registered endpoints for the To: user@host and tries
    // to pick the best endpoint to route based on:
    //  EPID
    //
    // Endpoints with no presence or an availability less than 100, or
    // no routing information (for example, set presence without
    // register) are not considered.
    //

    Log( "Debugr", 1, "we have a request - ", sipRequest.Method );

    //
    // Build the user@host from the To: header.
    //
    toUri = GetUri( sipRequest.To );
    toUserAtHost = Concatenate( GetUserName( toUri ), "@", GetHostName( toUri ) );

    //
    // Determine whether this request is already asking for a specific EPID
    // through a parameter in the To: header.
    //
    requestEPID = GetParameterValue( sipRequest.To, "EPID" );

    //
    // Now loop over all the endpoints for the To: user@host.
    //
    bestEPID = "";
    bestAgeOfPresence = 0x7FFFFFFF;
    bestAvailability = 0;
    bestActivity = 0;
    bestContactInfo = "";
    Log( "Debugr", 1, "EPID - ", requestEPID );
    Log( "Debugr", 1, "toUserAtHost - ", toUserAtHost );
    foreach (dbEndpoint in QueryEndpoints( toUserAtHost, true )) {
        Log( "Debugr", 1, "    endpoint.EPID - ", dbEndpoint.EPID );
        Log( "Debugr", 1, "    endpoint.ContactInfo - ", dbEndpoint.ContactInfo );

        //
        // First, determine whether this endpoint supports the method in the request.
        //
        if (!SupportsMethod( sipRequest.Method, dbEndpoint.StandardMethods, dbEndpoint.ExtraMethods )) {
            //
            // Skip this endpoint because it cannot handle the method on this request.
            //
            Log( "Debugr", 1, "        * skipped because of method" );
            continue;
            }

        if (requestEPID != "") {
            if (requestEPID == dbEndpoint.EPID) {
                //
                // The request is already targeted at a specific EPID that can handle the method,
                // so use this endpoint.
                //
                Log( "Debugr", 1, "        * matched EPID" );
                bestContactInfo = dbEndpoint.ContactInfo;
                break;
            }
            else {
                //
                // The request is targeted at a specific EPID, but does not match this endpoint.
                // Skip this endpoint.
                //
                Log( "Debugr", 1, "        * skipped because of EPID" );
                continue;
            }
        }

        bestEPID = dbEndpoint.EPID;
        bestContactInfo = dbEndpoint.ContactInfo;
        Log( "Debugr", 1, "        *** new best contact" );
        }

    //
    // See if an endpoint to proxy to was found.
    //
    if (bestContactInfo == "") {
        /* Uncomment this block of code and the two previous assignments to sawAtLeastOneEndpoint
           if you want to run a UAC application before this one and have this code
           route your messages to the correct home server.
        if (!sawAtLeastOneEndpoint) {
            homeServer = QueryHomeServer( toUserAtHost );
            if (!EqualString( homeServer, FQDN, true )) {
                Log( "Debugr", 1, toUserAtHost, " is homed on ", homeServer );
                newRequestUri = Concatenate( sipRequest.RequestUri, ";maddr=", homeServer );
                Log( "Debugr", 1, "Request is being routed to ", newRequestUri );
                AddHeader( "MS-LBVIA", FQDN );
                ProxyRequest( newRequestUri );
                return;
            }
        }
        */
        Log( "Debugr", 1, "Responding 480 - temporarily unavailable as no suitable endpoint found" );
        Respond( 480, "Temporarily Unavailable" );
    }
    else {
        if (requestEPID == "") {
            Log( "Debugr", 1, "Adding missing EPID '", bestEPID, "' to To header" );
            SetParameterValue( "To", "epid", bestEPID );
            }

        Log( "Debugr", 1, "Proxying request to - ", bestContactInfo );
        ProxyRequest( bestContactInfo );
        }

    return;
]]></lc:splScript>
</lc:applicationManifest>
'''


def default_routing_app(text: str = SDK_DEFAULT_ROUTING):
    """The sample (or a learner's edit of it) as a manifest; raises ManifestError."""
    return parse_manifest(manifest_answer(text), filename="default_routing.am")


# --- 8.1 -------------------------------------------------------------------------------------

#: CallWatch of notebook 03: logs every call it sees, warns in the event log when one fails.
CALL_WATCH_SCRIPT = """
if (sipRequest) {
    Log("Debugr", false, "call to ", sipRequest.RequestUri);
}
if (sipResponse) {
    Log("Event", false, "call failed: ", sipResponse.StatusCode, sipResponse.StatusReasonPhrase);
}
"""


def ben_trace():
    """The trace of 8.1: Terry calls Ben Smith (always busy) with CallWatch just below UserServices."""
    from ..frontend import FrontEnd

    fe = FrontEnd()
    fe.register(lab_app("CallWatch", CALL_WATCH_SCRIPT, methods="INVITE", reason_codes="4XX,5XX,6XX"))
    return fe.send(variant("invite-jennyl", callee="sip:bens@contoso.com"))


_KEYS_8_1 = ("routed_by", "status", "event_log", "filtered_out")


@exercise_check("8.1")
def check_read_trace(answer: Any) -> Problem | Passed:
    """8.1: four facts read off the trace of Terry's call to Ben."""
    if not isinstance(answer, dict) or set(answer) != set(_KEYS_8_1):
        return Problem("the answer should be the dict of the starter cell, with its four keys.",
                       f"keys: {', '.join(_KEYS_8_1)}")
    trace = ben_trace()
    routed_by = trace.outcome.first_routed_by or trace.outcome.decided_by   # the app that sent it out
    given = answer["routed_by"]
    if not isinstance(given, str) or given.strip().lower() != routed_by.lower():
        return Problem(f"routed_by: {given!r} is not the application that sent the INVITE out.",
                       "read the Outcome line ('proxied to ... by X'), or the application whose "
                       "action says 'proxied to' with every later one 'skipped (routed)'")
    status = trace.outcome.status
    if answer["status"] != status:
        hint = ("the trace lists every response that came back on a branch under 'Left the server', and what "
                "Terry got under 'Outcome'" if answer["status"] in (180, 200) else
                "read the Outcome line: '-> status reason'")
        return Problem(f"status: {answer['status']!r} is not what Terry's client received.", hint)
    event = [e for e in trace.log if e.level == "Event"]
    writer = event[0].app if event else None
    given = answer["event_log"]
    if not isinstance(given, str) or given.strip().lower() != (writer or "").lower():
        return Problem(f"event_log: {given!r} did not write the warning.",
                       "the Log section lists '[application] level: text': \"Event\" is a warning "
                       "in the event log, \"Debugr\" goes to the debug log")
    filtered = [h.app for h in trace.hops if not h.ran and h.why == "filter"]
    given = answer["filtered_out"]
    if not isinstance(given, (list, tuple)) or not all(isinstance(g, str) for g in given):
        return Problem("filtered_out should be a list of application names.",
                       'e.g. ["ClientVersionFilter"]')
    got = {g.strip().lower() for g in given}
    routed = [h.app for h in trace.hops if not h.ran and h.why == "routed" and h.app.lower() in got]
    if routed:
        return Problem(f"{', '.join(routed)}: skipped because the request was already routed, "
                       "not because of a filter.", "look for 'skipped (filter)' in the trace")
    missing = [a for a in filtered if a.lower() not in got]
    extra = [g for g in given if g.strip().lower() not in {a.lower() for a in filtered}]
    if extra:
        return Problem(f"{', '.join(extra)} did see the INVITE (or is not in this chain).",
                       "an application that ran has 'ran' in the third column")
    if missing:
        return Problem(f"filtered_out misses {len(missing)} application(s).",
                       "every line that reads 'skipped (filter)'")
    return Passed(f"Terry's call: {trace.outcome.summary()}. CallWatch saw the INVITE, and the 486 on its way "
                  "back (its reasonCodes accept 4XX): that is where its Event came from.")


# --- 8.2 -------------------------------------------------------------------------------------

_JENNY_DESKTOP_EPID = "5f3a7c9e01"


@exercise_check("8.2")
def check_default_routing(text: Any) -> Problem | Passed:
    """8.2: the SDK sample edited so that it routes calls itself: no critical error, epid added, EPID honoured."""
    from ..frontend import FrontEnd

    if not isinstance(text, str):
        return Problem(f"the answer should be the manifest text, not {type(text).__name__}.",
                       "start from SDK_DEFAULT_ROUTING and .replace(...) what needs fixing")
    try:
        manifest = default_routing_app(text)
    except InputError as err:
        return load_problem(err)
    fe = FrontEnd()
    try:
        app = fe.register(manifest)
    except (InputError, RegistrationRefused) as err:
        return Problem("the application cannot be registered.", "fix the first error below", error_lines(err))
    name = app.name
    jenny = {e.contact: e.epid for e in fe.registrations["jennyl@contoso.com"]}
    trace = fe.send(variant("invite-jennyl"))
    notes = [c for c in trace.critical_errors if c.app == name]
    if notes:
        c = notes[0]
        if c.message.startswith("null passed to Log"):
            hint = (f"line {c.line} logs a value that is null: GetParameterValue returns null when the To header has "
                    "no EPID parameter (dn439161), and Log cannot take null. Log it only when it is != null")
        else:
            hint = critical_hint(c.message)
        return Problem(f"Terry's call to Jenny stopped the script: critical error at line {c.line}: "
                       f"{c.message} ({c.count} of 10; at 10 the server disables the application, and "
                       "the built-in DefaultRouting quietly routes the calls instead; that a null argument counts "
                       "toward the 10 is the simulator's inference).", hint)
    hop = trace.hop(name)
    skipped = [e for e in hop.log if "skipped because of EPID" in e.text]
    if trace.outcome.decided_by == name and trace.outcome.kind == "responded":
        if skipped:
            return Problem(
                f"your script answered {trace.outcome.status} {trace.outcome.reason} for Jenny, who is signed in "
                f"on two endpoints: its log says 'skipped because of EPID' for each of them.",
                'requestEPID is null here, and null never equals "" (mspl-lite\'s null semantics), so '
                'requestEPID != "" is true: test requestEPID != null')
        return Problem(f"your script answered Jenny's call: {trace.outcome.summary()}.",
                       "it should proxy the call to one of Jenny's endpoints")
    if trace.outcome.decided_by != name:
        return Problem(f"your script did not route the call ({hop.action or hop.sentence}); "
                       f"{trace.outcome.summary()}.",
                       "keep the sample's ProxyRequest(bestContactInfo): the point is the sample "
                       "routing calls itself")
    to_after = next((c.after for c in (hop.changes.headers if hop.changes else ()) if c.name.lower() == "to"), None)
    if not to_after or "epid=" not in to_after.lower():
        return Problem("the call reached one of Jenny's endpoints, but the To header got no epid.",
                       'the second test (line 111) has the same trouble: requestEPID == "" is false '
                       "for null; test requestEPID == null")
    to = f'"Jenny Lee" <sip:jennyl@contoso.com>;epid={_JENNY_DESKTOP_EPID}'
    targeted = variant("invite-jennyl", headers={"To": to})
    epid_trace = fe.send(targeted)
    if epid_trace.outcome.decided_by != name or jenny.get(epid_trace.outcome.destination or "") != _JENNY_DESKTOP_EPID:
        return Problem(f"a call whose To names epid={_JENNY_DESKTOP_EPID} went elsewhere: "
                       f"{epid_trace.outcome.summary()}.",
                       "keep the EPID branch: when requestEPID is not null, only the endpoint with "
                       "that EPID is used")
    from ..frontend import sample_path

    kim = fe.send(sample_path("messages/invite-kima.sip").read_text())
    if kim.outcome.decided_by != name or kim.outcome.status != 480:
        return Problem(f"Terry's call to Kim (signed in nowhere): {kim.outcome.summary()}.",
                       "the sample answers 480 when no endpoint is found: keep that part")
    return Passed(f"The sample now routes: Jenny's call went to {trace.outcome.destination} with the epid "
                  "added to To, a call naming an EPID went to that endpoint, Kim's got 480. Note which "
                  "endpoint won: the last one that supports INVITE, because the presence fields the "
                  "comment speaks of were removed from RegistrarEndpoint in Lync Server 2013.")


# --- 8.3 -------------------------------------------------------------------------------------

#: The script of 8.3, with the mistakes `mspl-lite check` and the run find.
KIM_AWAY_BUGGY = """\
// KimAway: log the callee of every call; answer calls to Kim with 480 "Kim is away".
if (callee == "kima@contoso.com") {
    Log("Debug", false, "Kim is away");
}
callee = GetUserAtHost(sipRequest.RequestUri);
if (EqualString(callee, "kima@contoso.com", true)) {
    Respond(480, "Kim is away");
    return;
    Log("Debugr", false, "answered ", callee);
}
Log("Debugr", false, "call to ", callee);
"""


@script_check("8.3")
def check_quiet_checker(script: Script) -> Problem | Passed:
    """8.3: no checker warning left, and KimAway still does its job on every message."""
    if script.warnings:
        first = script.warnings[0]
        n = len(script.warnings)
        return Problem(f"mspl-lite check still reports {n} warning{'s' if n > 1 else ''}, the first: "
                       f"{first.message}.", first.hint or "fix the line it points at",
                       warning_lines(script)[:4])
    message = variant("invite-jennyl", callee="sip:kima@contoso.com")
    kim = Outcome("invite-kima", message, script.run(message))
    problem = critical_problem(kim, "Terry's call to Kim")
    if problem:
        return problem
    if [(d.status, d.reason) for d in kim.responds] != [(480, "Kim is away")]:
        return Problem(f"Terry's call to Kim: {describe_run(kim)}.",
                       'answer it with Respond(480, "Kim is away") and return;')
    jenny = run_script(script, "invite-jennyl")
    problem = critical_problem(jenny, "Terry's call to Jenny")
    if problem:
        return problem
    if jenny.actions:
        return Problem(f"the script acted on Terry's call to Jenny: {describe_run(jenny)}.",
                       "only Kim's calls are answered")
    if not any("jennyl@contoso.com" in e.text and e.level == "Debugr" for e in jenny.run.log):
        return Problem(f"Terry's call to Jenny was not logged ({describe_run(jenny)}).",
                       'keep Log("Debugr", false, "call to ", callee) for every call')
    for name, what in (("register-adamb", "Adam's REGISTER (Request-URI sip:contoso.com)"),
                       ("message-adamb", "Terry's IM to Adam"), ("ok-jennyl", "Jenny's 200 OK (a response)")):
        outcome = run_script(script, name)
        problem = critical_problem(outcome, what)
        if problem:
            return problem
        if outcome.actions or outcome.run.log:
            return Problem(f"the script did something with {what}: {describe_run(outcome)}.",
                           "calls only: test sipRequest.Method == \"INVITE\" inside if (sipRequest)")
    return Passed("No warning left, and no critical error on a REGISTER, an IM or a response: the checker "
                  "found four of the mistakes, the run found the fifth (a null passed on).")


# --- the registry rows and the solutions ---------------------------------------------------------

EXERCISE_ROWS = (
    ("8.1", _NB08, "Read a trace", "python dict", check_read_trace),
    ("8.2", _NB08, "Make the published DefaultRouting sample route", "manifest", check_default_routing),
    ("8.3", _NB08, "Silence the checker", "MSPL script", check_quiet_checker),
)

SOLUTION_ROWS = (
    ("8.1", "python", """
answer_8_1 = {
    "routed_by": "DefaultRouting",
    "status": 486,
    "event_log": "CallWatch",
    "filtered_out": ["ClientVersionFilter", "UserPinService"],
}
""", "DefaultRouting proxied the INVITE to Ben's endpoint (every later application: skipped (routed)); Ben's "
     "client answered 486 Busy Here and that is what Terry got. CallWatch logged Debugr on the way down and "
     "Event on the way back. ClientVersionFilter (REGISTER only) and UserPinService (SERVICE only) never saw it."),
    ("8.2", "python", """
from mspl_lite.course.debugging_exercises import SDK_DEFAULT_ROUTING

answer_8_2 = (SDK_DEFAULT_ROUTING
    .replace('Log( "Debugr", 1, "EPID - ", requestEPID );',
             'if (requestEPID != null) { Log( "Debugr", 1, "EPID - ", requestEPID ); }')
    .replace('if (requestEPID != "") {', 'if (requestEPID != null) {')
    .replace('if (requestEPID == "") {', 'if (requestEPID == null) {'))
""", "GetParameterValue returns null when the parameter is absent (dn439161). Log cannot take null (a critical "
     "error, Dn439066), and in mspl-lite null equals only null, so the two tests against \"\" must test null. "
     "Whether the real server compares null with \"\" the same way is not in our sources: this is what "
     "mspl-lite's documented null semantics give."),
    ("8.3", "mspl", """
if (sipRequest) {
    if (sipRequest.Method == "INVITE") {
        callee = GetUserAtHost(sipRequest.RequestUri);
        if (callee != null) {
            Log("Debugr", false, "call to ", callee);
            if (EqualString(callee, "kima@contoso.com", true)) {
                Respond(480, "Kim is away");
                return;
            }
        }
    }
}
""", "if (sipRequest) guards Respond; the Method test keeps REGISTERs and IMs out; callee is assigned before it "
     "is read and tested for null (a REGISTER's sip:contoso.com has no user); the unreachable Log is gone and "
     "\"Debug\" is now \"Debugr\"."),
)
