"""The replay report (`mspl-lite replay --report`) in a real browser: self-contained, a click shows a diagram.

The report is opened from a file:// address in Debian's Chromium (the conftest's browser, no
JupyterLab needed); every request the page makes is recorded, and anything but the file itself
fails the test: the report must work from a mail attachment or a closed network.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ARTIFACTS, ROOT, VIEWPORT

CAPTURE = ROOT / "mspl_lite" / "data" / "captures" / "frontend-session-sipstack.log"
APP = ROOT / "mspl_lite" / "data" / "apps" / "block-word.am"


def test_the_report_shows_the_summary_and_the_diagram_of_a_clicked_message(browser, tmp_path):
    report = tmp_path / "replay.html"
    done = subprocess.run([sys.executable, "-m", "mspl_lite.cli", "replay", str(CAPTURE), "--app", str(APP),
                           "--report", str(report), "--jobs", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
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
