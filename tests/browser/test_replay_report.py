"""The replay report (`mspl-lite replay --report`) in a real browser: self-contained, a click shows a diagram.

The report is opened from a file:// address in Debian's Chromium (the conftest's browser, no
JupyterLab needed); every request the page makes is recorded, and anything but the file itself
fails the test: the report must work from a mail attachment or a closed network.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import ARTIFACTS, ROOT, VIEWPORT

CAPTURE = ROOT / "mspl_lite" / "data" / "captures" / "frontend-session-sipstack.log"
APP = ROOT / "mspl_lite" / "data" / "apps" / "block-word.am"
IM = ROOT / "mspl_lite" / "data" / "messages" / "im-to-nuriag.sip"


def write_report(capture: Path, report: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mspl_lite.cli", "replay", str(capture), "--app", str(APP),
                           "--report", str(report), "--jobs", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_report_shows_the_summary_and_the_diagram_of_a_clicked_message(browser, tmp_path):
    report = tmp_path / "replay.html"
    write_report(CAPTURE, report)
    context = browser.new_context(viewport=dict(VIEWPORT))
    requests: list[str] = []
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        assert "Replayed 15 messages" in page.inner_text("#summary")
        rows = page.locator("tr.msg")
        assert rows.count() == 15
        assert page.locator("#detail svg").count() == 0

        # click the INVITE to the helpdesk: its diagram appears, with the chain's applications in it
        row = page.locator('tr.msg[data-index="10"]')
        row.click()
        page.wait_for_selector("#detail svg")
        assert page.get_attribute("#detail", "data-shown") == "10"
        assert "DefaultRouting" in page.inner_text("#detail")
        assert "selected" in (row.get_attribute("class") or "")
        box = page.locator("#detail svg").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100

        # the keyboard reaches the same: Enter on the Front End's 500 shows "observed ... agrees" (the
        # pool's real 500 answered the replay, decision D108)
        other = page.locator('tr.msg[data-index="13"]')
        other.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('detail').dataset.shown === '13'")
        assert "[agrees]" in page.inner_text("#detail")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "replay-report.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors
    outside = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert not outside, f"the report fetched {outside}"
    assert requests and requests[0] == report.as_uri()


def retransmitted_and_answered(folder: Path) -> Path:
    """A .sip folder: a MESSAGE, the same again, the Front End's 486 for it coming back, the same again."""
    folder.mkdir()
    im = IM.read_bytes()
    text = im.decode()

    def h(name):
        return re.search(rf"^{name}: (.*?)\r?$", text, re.M).group(1)

    busy = "\r\n".join(["SIP/2.0 486 Busy Here", "Via: SIP/2.0/TLS fe01.contoso.com:5061;branch=z9hG4bK-fe-1",
                         f"Via: {h('Via')}", f"From: {h('From')}", f"To: {h('To')};tag=callee1",
                         f"Call-ID: {h('Call-ID')}", f"CSeq: {h('CSeq')}", "Content-Length: 0", "", ""]).encode()
    for name, data in (("1-im.sip", im), ("2-im-again.sip", im), ("3-busy.sip", busy), ("4-busy-again.sip", busy)):
        (folder / name).write_bytes(data)
    return folder


def test_a_row_without_a_trace_says_what_it_is_shows_its_requests_diagram_and_selects_it(browser, tmp_path):
    context = browser.new_context(viewport=dict(VIEWPORT))
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        report = tmp_path / "session.html"
        write_report(CAPTURE, report)
        page.goto(report.as_uri())

        # the pool's 500 that answered the replay of the INVITE to the helpdesk (#10, decision D108)
        assert page.get_attribute('tr.msg[data-index="12"]', "data-role") == "answer"
        page.locator('tr.msg[data-index="12"]').click()
        page.wait_for_function("document.getElementById('detail').dataset.shown === '12'")
        detail = page.inner_text("#detail")
        assert "This response answered the replay of #10: the response path ran on it there" in detail
        assert page.locator("#detail svg").count() == 1 and "DefaultRouting" in detail   # #10's diagram
        page.locator("#detail button.goto").click()
        page.wait_for_function("document.getElementById('detail').dataset.shown === '10'")
        row = page.locator('tr.msg[data-index="10"]')
        assert "selected" in (row.get_attribute("class") or "")
        assert row.evaluate("r => r === document.activeElement")   # the keyboard carries on from there
        assert "This response answered" not in page.inner_text("#detail")

        # what the Front End sent (observed) points to its request too
        page.locator('tr.msg[data-index="13"]').click()
        page.wait_for_function("document.getElementById('detail').dataset.shown === '13'")
        assert "Sent by the Front End: what really happened next to #10" in page.inner_text("#detail")
        assert page.get_attribute("#detail button.goto", "data-goto") == "10"

        # retransmissions of the request and of the final response: each says so and leads to #0
        report = tmp_path / "again.html"
        write_report(retransmitted_and_answered(tmp_path / "again"), report)
        page.goto(report.as_uri())
        roles = [page.get_attribute(f'tr.msg[data-index="{i}"]', "data-role") for i in range(4)]
        assert roles == ["replayed", "retransmission", "answer", "retransmission"]
        for index, says, goto in ((1, "the same request as #0 again", "0"),
                                  (3, "the same final response as #2 again", "2")):
            page.locator(f'tr.msg[data-index="{index}"]').click()
            page.wait_for_function(f"document.getElementById('detail').dataset.shown === '{index}'")
            assert says in page.inner_text("#detail")
            assert "The diagram of #0, the request it belongs to" in page.inner_text("#detail")
            assert page.locator("#detail svg").count() == 1
            assert page.get_attribute("#detail button.goto", "data-goto") == goto
        page.locator("#detail button.goto").click()       # from the response's retransmission to the answer
        page.wait_for_function("document.getElementById('detail').dataset.shown === '2'")
        assert "answered the replay of #0" in page.inner_text("#detail")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "replay-report-answer.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors
