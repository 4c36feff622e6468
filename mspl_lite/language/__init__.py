"""The MSPL language: parse, check, compile and run scripts (docs/ARCHITECTURE.md, "Script API").

    script = compile_script(source, filename="forward.am")      # ScriptError if it does not compile
    run = script.run(parse_message(text))                        # a ScriptRun: dispositions, log, ...

``compile_manifest(manifest)`` compiles the script of an ApplicationManifest at its position in
the .am file, so every diagnostic and critical error points into the manifest.
"""
from __future__ import annotations

from typing import Any

from ..errors import Diagnostic, ScriptError
from .compiler import Script
from .context import ScriptEnvironment
from .run import CriticalError, Disposition, LogEntry, ScriptRun
from .server import InMemoryServer, RegistrarEndpoint, ServerState

__all__ = [
    "parse_script", "check_script", "compile_script", "compile_manifest",
    "Script", "ScriptEnvironment", "ScriptRun", "Disposition", "LogEntry", "CriticalError",
    "InMemoryServer", "RegistrarEndpoint", "ServerState",
]


def parse_script(source: str, *, filename: str = "<script>", line: int = 1, column: int = 1,
                 file_source: str | None = None):
    """Parse MSPL text into an ast.Script (raises ScriptError); see parser.parse_script."""
    from .parser import parse_script as parse
    return parse(source, filename=filename, line=line, column=column, file_source=file_source)


def check_script(script_ast: Any, *, manifest: Any = None) -> list[Diagnostic]:
    """Static errors and learner warnings of a parsed script; never raises for a bad script."""
    from .checker import check
    return check(script_ast, manifest=manifest)


def compile_script(source: str, *, filename: str = "<script>", line: int = 1, column: int = 1,
                   file_source: str | None = None, manifest: Any = None) -> Script:
    """Parse, check and compile MSPL ``source`` (starting at ``line``/``column`` of ``filename``).

    Raises ScriptError with every compile error; the checker's warnings stay on
    ``Script.warnings``.
    """
    script_ast = parse_script(source, filename=filename, line=line, column=column, file_source=file_source)
    diagnostics = check_script(script_ast, manifest=manifest)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ScriptError(errors)
    warnings = [d for d in diagnostics if d.severity != "error"]
    return Script(script_ast, warnings=warnings, manifest=manifest, text=source)


def compile_manifest(manifest: Any) -> Script:
    """Compile the splScript of an ApplicationManifest, positioned in its .am file."""
    return compile_script(manifest.script, filename=manifest.filename, line=manifest.script_line,
                          column=manifest.script_column, file_source=manifest.source, manifest=manifest)
