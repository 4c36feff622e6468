"""Exercises of notebook 04 (the language): null, foreach, switch, functions and flat files.

4.1 X-Caller-Host: the host of the caller's URI, and nothing when there is none (null).
4.2 Log "early media" once when a Supported value says ms-early-media (foreach, break, ignore case).
4.3 Name the kind of request with a switch.
4.4 Send callers to a delegate from a flat file, through a function DelegateOf.
"""
from __future__ import annotations

from ..language import Script
from ..language import ast as mspl_ast
from ..manifest import parse_manifest
from .feedback import Passed, Problem
from .harness import (Outcome, critical_problem, describe_run, functions_of, run_script, script_check, uses_statement,
                      warning_lines)

__all__ = ["check_caller_host", "check_early_media", "check_request_kind", "check_delegates",
           "DELEGATES_MANIFEST", "DELEGATES_FILE", "delegates_manifest"]


# --- 4.1 -------------------------------------------------------------------------------------

def _caller_host(outcome: Outcome) -> list[str]:
    return [h.value for h in outcome.message.headers if h.name.lower() == "x-caller-host"]


@script_check("4.1")
def check_caller_host(script: Script) -> Problem | Passed:
    """4.1: AddHeader("X-Caller-Host", host of the From URI) on requests; nothing when the host is null."""
    jenny = run_script(script, "invite-jennyl")
    problem = critical_problem(jenny, "Terry's INVITE")
    if problem:
        return problem
    values = _caller_host(jenny)
    if values != ["contoso.com"]:
        if not values:
            hint = 'AddHeader("X-Caller-Host", GetHostName(sipMessage.From))'
        elif any(v.startswith(("sip:", "<", '"')) for v in values):
            hint = "GetHostName gives the host alone (contoso.com); GetUri would give the whole URI"
        else:
            hint = "one header, with the host of the From URI"
        return Problem(f"Terry's INVITE got X-Caller-Host {values or 'nothing'} "
                       f"({describe_run(jenny)}).", hint)
    phone = run_script(script, "invite-from-phone")
    error = phone.run.critical_errors[0] if phone.run.critical_errors else None
    if error is not None and error.message.startswith("null passed"):
        return Problem("the call from the gateway (From: <tel:+14255550123>) stopped the script: "
                       "GetHostName returned null -- a tel: URI has no host -- and the script "
                       "passed that null on.",
                       "host = GetHostName(sipMessage.From); if (host != null) { AddHeader(...); }",
                       (phone.critical,))
    problem = critical_problem(phone, "the call from the gateway")
    if problem:
        return problem
    if _caller_host(phone):
        return Problem(f"the call from a tel: URI got X-Caller-Host {_caller_host(phone)}.",
                       "a tel: URI has no host: add nothing then")
    ok = run_script(script, "ok-jennyl")
    problem = critical_problem(ok, "Jenny's 200 OK")
    if problem:
        return problem
    if _caller_host(ok):
        return Problem("the 200 OK (a response) got the header too.",
                       "requests only: wrap the script in if (sipRequest) { ... }")
    return Passed("Null is MSPL's 'not found': you tested for it before using the value, so the call "
                  "from a tel: URI passes without a critical error.", warning_lines(script))


# --- 4.2 -------------------------------------------------------------------------------------

@script_check("4.2")
def check_early_media(script: Script) -> Problem | Passed:
    """4.2: one Log line "early media" per INVITE whose Supported values include ms-early-media."""
    if not uses_statement(script, mspl_ast.Foreach):
        return Problem("the script has no foreach.",
                       "foreach (value in GetHeaderValues(\"Supported\")) { ... }")
    cases = (("invite-jennyl", "Terry's INVITE (four Supported headers)", 1),
             ("invite-nuriag-caps", "the INVITE with 'Supported: timer, MS-EARLY-MEDIA, ms-sender'", 1),
             ("invite-terrya-twice", "the Lync 2010 INVITE that says ms-early-media twice", 1),
             ("invite-adamb", "the INVITE without a Supported header", 0),
             ("ok-jennyl", "Jenny's 200 OK", 0))
    for name, what, expected in cases:
        outcome = run_script(script, name)
        problem = critical_problem(outcome, what)
        if problem:
            return problem
        lines = [e.text for e in outcome.run.log]
        if len(lines) == expected and all(t == "early media" for t in lines):
            continue
        if len(lines) > expected and expected == 1:
            hint = "leave the loop once found: break; right after the Log"
        elif expected and not lines:
            hint = ("compare each value with EqualString(value, \"ms-early-media\", true): == is case-sensitive "
                    "in mspl-lite (decision D14), "
                    "and GetHeaderValues splits 'a, b' lists into separate values"
                    if name == "invite-nuriag-caps" else
                    "loop over GetHeaderValues(\"Supported\") and Log when a value is ms-early-media")
        elif lines and any(t != "early media" for t in lines):
            hint = 'log exactly the text "early media": Log("Debugr", false, "early media")'
        else:
            hint = "log only when a value is ms-early-media"
        return Problem(f"{what}: expected {expected} log line(s), got {lines}.", hint)
    return Passed("foreach walks every value (GetHeaderValues splits comma lists), EqualString(..., true) "
                  "ignores case, and break stops at the first match.", warning_lines(script))


# --- 4.3 -------------------------------------------------------------------------------------

@script_check("4.3")
def check_request_kind(script: Script) -> Problem | Passed:
    """4.3: a switch on the method logs call / im / presence / other; nothing for responses."""
    if not uses_statement(script, mspl_ast.Switch):
        return Problem("the script has no switch.",
                       "switch (sipRequest.Method) { case \"INVITE\": ...; break; ... default: ...; "
                       "break; }")
    cases = (("invite-jennyl", "the INVITE", ["call"]), ("message-adamb", "the MESSAGE", ["im"]),
             ("subscribe-jennyl", "the SUBSCRIBE", ["presence"]), ("register-adamb", "the REGISTER", ["other"]),
             ("options-pool", "the OPTIONS", ["other"]), ("ok-jennyl", "Jenny's 200 OK (a response)", []))
    for name, what, expected in cases:
        outcome = run_script(script, name)
        problem = critical_problem(outcome, what)
        if problem:
            return problem
        lines = [e.text for e in outcome.run.log]
        if lines == expected:
            continue
        if name == "ok-jennyl":
            hint = ("on a response sipRequest.Method reads false, so the default case ran: put the switch inside "
                    "if (sipRequest) { ... }")
        elif expected == ["other"] and not lines:
            hint = 'add a default: Log("Debugr", false, "other"); break;'
        else:
            hint = f'the case for {what.split()[-1]} should log "{expected[0]}"'
        return Problem(f"{what}: expected the log {expected}, got {lines}.", hint)
    return Passed("Every case ends with break (MSPL has no fall-through), default catches the other "
                  "methods, and responses are left alone.", warning_lines(script))


# --- 4.4 -------------------------------------------------------------------------------------

#: The delegates flat file: user, delegate (no header line: the manifest names the columns).
DELEGATES_FILE = "jennyl@contoso.com,nuriag@contoso.com\nadamb@contoso.com,terrya@contoso.com\n"

#: The manifest of 4.4; the learner writes the script that goes in splScript.
DELEGATES_MANIFEST = """\
<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/Delegates"
                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:allowRegistrationBeforeUserServices/>
  <r:requestFilter methodNames="INVITE,MESSAGE" strictRoute="false"/>
  <r:responseFilter reasonCodes="NONE"/>
  <r:file name="delegates" path="delegates.txt" delimitedBy="comma"
          keyColumnName="user" ignoreCase="true" static="true">
    <r:column name="user"/>
    <r:column name="delegate"/>
  </r:file>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
    // the script of exercise 4.4
  ]]></r:splScript>
</r:applicationManifest>
"""


def delegates_manifest():
    """The 4.4 manifest with its flat file read from DELEGATES_FILE."""
    return parse_manifest(DELEGATES_MANIFEST, filename="delegates.am",
                          flat_file_texts={"delegates": DELEGATES_FILE})


def _contact(outcome: Outcome) -> str | None:
    for d in outcome.responds:
        for name, value in d.headers:
            if name.lower() == "contact":
                return value
    return None


@script_check("4.4", manifest=delegates_manifest)
def check_delegates(script: Script) -> Problem | Passed:
    """4.4: INVITEs to a user with a delegate get 302 with Contact <sip:delegate>; via function DelegateOf."""
    if "DelegateOf" not in functions_of(script):
        return Problem("the script defines no function DelegateOf.",
                       "function DelegateOf(aor) { return delegates[aor].delegate; } before the "
                       "body (functions come first in MSPL)")
    cases = (("invite-jennyl", "Terry's call to Jenny", "sip:nuriag@contoso.com"),
             ("invite-jennyl-mixed-case", "a call to sip:JennyL@Contoso.com", "sip:nuriag@contoso.com"),
             ("invite-terrya", "Jenny's call to Terry (no delegate)", None),
             ("message-adamb", "Terry's IM to Adam (an IM, not a call)", None),
             ("busy-adamb", "Adam's 486 (a response)", None))
    for name, what, delegate in cases:
        outcome = run_script(script, name)
        problem = critical_problem(outcome, what)
        if problem:
            if name == "invite-terrya" and "null" in (outcome.critical or ""):
                problem = Problem(f"on {what} the script stopped: terrya@contoso.com has no row, so "
                                  "delegates[...].delegate is null and the script passed it on.",
                                  "return \"\" from DelegateOf when the lookup is null (or test != null) and "
                                  "answer only when there is a delegate", problem.details)
            return problem
        if delegate is None:
            if outcome.actions:
                hint = ("only calls: test sipRequest.Method == \"INVITE\"" if name == "message-adamb"
                        else "wrap the script in if (sipRequest) { ... }" if name == "busy-adamb"
                        else "answer only when DelegateOf found a delegate")
                return Problem(f"the script acted on {what}: {describe_run(outcome)}.", hint)
            continue
        if not outcome.responds:
            hint = ("look the user up by key: delegates[GetUserAtHost(sipRequest.RequestUri)].delegate -- the "
                    "file has keyColumnName=\"user\" and ignoreCase=\"true\", so case does not matter"
                    if name == "invite-jennyl-mixed-case" else
                    "Respond(302, \"Moved Temporarily\", Concatenate(\"Contact=<sip:\", delegate, \">\"))")
            return Problem(f"{what} was not answered ({describe_run(outcome)}).", hint)
        answer = outcome.responds[0]
        if answer.status != 302:
            return Problem(f"{what} got {answer.status}.",
                           "302 Moved Temporarily: the client calls the Contact instead")
        contact = _contact(outcome)
        if contact is None or delegate not in contact:
            return Problem(f"{what}: the 302 carries Contact {contact!r}.",
                           f"give the header as a \"Name=value\" string: \"Contact=<{delegate}>\"")
    return Passed("A keyed flat-file lookup inside a function, null handled, and a 302 the client "
                  "follows (notebook 07 shows what the client does with it).", warning_lines(script))
