"""`mspl-lite trace ... --diagram FILE.svg` and `mspl-lite apps --diagram FILE.svg` write the diagrams."""
from __future__ import annotations

from mspl_lite.cli import main
from mspl_lite.frontend import sample_path


def test_trace_diagram_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "im.svg"
    status = main(["trace", str(sample_path("messages/im-with-link.sip")), "--diagram", str(out)])
    assert status == 0, capsys.readouterr().err
    svg = out.read_text(encoding="utf-8")
    assert "<title>transaction</title>" in svg and "DefaultRouting" in svg


def test_chain_diagram_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "chain.svg"
    status = main(["apps", "--app", f"{sample_path('apps/block-word.am')}@5", "--diagram", str(out)])
    assert status == 0, capsys.readouterr().err
    svg = out.read_text(encoding="utf-8")
    assert "<title>chain</title>" in svg and "BlockWord" in svg and "MSPL script" in svg


def test_a_diagram_name_that_is_not_svg_is_a_clean_error(tmp_path, capsys):
    status = main(["trace", str(sample_path("messages/im-with-link.sip")), "--diagram", str(tmp_path / "x.pdf")])
    assert status == 1
    err = capsys.readouterr().err
    assert "use a name ending in .svg" in err and "Traceback" not in err
