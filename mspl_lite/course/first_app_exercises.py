"""Exercises of notebook 03 (your first MSPL application): scripts and a manifest.

3.1 Adam is on leave: answer INVITEs to Adam with 480, let everything else through.
3.2 The manifest for 3.1: INVITE requests only, no responses, proxyByDefault true, script-only.
3.3 Log a warning in the event log for IMs that mention a password.

Each script runs on course messages as if its manifest let every message through (methodNames
ALL, reasonCodes ALL): the script itself must tell requests from responses and methods apart.
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..language import Script, compile_manifest
from ..manifest import parse_manifest
from .feedback import Passed, Problem, exercise_check
from .harness import (STARTER_MARK, Outcome, critical_problem, describe_run, error_lines, load_problem, manifest_answer,
                      run_script, script_check, warning_lines)

__all__ = ["check_adam_on_leave", "check_adam_manifest", "check_password_log"]


# --- 3.1 -------------------------------------------------------------------------------------

_REGISTER_NULL = ("a REGISTER's Request-URI is sip:contoso.com: GetUserAtHost returns null for it, and null "
                  "passed to a function stops the script. Test sipRequest.Method == \"INVITE\" first")


def _adam_problems(script, manifest=None) -> Problem | None:
    """The behaviour 3.1 asks for, checked on six messages (those the manifest's filters let in)."""

    def run(name: str) -> Outcome | None:
        outcome = run_script(script, name)
        if manifest is not None and not _filter_accepts(manifest, outcome.message):
            return None
        return outcome

    invite = run_script(script, "invite-adamb")
    problem = critical_problem(invite, "Terry's INVITE to Adam")
    if problem:
        return problem
    if any(d.kind in ("proxy", "retarget") and d.uri for d in invite.run.dispositions):
        return Problem("your script routed Terry's call to Adam somewhere: " + describe_run(invite) + ".",
                       "don't route it: answer it with Respond(480, \"Adam is on leave\")")
    if not invite.responds:
        return Problem("Terry's INVITE to Adam was not answered (" + describe_run(invite) + ").",
                       "compare GetUserAtHost(sipRequest.RequestUri) with \"adamb@contoso.com\" "
                       "(EqualString(..., true) ignores case) and call Respond(480, \"Adam is on leave\")")
    status = invite.responds[0].status
    if status != 480:
        return Problem(f"your script answered Adam's call with {status}.",
                       "480 Temporarily Unavailable is the code for 'this user cannot take it now'; "
                       "486 means busy, 404 unknown user, 403 refused")
    if not (invite.responds[0].reason or "").strip():
        return Problem("the 480 has no reason phrase.", "give one: Respond(480, \"Adam is on leave\")")

    register = run("register-adamb")
    problem = register and critical_problem(register, "Adam's REGISTER",
                                            _REGISTER_NULL if "null passed" in (register.critical or "") else None)
    if problem:
        return problem
    if register and register.responds:
        return Problem("your script answered Adam's REGISTER too -- his own client could not sign in.",
                       "test sipRequest.Method == \"INVITE\" first, and read the callee from the Request-URI "
                       "(a REGISTER's To also names Adam)")
    message = run("message-adamb")
    problem = message and critical_problem(message, "Terry's IM to Adam")
    if problem:
        return problem
    if message and message.responds:
        return Problem("your script answered Terry's IM to Adam too: only calls should get the 480.",
                       "test sipRequest.Method == \"INVITE\" (or StandardMethod.Invite) first")
    jenny = run_script(script, "invite-jennyl")
    problem = critical_problem(jenny, "Terry's INVITE to Jenny")
    if problem:
        return problem
    if jenny.actions:
        return Problem("your script also acted on Terry's call to Jenny: " + describe_run(jenny) + ".",
                       "compare the Request-URI's user@host with adamb@contoso.com before answering")
    for name, what in (("busy-adamb", "Adam's 486 Busy Here (a response)"), ("ok-jennyl", "Jenny's 200 OK")):
        response = run(name)
        if response is None:
            continue
        problem = critical_problem(response, what, "wrap the script in if (sipRequest) { ... }: Respond is for "
                                            "requests, and a script sees every response its filter lets in")
        if problem:
            return problem
        if response.actions:
            return Problem(f"your script acted on {what}: {describe_run(response)}.",
                           "wrap the script in if (sipRequest) { ... }")
    return None


def _filter_accepts(manifest, message) -> bool:
    """Whether the manifest's requestFilter / responseFilter lets ``message`` in (methods, codes)."""
    if hasattr(message, "method"):
        return manifest.request_filter.accepts_method(message.method)
    return manifest.response_filter.accepts(message.status_code)


@script_check("3.1")
def check_adam_on_leave(script: Script) -> Problem | Passed:
    """3.1: Respond(480, ...) to INVITEs for adamb@contoso.com; no action for anything else."""
    problem = _adam_problems(script)
    if problem:
        return problem
    notes = warning_lines(script)
    return Passed("Adam's calls get 480; his REGISTER, his IMs, other calls and every response pass "
                  "through untouched (no action + proxyByDefault true)."
                  + (" The checker still warns, see below." if notes else ""), notes)


# --- 3.2 -------------------------------------------------------------------------------------

@exercise_check("3.2")
def check_adam_manifest(text: Any) -> Problem | Passed:
    """3.2: the manifest of 3.1, with the filters that keep the script off every other message."""
    if not isinstance(text, str) or STARTER_MARK in text:
        return Problem("the manifest is still the starter.",
                       "fill in the elements the comments ask for")
    try:
        manifest = parse_manifest(manifest_answer(text), filename="exercise-3.2.am")
    except InputError as err:
        return load_problem(err)
    rf = manifest.request_filter
    if rf.all_methods:
        return Problem("the application sees every request (methodNames is missing or ALL).",
                       'add <r:requestFilter methodNames="INVITE"/>: the server then never runs '
                       "the script for REGISTER, SUBSCRIBE, MESSAGE... (cheaper and safer)")
    if rf.method_names != frozenset({"INVITE"}):
        return Problem(f"methodNames is {rf.method_names_text}.",
                       'the script acts on calls only: methodNames="INVITE"')
    if manifest.response_filter.all_codes:
        return Problem("the application also sees every response (no responseFilter means "
                       "reasonCodes ALL).", 'add <r:responseFilter reasonCodes="NONE"/>')
    if manifest.response_filter.reason_codes_text != "NONE":
        return Problem(f"reasonCodes is {manifest.response_filter.reason_codes_text}: the script "
                       "would still run for those responses.", 'use reasonCodes="NONE"')
    if not manifest.proxy_by_default:
        return Problem("proxyByDefault is false: every INVITE the script does not answer (calls "
                       "to anyone but Adam) would be dropped, and no later application would "
                       "see it.", 'use <r:proxyByDefault action="true"/> or leave the element '
                                  "out (true is the default)")
    if not manifest.script_only:
        return Problem("the manifest has no <r:scriptOnly/>: the server would wait for a managed "
                       "process (ServerAgent) to load it.", "add <r:scriptOnly/> before splScript")
    try:
        script = compile_manifest(manifest)
    except InputError as err:
        return Problem("the script inside the manifest does not compile.",
                       "fix the first error shown below (the line numbers are the .am file's)",
                       error_lines(err))
    problem = _adam_problems(script, manifest)
    if problem:
        return Problem("the manifest is right, but its script is not yet: " + problem.message,
                       problem.hint, problem.details)
    notes = tuple(d.render() for d in (*manifest.warnings, *script.warnings))
    return Passed("The server will hand this application INVITE requests only, and no responses; "
                  "what it does not answer goes on down the chain.", notes)


# --- 3.3 -------------------------------------------------------------------------------------

@script_check("3.3")
def check_password_log(script: Script) -> Problem | Passed:
    """3.3: Log("Event", false, ...) naming the sender for IMs that contain "password" (any case)."""
    cases = (("im-password", "Terry's IM with 'password'", True),
             ("im-password-caps", "Terry's IM with 'PASSWORD'", True),
             ("im-lunch", "Terry's IM about lunch", False),
             ("ok-jennyl", "Jenny's 200 OK (a response)", False))
    for name, what, should_log in cases:
        outcome = run_script(script, name)
        problem = critical_problem(outcome, what)
        if problem:
            return problem
        if outcome.actions:
            return Problem(f"on {what} the script took a routing action: {describe_run(outcome)}.",
                           "no routing action at all: with proxyByDefault true the IM goes on "
                           "by itself")
        log = outcome.run.log
        if not should_log:
            if log:
                hint = ("test the body first: ContainsString(sipMessage.Content, \"password\", true)"
                        if name == "im-lunch" else "wrap the script in if (sipRequest) { ... }")
                return Problem(f"the script logged {what}: {describe_run(outcome)}.", hint)
            continue
        if not log:
            hint = ("the word is in capitals here: ContainsString's third argument true ignores case"
                    if name == "im-password-caps"
                    else "test ContainsString(sipMessage.Content, \"password\", true) and call Log(\"Event\", "
                         "false, ...) when it is true")
            return Problem(f"nothing was logged for {what}.", hint)
        if len(log) > 1:
            return Problem(f"{len(log)} log entries for {what}.", "log once per message")
        entry = log[0]
        if entry.level != "Event":
            where = ("the debug log (ApiLogger.exe)" if entry.level == "Debugr" else "an error in the event log")
            return Problem(f'Log("{entry.name}", ...) writes to {where}.',
                           'a warning in the event log is Log("Event", ...)')
        if entry.detail:
            return Problem("detail is true: the server would log the whole message, every header "
                           "(the body too, by the 2013 debugging page; decision D15).",
                           "pass false: the server adds a one-line summary (app, Method, "
                           "Request-Uri, From, To) by itself")
        if "terrya@contoso.com" not in entry.text:
            return Problem(f"the log entry does not say who sent the IM (it reads {entry.text!r}).",
                           "add the sender as a string argument: sipMessage.From, or "
                           "GetUri(sipMessage.From)")
    return Passed("One warning per IM that mentions a password, naming the sender; other IMs and "
                  "responses pass untouched.", warning_lines(script))
