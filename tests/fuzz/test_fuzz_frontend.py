"""Fuzz the Front End: generated chains (shipped applications, generated MSPL applications and Python
stand-ins, some of whose handlers raise, at random priorities) and mutated messages.

Properties: ``register`` raises only its documented errors (RegistrationRefused, ManifestError,
ScriptError, UsageError); ``send`` returns a Trace, or raises SipParseError for text that is not a
SIP message (UsageError for what is not a message at all), and nothing else: a user's handler that
raises and a script's fault are in the trace (docs/ARCHITECTURE.md, error contract); every run is
bounded in time and memory; the trace's text renders.
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mspl_lite.errors import InputError, ManifestError, RegistrationRefused, ScriptError, SipParseError, UsageError
from mspl_lite.frontend import FrontEnd, PythonApplication
from mspl_lite.frontend.trace import Trace
from mspl_lite.manifest import load_manifest
from mspl_lite.view.widgets.common import build_manifest

from . import _strategies as S
from ._contract import assert_input_error, assert_no_bug_words, examples, guard
from .test_fuzz_language import programs

SECONDS = 5.0
MEGABYTES = 128
PRIORITIES = st.one_of(st.integers(0, 20), st.sampled_from((None, -1, 40, 10 ** 6, 10 ** 5000, "3", "x", 1.5,
                                                            True, float("nan"))))
TARGETS = st.sampled_from(("sip:nuriag@contoso.com", "sip:jennyl@contoso.com", "sip:bob@fabrikam.com",
                           "sip:+12065550123@contoso.com;user=phone", "", "not a uri", "sip:\ud800@x",
                           "sip:a@b;p=abc" + ";p=abc" * 30 + "\x01", "<sip:a@b>"))


class HandlerBroke(Exception):
    """What a deliberately faulty handler raises."""


@st.composite
def python_handler(draw):
    """A PythonApplication handler: a disposition, a log line, or a fault (issue 14: never out of send)."""
    kind = draw(st.sampled_from(("proxy", "retarget", "respond", "log", "dispatch", "fork", "raise", "key",
                                 "nothing", "mutate")))
    target = draw(TARGETS)
    status = draw(st.sampled_from((200, 302, 404, 486, 0, 99, 700, "200", None)))

    def handler(message, api):
        if kind == "proxy":
            api.proxy_request(target)
        elif kind == "retarget":
            api.retarget_request(target)
        elif kind == "respond":
            api.respond(status, "Fuzz", "X-Fuzz=1")
        elif kind == "log":
            api.log(draw_level, target)
        elif kind == "dispatch":
            api.dispatch("OnFuzz", target)
        elif kind == "fork":
            api.fork(target, target)
        elif kind == "raise":
            raise HandlerBroke("the learner's handler failed")
        elif kind == "key":
            {}[target]
        elif kind == "mutate":
            message.add_header("X-Fuzz", target.replace("\r", "").replace("\n", ""))

    draw_level = draw(st.sampled_from(("Event", "Error", "Debugr", "event", "\ud800")))
    return kind, handler


def dispatch_handler(kind):
    def handler(e):
        if kind == "raise":
            raise HandlerBroke("the managed handler failed")
        if kind == "none":
            e.ServerTransaction.SendResponse(None)
        elif kind == "ok":
            e.ServerTransaction.SendResponse(e.Request.CreateResponse(200))
        elif kind == "bad":
            e.ServerTransaction.SendResponse(e.Request.CreateResponse(9999))
    return handler


@st.composite
def chain_entry(draw):
    kind = draw(st.sampled_from(("shipped", "shipped", "python", "python", "generated")))
    if kind == "shipped":
        return kind, draw(st.sampled_from(S.shipped_apps())), draw(PRIORITIES)
    if kind == "python":
        name = draw(st.sampled_from(("PyOne", "PyTwo", "PyThree", "UserServices", "")))
        behaviour, handler = draw(python_handler())
        app = PythonApplication(name=name or "PyEmpty", handler=handler,
                                allow_registration_before_user_services=draw(st.booleans()),
                                proxy_by_default=draw(st.booleans()))
        return f"python:{behaviour}", app, draw(PRIORITIES)
    return kind, draw(programs()), draw(PRIORITIES)


def register(fe: FrontEnd, entry) -> None:
    kind, app, priority = entry
    try:
        with guard("register", seconds=SECONDS, megabytes=MEGABYTES):
            if kind == "generated":
                app = build_manifest(app, filename="fuzz.mspl", app_uri="http://www.contoso.com/Fuzz",
                                     method_names="ALL", proxy_by_default=True, reason_codes="ALL",
                                     allow_before_user_services=True)
            elif kind == "shipped":
                app = load_manifest(app)
            fe.register(app, priority)
    except (ManifestError, ScriptError) as err:
        assert_input_error(err)
    except (RegistrationRefused, UsageError) as err:
        assert str(err).strip(), f"{type(err).__name__} without a message"
        assert_no_bug_words(str(err), "register")


def messages():
    return st.one_of(S.mutated(S.sample_messages()), S.sip_message(), st.sampled_from(S.sample_messages()),
                     S.mutated(S.torture_messages(), max_edits=2))


def send(fe: FrontEnd, message, handlers) -> Trace | None:
    try:
        with guard("FrontEnd.send", seconds=SECONDS, megabytes=MEGABYTES):
            trace = fe.send(message, dispatch_handlers=handlers, filename="fuzz.sip")
            text = "\n".join(str(x) for x in (*trace.hops, *trace.log, *trace.notes, trace.outcome))
    except SipParseError as err:
        assert_input_error(err, kind=SipParseError, text=message, filename="fuzz.sip")
        return None
    assert isinstance(trace, Trace)
    assert_no_bug_words(text, "the trace")
    return trace


@given(st.lists(chain_entry(), max_size=4), st.lists(messages(), min_size=1, max_size=3),
       st.sampled_from(("raise", "none", "ok", "bad")), st.booleans())
def test_send_through_generated_chains_raises_only_documented_errors(entries, messages_, dispatch_kind, as_text):
    fe = FrontEnd()
    for entry in entries:
        register(fe, entry)
    handlers = {"OnFuzz": dispatch_handler(dispatch_kind), "OnRequest": dispatch_handler(dispatch_kind),
                "HelpdeskRouter": dispatch_handler(dispatch_kind)}
    for data in messages_:
        send(fe, data.decode("utf-8", "surrogateescape") if as_text else data, handlers)


@given(st.lists(chain_entry(), min_size=1, max_size=3), st.integers(11, 14))
@__import__("hypothesis").settings(max_examples=examples(0.3))
def test_repeated_faults_disable_the_application_and_never_escape(entries, times):
    # Ten critical errors disable an application (CRITICAL_ERROR_LIMIT): the faulting ones must go
    # into the trace every time, and then stop running.
    fe = FrontEnd()
    for entry in entries:
        register(fe, entry)
    message = S.sample_messages()[0]
    for _ in range(times):
        send(fe, message, {})


@given(st.one_of(st.none(), st.integers(), st.binary(max_size=20), st.text(max_size=20), st.just(object())))
def test_send_of_something_that_is_not_a_message(value):
    fe = FrontEnd()
    try:
        with guard("FrontEnd.send", seconds=SECONDS, megabytes=MEGABYTES):
            fe.send(value)
    except InputError as err:
        assert_input_error(err, text=value if isinstance(value, (str, bytes)) else None, filename="<message>")
    except UsageError as err:
        assert str(err).strip()
