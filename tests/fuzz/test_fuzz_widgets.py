"""Fuzz the widgets as a learner drives them, without a browser: generated text in the text boxes,
then the buttons (tests/test_widgets_*.py drive them the same way).

Properties: no exception escapes a click (``press``: ipywidgets' own click() would swallow it) or
a value change; what went wrong is the project's own error (an InputError's diagnostics, a
refusal), never "mspl-lite bug"; the learner's text is kept exactly as typed; every action bounded
in time and memory, diagram rendering included.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("ipywidgets")

from mspl_lite.errors import MsplLiteError  # noqa: E402
from mspl_lite.view.widgets import DEFAULT_SCRIPT, ChainEditor, CompareLab, ScriptLab  # noqa: E402
from mspl_lite.view.widgets.common import sample_messages  # noqa: E402

from . import _strategies as S  # noqa: E402
from ._contract import assert_no_bug_words, examples, guard  # noqa: E402
from .test_fuzz_language import fork_script, programs  # noqa: E402

SECONDS = 10.0
MEGABYTES = 192
SAMPLES = sorted(sample_messages())

LEARNER_TEXT = st.one_of(S.mutated_text((DEFAULT_SCRIPT.encode(),)), S.script_inputs(), programs(),
                         st.text(max_size=40), st.sampled_from(("", "\ud800", "x = 1.5", "if (sipRequest) {")),
                         st.sampled_from((2, 30, 300)).map(fork_script))
MESSAGE_TEXT = st.one_of(st.sampled_from(SAMPLES).map(lambda n: sample_messages()[n]),
                         S.mutated_text(S.sample_messages()), S.sip_message().flatmap(S.as_text))
SETTING_TEXT = st.one_of(st.sampled_from(("MESSAGE", "INVITE,MESSAGE", "ALL", "", "MESAGE", "NONE", "2XX", "ALL,4xx",
                                          "302", "\ud800", "a" * 500)), st.text(max_size=20))


def press(button) -> None:
    """Click ``button`` as the browser does, but let an exception out: ipywidgets' click() logs a
    callback's exception and swallows it (in a notebook the learner sees a traceback)."""
    assert button._click_handlers.callbacks, f"{button.description} does nothing"
    for callback in button._click_handlers.callbacks:
        callback(button)


def assert_widget_error(widget, what: str) -> None:
    err = widget.last_error
    assert err is None or isinstance(err, MsplLiteError), \
        f"{what}: {type(err).__name__}: {err}"[:3000]


@given(LEARNER_TEXT, MESSAGE_TEXT, SETTING_TEXT, SETTING_TEXT, st.integers(0, 40), st.booleans(), st.booleans(),
       st.sampled_from(("transaction", "ladder")))
@__import__("hypothesis").settings(max_examples=examples(0.6))
def test_script_lab_run_keeps_the_text_and_shows_only_project_errors(script, message, methods, reasons, priority,
                                                                    proxy, allow, view):
    lab = ScriptLab(run=False)
    with guard("ScriptLab run", seconds=SECONDS, megabytes=MEGABYTES):
        lab.script.value = script
        lab.message.value = message
        lab.method_names.value = methods
        lab.reason_codes.value = reasons
        lab.priority.value = priority
        lab.proxy_by_default.value = proxy
        lab.allow_before.value = allow
        press(lab.run_button)
        lab.view.value = view
    assert_widget_error(lab, "ScriptLab")
    assert_no_bug_words(lab.result.value, "ScriptLab's result")
    assert lab.script.value == script, "the learner's script was changed"
    assert lab.message.value == message, "the learner's message was changed"


@given(st.one_of(S.address().map(lambda a: a.strip()), S.sip_uri(), st.text(max_size=30),
                 st.sampled_from(('sip:"odd"@contoso.com', "\ud800", "sip:a@b\\", '"', "sip:a@b" + ";p=abc" * 40 + "\x01",
                                  "\n", "]]>"))),
       st.sampled_from(SAMPLES), st.sampled_from(("disposition", "position")),
       st.sampled_from(("ProxyRequest", "RetargetRequest")), st.sampled_from(("above", "below")))
@__import__("hypothesis").settings(max_examples=examples(0.6))
def test_compare_lab_with_any_target(target, message, vary, disposition, position):
    lab = CompareLab(run=False)
    with guard("CompareLab update", seconds=SECONDS, megabytes=MEGABYTES):
        lab.message_picker.value = message
        lab.vary.value = vary
        lab.disposition.value = disposition
        lab.position.value = position
        lab.target.value = target
    assert_widget_error(lab, "CompareLab")
    assert_no_bug_words(lab.result.value + lab.verdict.value, "CompareLab's result")
    assert lab.target.value == target


ACTIONS = st.tuples(st.sampled_from(("up", "down", "toggle", "move", "toggle_name", "message", "view")),
                    st.one_of(st.sampled_from(("IIMFilter", "UserServices", "DefaultRouting", "RedirectImRetarget",
                                               "ClientVersionFilter", "AcpRouting")), st.text(max_size=12)),
                    st.sampled_from(SAMPLES), st.sampled_from(("transaction", "ladder", "chain")))


@given(st.lists(ACTIONS, min_size=1, max_size=8))
@__import__("hypothesis").settings(max_examples=examples(0.6))
def test_chain_editor_any_sequence_of_moves(actions):
    editor = ChainEditor(run=False)
    names = [a.name for a in editor.chain]
    with guard("ChainEditor", seconds=SECONDS * 2, megabytes=MEGABYTES):
        for action, name, message, view in actions:
            if action == "up":
                editor.apps.value = name if name in names else editor.apps.value
                press(editor.up)
            elif action == "down":
                editor.apps.value = name if name in names else editor.apps.value
                press(editor.down)
            elif action == "toggle":
                press(editor.toggle)
            elif action == "move":  # a notebook cell calling the method with any name (issue 14: KeyError)
                editor.move(name, -1 if len(name) % 2 else 1)
            elif action == "toggle_name":
                editor.toggle_enabled(name)
            elif action == "message":
                editor.message_picker.value = message
            else:
                editor.view.value = view
            assert_widget_error(editor, "ChainEditor")
    assert_no_bug_words(editor.result.value + editor.path.value + editor.status.value, "ChainEditor's result")
    assert sorted(a.name for a in editor.chain) == sorted(names), "an application was lost or added"
