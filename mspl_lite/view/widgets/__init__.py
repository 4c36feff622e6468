"""Notebook widgets (ipywidgets 8): the script lab, the ProxyRequest/RetargetRequest comparison,
the chain editor. Each shows its result by setting HTML/Label values, never by printing.

    from mspl_lite.view.widgets import ScriptLab, CompareLab, ChainEditor
    ScriptLab()          # displays itself in a notebook cell
"""
from __future__ import annotations

from .chain_editor import ChainEditor
from .compare_lab import CompareLab
from .script_lab import DEFAULT_SCRIPT, ScriptLab

__all__ = ["ScriptLab", "CompareLab", "ChainEditor", "DEFAULT_SCRIPT"]
