"""MSPL applications built in memory and run on the simulated Front End (notebooks 07 to 10).

    text = manifest_text("BlockBoardroom", script, methods="INVITE")   # the .am file's text
    fe = front_end_with(lab_app("BlockBoardroom", script, methods="INVITE"))

A notebook shows one whole manifest, then builds the next ones with ``lab_app`` so the cell holds
the script, the part that changes. Every manifest is a real one: ``parse_manifest`` reads it,
``compile_manifest`` compiles its script at its place in the .am text, and the Front End
registers it as ``New-CsServerApplication`` would. ``learner_app`` does the same for an exercise
answer, with positions in the learner's own script, and ``critical_lines`` renders the critical
errors of a trace against that script (line, caret).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping, NamedTuple

from ..manifest import ApplicationManifest, parse_manifest

__all__ = ["NAMESPACE_LINE", "FileDeclaration", "manifest_text", "lab_app", "learner_app", "front_end_with",
           "critical_lines"]

NAMESPACE_LINE = 'xmlns:r="http://schemas.microsoft.com/lcs/2006/05"'


class FileDeclaration(NamedTuple):
    """A ``<r:file>`` element: a comma-delimited flat file the script reads as name[index].column."""

    name: str
    path: str
    columns: tuple[str, ...]
    key_column: str | None = None
    ignore_case: bool = False
    static: bool = False

    def xml(self) -> str:
        """The element as it stands in the manifest."""
        attrs = f'name="{self.name}" path="{self.path}" delimitedBy="comma"'
        if self.key_column:
            attrs += f' keyColumnName="{self.key_column}" ignoreCase="{"true" if self.ignore_case else "false"}"'
        attrs += f' static="{"true" if self.static else "false"}"'
        cols = "".join(f'\n    <r:column name="{c}"/>' for c in self.columns)
        return f"  <r:file {attrs}>{cols}\n  </r:file>\n"


def manifest_text(name: str, script: str, *, methods: str = "INVITE", reason_codes: str = "NONE",
                  proxy_by_default: bool = True, above_user_services: bool = False,
                  files: Iterable[FileDeclaration] = ()) -> str:
    """The text of an application manifest (.am) named ``name`` holding ``script``."""
    before = "  <r:allowRegistrationBeforeUserServices/>\n" if above_user_services else ""
    cdata = script.replace("]]>", "]]]]><![CDATA[>")  # "]]>" would end the CDATA section: split it there
    return ('<?xml version="1.0"?>\n'
            f'<r:applicationManifest r:appUri="http://www.contoso.com/{name}"\n'
            f"                       {NAMESPACE_LINE}>\n"
            f"{before}"
            f'  <r:requestFilter methodNames="{methods}" strictRoute="false" registrarGenerated="false"/>\n'
            f'  <r:responseFilter reasonCodes="{reason_codes}"/>\n'
            f'  <r:proxyByDefault action="{"true" if proxy_by_default else "false"}"/>\n'
            + "".join(f.xml() for f in files)
            + "  <r:scriptOnly/>\n"
            f"  <r:splScript><![CDATA[{cdata}]]></r:splScript>\n"
            "</r:applicationManifest>\n")


def lab_app(name: str, script: str, *, flat_file_texts: Mapping[str, str] | None = None,
            **settings) -> ApplicationManifest:
    """``manifest_text(name, script, **settings)`` parsed (as ``<name>.am``); raises ManifestError."""
    return parse_manifest(manifest_text(name, script, **settings), filename=f"{name}.am",
                          flat_file_texts=flat_file_texts)


def front_end_with(*apps, lab=None):
    """A fresh Front End of the default lab with ``apps`` registered, each at its default place.

    An app is an ApplicationManifest, a .am path, or ``(app, priority)``. The default place is
    just above UserServices when the manifest allows it, else just below (as in notebook 03).
    """
    from ..frontend import FrontEnd

    fe = FrontEnd(lab)
    for app in apps:
        if isinstance(app, tuple):
            fe.register(app[0], app[1])
        else:
            fe.register(app)
    return fe


def learner_app(exercise: str, name: str, script: str, **settings) -> ApplicationManifest:
    """An exercise answer as an application: positions (warnings, critical errors) are the script's own,
    in a file named ``exercise-<id>.mspl``, as the check's compile errors are."""
    manifest = lab_app(name, script, **settings)
    return replace(manifest, filename=f"exercise-{exercise}.mspl", source=script, script=script,
                   script_line=1, script_column=1)


def critical_lines(trace: Any, app: str, script: str, filename: str) -> tuple[str, ...]:
    """The critical errors ``app`` raised in ``trace`` (request and response), rendered with their line."""
    return tuple(c.diagnostic(script, filename).render() for c in trace.critical_errors if c.app == app)
