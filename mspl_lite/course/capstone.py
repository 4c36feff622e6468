"""The workshop capstone (notebook 10): after-hours call forwarding with an exception list.

    check_capstone(manifest_text, exceptions_text)   # -> Feedback: every case, the failing ones with a hint

The application, *AfterHours*, as the notebook specifies it:

* calls only (INVITE), and only calls that start a new dialog: a request whose To header has a tag
  is inside a call already and is left alone (the SDK: do not retarget in-dialog requests, Dn439073);
* in office hours nothing changes;
* after hours a call to Jenny Lee goes to her delegate Nuria Gonzalez (RetargetRequest, so the
  chain still routes it), and a call to Adam Barr goes straight to voice mail on the lab's Exchange
  UM server without ringing his desk phone;
* a caller on the exception list (the flat file ``exceptions``, keyed by the caller's user@host,
  case-insensitive) always rings the callee;
* everything else is left alone, and no message may stop the script with a critical error.

The after-hours switch is the flat file ``hours`` (one line: ``open`` or ``closed``). MSPL has no
function that reads a clock, and a script reaches no data but its flat files; a non-static flat
file is re-read when it changes (hh347232). So in a real pool a scheduled task rewrites hours.txt
at the start and the end of the working day; here each test case writes it, which makes every
case deterministic. An empty hours.txt (the task caught mid-write) counts as office hours.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from ..errors import InputError, RegistrationRefused
from ..manifest import parse_manifest
from .feedback import Passed, Problem, exercise_check
from .harness import STARTER_MARK, critical_hint, endpoint_contacts, error_lines, load_problem, manifest_answer
from .variants import variant

__all__ = ["Case", "CASES", "CaseResult", "check_capstone", "application_problem", "run_case", "run_cases",
           "REFERENCE_MANIFEST", "REFERENCE_EXCEPTIONS", "STARTER_MANIFEST", "VOICE_MAIL", "EXERCISE_ROWS",
           "SOLUTION_ROWS"]

APP = "AfterHours"
VOICE_MAIL = "sip:um01.contoso.com:5065;transport=tls"
_NB10 = "10-workshop-capstone"
_BEN = '"Ben Smith" <sip:bens@contoso.com>'
_TERRY_CAPS = '"Terry Adams" <sip:TerryA@CONTOSO.COM>'
_PSTN = "<tel:+14255550123>"
_JENNY_GRUU = "sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu"

#: what hours.txt holds in each state of the switch
HOURS = {"open": "open\n", "closed": "closed\n", "empty": ""}


# ---------------------------------------------------------------------------------------------
# The cases


@dataclass(frozen=True, slots=True)
class Case:
    """One test of the battery: the switch, a message, and what must happen."""

    name: str
    hours: str                       # a key of HOURS
    message: Callable[[], Any]       # a fresh copy of the message
    expect: str                      # "untouched" | "rings" | "delegate" | "voicemail"
    callee: str                      # the user@host whose endpoints ring when untouched
    hint: str                        # what to look at when this case fails
    #: the hint for this learner's manifest and list, or None for ``hint``: a hint must not ask for
    #: what the manifest already has (ignoreCase when it is set)
    diagnose: Callable[[Any, str], str | None] | None = None

    def hint_for(self, manifest, exceptions_text: str) -> str:
        """The hint, after looking at the learner's manifest and exception list."""
        return (self.diagnose(manifest, exceptions_text) if self.diagnose else None) or self.hint


def _call(callee: str, caller: str = _BEN, **kw):
    return lambda: variant("invite-jennyl", callee=callee, caller=caller, **kw)


def _exception_list_hint(manifest, exceptions_text: str) -> str | None:
    """The caller on the list is not let through: is the list or the file element the reason?"""
    listed = {line.split(",", 1)[0].strip().casefold() for line in exceptions_text.splitlines()}
    if "terrya@contoso.com" not in listed:
        return ("your exception list has no line for terrya@contoso.com: add the line "
                "\"terrya@contoso.com,CEO\" (caller, reason)")
    exceptions = manifest.files.get("exceptions")
    if exceptions is not None and exceptions.key_column is None:
        return ('your exceptions file has no keyColumnName, so exceptions[caller] finds nothing: add '
                'keyColumnName="caller" to its <r:file> element')
    return None


def _capitals_hint(manifest, exceptions_text: str) -> str | None:
    """The caller in capitals is not let through: ask for ignoreCase only when it is not set."""
    exceptions = manifest.files.get("exceptions")
    if exceptions is None or not exceptions.ignore_case:
        return None
    if exceptions.key_column != "caller":
        return (f'your exceptions file ignores case, but it is keyed on "{exceptions.key_column}": the lookup '
                'exceptions[caller] needs keyColumnName="caller"')
    return ('your exceptions file already has keyColumnName="caller" and ignoreCase="true", so a lookup '
            "exceptions[caller] ignores case: the capitals get lost elsewhere. Look the caller up in the file "
            "(exceptions[GetUserAtHost(sipMessage.From)].caller != null) rather than comparing strings with == "
            "(case-sensitive, decision D14) or EqualString(..., false)")


def _calls_only_hint(manifest, exceptions_text: str) -> str | None:
    """The IM was forwarded: is it the filter or the script?"""
    methods = manifest.request_filter.method_names
    if "MESSAGE" in methods:
        return (f'your requestFilter lets IMs in (methodNames="{",".join(sorted(methods))}"): only calls are '
                'forwarded, so use methodNames="INVITE" (and test the Method)')
    return None


def _reinvite():
    message = variant("invite-jennyl", callee="sip:jennyl@contoso.com", caller=_BEN, to_tag="9f8e7d6c")
    message.request_uri = _JENNY_GRUU     # a re-INVITE goes to the endpoint (its GRUU), inside the dialog
    return message


CASES: tuple[Case, ...] = (
    Case("office hours: Ben calls Jenny", "open", _call("sip:jennyl@contoso.com"), "untouched", "jennyl@contoso.com",
         "in office hours take no action: read hours[0].state and act only when it is \"closed\""),
    Case("after hours: Ben calls Jenny", "closed", _call("sip:jennyl@contoso.com"), "delegate", "jennyl@contoso.com",
         "after hours, RetargetRequest(\"sip:nuriag@contoso.com\") for calls to jennyl@contoso.com"),
    Case("after hours: Terry (on the exception list) calls Jenny", "closed",
         _call("sip:jennyl@contoso.com", caller='"Terry Adams" <sip:terrya@contoso.com>'), "untouched",
         "jennyl@contoso.com",
         "look the caller up: exceptions[GetUserAtHost(sipMessage.From)].caller != null means 'let it ring'; and "
         "terrya@contoso.com must be a line of your exception list", _exception_list_hint),
    Case("after hours: Ben calls Adam", "closed", _call("sip:adamb@contoso.com"), "voicemail", "adamb@contoso.com",
         f"after hours, ProxyRequest(\"{VOICE_MAIL}\") for calls to adamb@contoso.com: his desk phone must not ring"),
    Case("after hours: Terry (on the exception list) calls Adam", "closed",
         _call("sip:adamb@contoso.com", caller='"Terry Adams" <sip:terrya@contoso.com>'), "untouched",
         "adamb@contoso.com", "test the exception list before you send a call to voice mail", _exception_list_hint),
    Case("after hours: TerryA@CONTOSO.COM (the exception, in capitals) calls Jenny", "closed",
         _call("sip:jennyl@contoso.com", caller=_TERRY_CAPS), "untouched", "jennyl@contoso.com",
         "users type addresses as they like: give the exceptions file ignoreCase=\"true\" (with keyColumnName)",
         _capitals_hint),
    Case("after hours: a caller from the PSTN (From: <tel:+14255550123>) calls Jenny", "closed",
         _call("sip:jennyl@contoso.com", caller=_PSTN), "delegate", "jennyl@contoso.com",
         "a tel: URI has no user@host: GetUserAtHost returns null, and exceptions[null] stops the script; "
         "test the caller for null before the lookup"),
    Case("after hours: Ben calls Nuria", "closed", _call("sip:nuriag@contoso.com"), "untouched", "nuriag@contoso.com",
         "only calls to Jenny and Adam change after hours"),
    Case("after hours: a re-INVITE inside Ben's call with Jenny (To has a tag)", "closed", _reinvite, "untouched",
         "jennyl@contoso.com",
         "a To tag means the request belongs to a call in progress: leave it alone (Dn439073: do not retarget "
         "in-dialog requests). Test GetParameterValue(sipRequest.To, \"tag\") == null first"),
    Case("hours.txt empty (being rewritten): Ben calls Jenny", "empty", _call("sip:jennyl@contoso.com"), "untouched",
         "jennyl@contoso.com",
         "hours[0] of an empty file is null: treat a missing state as office hours, and never pass null on"),
    Case("after hours: Ben's IM to Jenny", "closed", lambda: variant("im-nuriag", callee="sip:jennyl@contoso.com",
                                                                     caller=_BEN),
         "untouched", "jennyl@contoso.com", "only calls are forwarded: methodNames=\"INVITE\" (and test the Method)",
         _calls_only_hint),
)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What one case gave: passed or not, a sentence, the hint for this application, and the trace
    (None if nothing ran)."""

    case: Case
    passed: bool
    what: str
    trace: Any = None
    hint: str = ""               # the case's hint after looking at the learner's manifest (when it failed)

    def line(self) -> str:
        """The case's line of the report: ok or FAIL, its name, what happened, and the hint when it failed."""
        mark = "ok  " if self.passed else "FAIL"
        text = f"{mark} {self.case.name}: {self.what}"
        return text if self.passed else f"{text}\n       hint: {self.hint or self.case.hint}"


# ---------------------------------------------------------------------------------------------
# Loading the learner's application


def _manifest(manifest_text: str, exceptions_text: str, hours: str):
    return parse_manifest(manifest_answer(manifest_text), filename="AfterHours.am",
                          flat_file_texts={"hours": HOURS[hours], "exceptions": exceptions_text})


def application_problem(manifest_text: Any, exceptions_text: Any) -> Problem | None:
    """What stops the application from loading or registering, with a hint (None when it loads)."""
    from ..frontend import FrontEnd

    if not isinstance(manifest_text, str) or not isinstance(exceptions_text, str):
        return Problem("check_capstone takes two strings: the manifest's text and the exception list's text.",
                       "check_capstone(manifest_10, exceptions_10)")
    if STARTER_MARK in manifest_text:
        return Problem("the manifest is still the starter.",
                       "replace the two 'your code here' comments: the manifest's elements (the brief and its "
                       "building blocks say which), then the script")
    try:
        manifest = _manifest(manifest_text, exceptions_text, "closed")
    except InputError as err:
        return load_problem(err, "the manifest (or the exception list)")
    if manifest.name != APP:
        return Problem(f"the application is called {manifest.name}.",
                       'use appUri="http://www.contoso.com/AfterHours": the check looks for AfterHours in the chain')
    for name, hint in (("hours", '<r:file name="hours" path="hours.txt" delimitedBy="comma" static="false"> with '
                                 'one <r:column name="state"/>'),
                       ("exceptions", '<r:file name="exceptions" path="exceptions.txt" delimitedBy="comma" '
                                      'keyColumnName="caller" ignoreCase="true" static="false"> with the columns '
                                      "caller and reason")):
        if name not in manifest.files:
            return Problem(f"the manifest declares no flat file named {name}.", f"add {hint}")
    if "RetargetRequest" in manifest.script and not manifest.allow_registration_before_user_services:
        return Problem("the script calls RetargetRequest, but the manifest does not allow a place above UserServices.",
                       "add <r:allowRegistrationBeforeUserServices/>: an application that retargets must be "
                       "registered above UserServices (Dn439073)")
    try:
        FrontEnd().register(manifest)
    except (InputError, RegistrationRefused) as err:
        return Problem("the application cannot be registered: its script does not compile.",
                       "fix the first error below (line numbers are the manifest's)", error_lines(err))
    return None


# ---------------------------------------------------------------------------------------------
# Running a case


def run_case(manifest_text: str, exceptions_text: str, case: Case) -> CaseResult:
    """Register the application in a fresh Front End with hours.txt as the case says, send the case's message."""
    manifest = _manifest(manifest_text, exceptions_text, case.hours)
    result = _run(manifest, case)
    if result.passed:
        return result
    return replace(result, hint=case.hint_for(manifest, exceptions_text))


def _run(manifest, case: Case) -> CaseResult:
    from ..frontend import FrontEnd

    fe = FrontEnd()
    fe.register(manifest)
    trace = fe.send(case.message())
    hop = trace.hop(APP)
    crit = [c for c in trace.critical_errors if c.app == APP]
    if crit:
        c = crit[0]
        return CaseResult(case, False, f"critical error at line {c.line}: {c.message}", trace)
    rang = {b.target for b in trace.branches}
    callee_rang = bool(endpoint_contacts(fe, case.callee) & rang)
    nuria_rang = bool(endpoint_contacts(fe, "nuriag@contoso.com") & rang)
    voicemail = [b for b in trace.branches if b.kind == "voicemail"]
    acted = hop.ran and hop.effect != "passed"
    did = hop.action if hop.ran else f"not run ({hop.sentence})"
    if case.expect == "untouched":
        if acted:
            return CaseResult(case, False, f"AfterHours acted ({did}); it should leave this call alone", trace)
        return CaseResult(case, True, f"left alone; {trace.outcome.summary()}", trace)
    if case.expect == "delegate":
        if not nuria_rang:
            return CaseResult(case, False, f"Nuria's phone did not ring: AfterHours {did}; {trace.outcome.summary()}",
                              trace)
        if callee_rang:
            return CaseResult(case, False, "Jenny's phone rang too", trace)
        how = "retargeted" if hop.effect == "retargeted" else hop.effect
        return CaseResult(case, True, f"{how} to Nuria; {trace.outcome.summary()}", trace)
    # voicemail
    if not voicemail:
        return CaseResult(case, False, f"no voice mail: AfterHours {did}; {trace.outcome.summary()}", trace)
    if callee_rang:
        return CaseResult(case, False, "it reached voice mail, but only after Adam's desk phone rang out", trace)
    return CaseResult(case, True, f"straight to voice mail; {trace.outcome.summary()}", trace)


def run_cases(manifest_text: str, exceptions_text: str) -> list[CaseResult]:
    """Every case of the battery (the application must load: see check_capstone)."""
    return [run_case(manifest_text, exceptions_text, case) for case in CASES]


@exercise_check("10.1")
def check_capstone(manifest_text: Any, exceptions_text: Any) -> Problem | Passed:
    """Run the battery on the learner's AfterHours; report every case, each failing one with its hint."""
    problem = application_problem(manifest_text, exceptions_text)
    if problem:
        return problem
    results = run_cases(manifest_text, exceptions_text)
    failed = [r for r in results if not r.passed]
    lines = tuple(r.line() for r in results)
    if failed:
        first = failed[0]
        hint = first.hint or first.case.hint
        if first.what.startswith("critical error"):
            crit = [c for c in first.trace.critical_errors if c.app == APP][0]
            if not crit.message.startswith(("null", "EqualString", "GetUserAtHost")):
                hint = critical_hint(crit.message)
        return Problem(f"{len(results) - len(failed)} of {len(results)} cases pass; first failing: "
                       f"{first.case.name}.", hint, lines)
    notes = []
    delegate = [r for r in results if r.case.expect == "delegate"]
    if any(r.trace.hop(APP).effect == "proxied" for r in delegate):
        notes.append("Your application proxies Jenny's calls to Nuria itself: it works here, but RetargetRequest "
                     "lets the rest of the chain route them (notebook 06).")
    return Passed(f"all {len(results)} cases pass." + (" " + notes[0] if notes else ""), lines)


@exercise_check("10.1")
def check_answer(answer: Any) -> Problem | Passed:
    """The registry's form of the check: ``check_exercise("10.1", (manifest_text, exceptions_text))``."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return Problem("give the manifest's text and the exception list's text as a pair.",
                       "check_exercise(\"10.1\", (manifest_10, exceptions_10)), or "
                       "check_capstone(manifest_10, exceptions_10)")
    return check_capstone.__wrapped__(*answer)  # the verdict itself: this check's decorator words it


# ---------------------------------------------------------------------------------------------
# The starter and the reference solution


STARTER_MANIFEST = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/AfterHours"
                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <!-- your code here: the elements of the manifest (filters, the two flat files, ...) -->
  <r:splScript><![CDATA[
  // your code here: the script
  ]]></r:splScript>
</r:applicationManifest>
"""

REFERENCE_MANIFEST = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/AfterHours"
                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <!-- RetargetRequest: the application must sit above UserServices (Dn439073). -->
  <r:allowRegistrationBeforeUserServices/>
  <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="NONE"/>
  <r:proxyByDefault action="true"/>
  <!-- open | closed, rewritten by a scheduled task at the start and the end of the day -->
  <r:file name="hours" path="hours.txt" delimitedBy="comma" static="false">
    <r:column name="state"/>
  </r:file>
  <!-- callers who always get through: user@host, reason -->
  <r:file name="exceptions" path="exceptions.txt" delimitedBy="comma"
          keyColumnName="caller" ignoreCase="true" static="false">
    <r:column name="caller"/>
    <r:column name="reason"/>
  </r:file>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipRequest) {
    if (sipRequest.Method != "INVITE") {
        return;
    }
    // A To tag: the request belongs to a call in progress (Dn439073: leave in-dialog requests alone).
    if (GetParameterValue(sipRequest.To, "tag") != null) {
        return;
    }
    state = hours[0].state;
    if (state == null || !EqualString(state, "closed", true)) {
        return;
    }
    caller = GetUserAtHost(sipMessage.From);
    if (caller != null) {
        if (exceptions[caller].caller != null) {
            Log("Debugr", false, "after hours, but ", caller, " is on the exception list");
            return;
        }
    }
    callee = GetUserAtHost(sipRequest.RequestUri);
    if (callee == null) {
        return;
    }
    if (EqualString(callee, "jennyl@contoso.com", true)) {
        Log("Debugr", false, "after hours: Jenny's call goes to Nuria");
        RetargetRequest("sip:nuriag@contoso.com");
        return;
    }
    if (EqualString(callee, "adamb@contoso.com", true)) {
        Log("Debugr", false, "after hours: Adam's call goes to voice mail");
        ProxyRequest("sip:um01.contoso.com:5065;transport=tls");
        return;
    }
}
]]></r:splScript>
</r:applicationManifest>
"""

REFERENCE_EXCEPTIONS = "terrya@contoso.com,CEO\n"

EXERCISE_ROWS = (
    ("10.1", _NB10, "After-hours forwarding with an exception list", "manifest and flat file", check_answer),
)

SOLUTION_ROWS = (
    ("10.1", "python", f'''
manifest_10 = r"""{REFERENCE_MANIFEST}"""

exceptions_10 = "terrya@contoso.com,CEO\\n"

answer_10_1 = (manifest_10, exceptions_10)
''', "The switch and the list are flat files, the only outside data a script can read; hours.txt is not "
     "static, so the server re-reads it when the scheduled task rewrites it (hh347232). Every value that can be "
     "null (the state of an empty file, the caller of a PSTN call, a row that is not on the list) is tested "
     "before it is used. RetargetRequest lets the chain route Jenny's calls to Nuria; voice mail is a place, "
     "not a user, so ProxyRequest sends Adam's calls straight there. A To tag marks a call in progress."),
)
