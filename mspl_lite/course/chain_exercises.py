"""Exercises about the server application chain (notebooks 00 and 02).

0.1 Which built-in application answers a REGISTER? The check asks the simulated Front End, so the
    expected answer is what the simulator does, not a string written here.
2.1 A priority at which WatchIm sees IMs and their 200 OK (judged by registering it there and sending).
2.2 The New-CsServerApplication command that registers WatchIm there.
"""
from __future__ import annotations

from typing import Any

from .feedback import Passed, Problem, exercise_check
from .messages import course_message

__all__ = ["check_register_answerer", "check_priority", "check_cmdlet", "WATCH_IM", "watch_im_manifest"]


@exercise_check("0.1")
def check_register_answerer(answer: Any) -> Problem | Passed:
    """0.1: the name of the built-in application that answers Adam's REGISTER."""
    from ..frontend import FrontEnd

    if not isinstance(answer, str) or not answer.strip() or answer.strip() == "...":
        return Problem("write the application's name as a string, e.g. \"IIMFilter\".",
                       "the names are in the diagram above")
    fe = FrontEnd()
    expected = fe.send(course_message("register-adamb")).outcome.decided_by
    names = [row["Name"] for row in fe.apps]
    given = answer.strip()
    if given.lower() == expected.lower():
        return Passed(f"{expected} is the registrar: it answers the REGISTER itself with 200 OK, so "
                      "no application below it ever sees a REGISTER. An MSPL application that must see "
                      "REGISTERs sits above it (notebook 02).")
    known = {n.lower(): n for n in names}
    if given.lower() not in known:
        return Problem(f"{given!r} is not an application of this chain.",
                       "pick one of the names in the diagram (Get-CsServerApplication's Name)")
    if given.lower() == "clientversionfilter":
        hint = ("ClientVersionFilter does look at every REGISTER (it refuses clients that are too old), but it "
                "passes an up-to-date client on: look further down")
    elif given.lower() in ("defaultrouting", "interclusterrouting"):
        hint = "routing applications send requests to a user's endpoints; a REGISTER is for the registrar itself"
    else:
        hint = "which built-in application is the registrar (registrations, presence, conferencing)?"
    return Problem(f"{known[given.lower()]} does not answer it.", hint)


# --- 2.1 / 2.2: a place in the chain, and the cmdlet that puts it there ----------------------

#: The application of exercises 2.1 and 2.2: it watches IMs and their 2xx answers.
WATCH_IM = """\
<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/WatchIm"
                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:requestFilter methodNames="MESSAGE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="2XX"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipRequest) { Log("Debugr", false, "IM for ", sipRequest.RequestUri); }
if (sipResponse) { Log("Debugr", false, "IM answered ", sipResponse.StatusCode); }
]]></r:splScript>
</r:applicationManifest>
"""


def watch_im_manifest():
    """The WatchIm manifest, parsed."""
    from ..manifest import parse_manifest

    return parse_manifest(WATCH_IM, filename="WatchIm.am")


def _priority_problem(priority: Any) -> Problem | None:
    """Why WatchIm at ``priority`` would not see Terry's IM to Jenny and its 200 OK (None: it would)."""
    from ..errors import RegistrationRefused
    from ..frontend import FrontEnd

    if isinstance(priority, bool) or not isinstance(priority, int):
        return Problem(f"the priority is a whole number, not {priority!r}.", "e.g. answer_2_1 = 5")
    if priority < 0:
        return Problem("priorities start at 0 (the first application).", "pick a number from the listing")
    fe = FrontEnd()
    try:
        fe.register(watch_im_manifest(), priority)
    except RegistrationRefused as err:
        return Problem(f"the server refuses priority {priority}: {err}",
                       "WatchIm's manifest has no allowRegistrationBeforeUserServices, so it must go below "
                       "UserServices")
    trace = fe.send(course_message("im-link-jennyl"))
    hop = trace.hop("WatchIm")
    if not hop.ran:
        return Problem(f"at priority {priority} WatchIm never sees the IM: {hop.sentence}.",
                       "a routing application sends the request out of the server, and nothing below it "
                       "runs (inferred, decision D1): go above DefaultRouting, where the SDK wants every "
                       "application anyway (Dn439078: \"the application priority level must be set higher "
                       "than the DefaultRouting application\")")
    seen = [r for r in trace.responses if r.app == "WatchIm" and r.ran]
    if not seen:
        return Problem(f"at priority {priority} WatchIm sees the IM but not its 200 OK.",
                       "the 200 OK retraces the request's path; check the responseFilter and the place")
    return None


@exercise_check("2.1")
def check_priority(answer: Any) -> Problem | Passed:
    """2.1: a -Priority at which WatchIm sees Terry's IM to Jenny and its 200 OK."""
    return _priority_problem(answer) or Passed(
        f"At priority {answer} WatchIm sits between UserServices and DefaultRouting: it sees the IM on its way "
        "down and the 200 OK on its way back up.")


def _cmdlet_parameters(text: str) -> tuple[str, dict[str, str]]:
    """The cmdlet name and its -Name value pairs (values unquoted); a bare switch reads as "$true"."""
    import re
    import shlex

    try:
        words = shlex.split(text.replace("`\n", " ").strip(), posix=True)
    except ValueError:
        words = text.split()
    cmdlet = words[0] if words else ""
    params: dict[str, str] = {}
    i = 1
    while i < len(words):
        word = words[i]
        if word.startswith("-"):
            name, _, inline = word[1:].partition(":")
            if inline:
                params[name.lower()] = inline
            elif i + 1 < len(words) and not words[i + 1].startswith("-"):
                params[name.lower()] = words[i + 1]
                i += 1
            else:
                params[name.lower()] = "$true"
        i += 1
    return cmdlet, {k: re.sub(r"^['\"]|['\"]$", "", v) for k, v in params.items()}


@exercise_check("2.2")
def check_cmdlet(answer: Any) -> Problem | Passed:
    """2.2: New-CsServerApplication for WatchIm: Identity, Uri, Priority, ScriptName, Enabled, Critical."""
    if not isinstance(answer, str) or not answer.strip() or "..." in answer:
        return Problem("write the whole command as one string.",
                       "New-CsServerApplication -Identity ... -Uri ... -Priority ... -ScriptName ... "
                       "-Enabled ... -Critical ...")
    cmdlet, p = _cmdlet_parameters(answer)
    if cmdlet.lower() != "new-csserverapplication":
        return Problem(f"the command is {cmdlet!r}.",
                       "a new application is registered with New-CsServerApplication "
                       "(Set-CsServerApplication changes an existing one)")
    identity = p.get("identity", "")
    if identity.lower() != "service:registrar:pool01.contoso.com/watchim":
        return Problem(f"-Identity is {identity!r}.",
                       "a Front End application's identity is service:Registrar:<pool FQDN>/<Name>: "
                       "\"service:Registrar:pool01.contoso.com/WatchIm\"")
    if p.get("uri", "").rstrip("/") != "http://www.contoso.com/WatchIm":
        return Problem(f"-Uri is {p.get('uri')!r}.",
                       "it must be the manifest's appUri exactly: http://www.contoso.com/WatchIm")
    try:
        priority = int(p.get("priority", ""))
    except ValueError:
        return Problem("-Priority is missing or not a number.",
                       "without it the application goes to the bottom of the list, below "
                       "DefaultRouting, where Dn439078 says no application may be and where it would never "
                       "see an IM. Give your answer of 2.1")
    problem = _priority_problem(priority)
    if problem:
        return Problem("-Priority " + str(priority) + ": " + problem.message, problem.hint)
    if not p.get("scriptname", "").lower().endswith(".am"):
        return Problem("-ScriptName is missing.",
                       "a script-only application names its manifest: -ScriptName "
                       "\"C:\\\\Apps\\\\WatchIm.am\" (any path to the .am file)")
    if p.get("enabled", "").lower() != "$true":
        return Problem("-Enabled is missing or false: New-CsServerApplication's default is "
                       "False, so the application would be registered but never run.",
                       "add -Enabled $true")
    if p.get("critical", "").lower() != "$false":
        return Problem("-Critical is missing or true: the default is True, and then the "
                       "Front End does not start unless this application starts.",
                       "a watcher is not critical: add -Critical $false")
    return Passed("That registers WatchIm enabled, not critical, at a place where it sees IMs. "
                  "Get-CsServerApplication lists it; Set-CsServerApplication changes it without a restart.")
