"""The README's picture is drawn from the current simulator, not left behind by an old one."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_figure_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_figure.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_readme_shows_the_figure():
    assert "](docs/compare.svg)" in (ROOT / "README.md").read_text(encoding="utf-8")
