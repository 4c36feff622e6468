"""IIMFilter, the Intelligent IM Filter: hyperlinks in IMs and file transfers (Gg182575,
set-csimfilterconfiguration).

URL filter (Set-CsImFilterConfiguration): Allow delivers the IM with each link made inactive by
an underscore before it (and AllowMessage first, if set); Warn delivers it with WarnMessage
first and the links active; Block refuses it. BlockFileExtension refuses a link to a file whose
extension the file transfer filter lists. File transfer filter: Block refuses invitations for
listed extensions; BlockAll refuses every file transfer.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..context import RequestContext
from ..decisions import Decision, PassOn
from .base import BuiltinApplication

__all__ = ["IIMFilter", "find_links"]

_TEXT_TYPES = ("text/plain", "text/html", "text/rtf", "text/x-msmsgsinvite")


@lru_cache(maxsize=16)   # one pattern per prefix list: built once, not for every IM
def _prefix_regex(prefixes: tuple[str, ...]) -> re.Pattern:
    parts = []
    for p in prefixes:
        if p.endswith("*"):             # "www*": a word starting with www
            parts.append(re.escape(p[:-1]) + r"[\w.\-]*")
        else:
            parts.append(re.escape(p))
    return re.compile(r"(?<![\w_])(?:" + "|".join(parts) + r")[^\s<>\"']*", re.IGNORECASE)


def find_links(text: str, prefixes: tuple[str, ...]) -> list[re.Match]:
    """Every hyperlink in ``text`` that starts with one of the filter's prefixes."""
    if not prefixes:
        return []
    return list(_prefix_regex(prefixes).finditer(text))


_LINK_HOST = re.compile(r"[a-z][a-z0-9+.\-]*:(?://)?([^/:?#@]+@)?([^/:?#]+)", re.IGNORECASE)
_LINK_PATH = re.compile(r"[a-z][a-z0-9+.\-]*://[^/]*(/.*)?$", re.IGNORECASE)


def _host_of(link: str) -> str:
    m = _LINK_HOST.match(link)
    if m:
        return m.group(2).lower()
    return link.split("/", 1)[0].lower()


def _path_of(link: str) -> str:
    """The path part of a link ("" when it has none): ``http://x.com/a/setup.exe?x`` -> ``/a/setup.exe``."""
    text = link.split("?", 1)[0].split("#", 1)[0]
    m = _LINK_PATH.match(text)
    if m:
        return (m.group(1) or "").lower()
    if text.lower().startswith(("file:", "www")):
        rest = text.split("/", 1)
        return ("/" + rest[1]).lower() if len(rest) > 1 else ""
    return ""


class IIMFilter(BuiltinApplication):
    """Neutralises, flags or blocks hyperlinks in instant messages; blocks dangerous file transfers."""

    name = "IIMFilter"
    methods = frozenset({"MESSAGE", "INVITE"})
    role = "Intelligent IM Filter: URL and file-transfer filtering"

    def on_request(self, ctx: RequestContext) -> Decision:
        if ctx.method == "INVITE":
            return self._file_transfer(ctx)
        content_type = ctx.content_type
        if content_type and content_type not in _TEXT_TYPES:
            return PassOn(sentence=f"the IM body ({content_type}) is not text")
        return self._urls(ctx)

    # -- hyperlinks -------------------------------------------------------------------------

    def _is_local(self, ctx: RequestContext, link: str) -> bool:
        host = _host_of(link)
        return "." not in host or any(host == d or host.endswith("." + d) for d in ctx.lab.domains)

    def _urls(self, ctx: RequestContext) -> Decision:
        config = ctx.lab.im_filter
        text = ctx.request.content
        if not config.enabled:
            return PassOn(sentence="URL filtering is off (Enabled $false)")
        links = find_links(text, config.prefixes)
        if config.ignore_local:
            links = [m for m in links if not self._is_local(ctx, m.group(0))]
        if not links:
            return PassOn(sentence="no hyperlink in the message")
        shown = ", ".join(m.group(0) for m in links[:3])
        if config.block_file_extension:
            exts = ctx.lab.file_transfer_filter.extensions
            for m in links:
                path = _path_of(m.group(0))
                if not path.endswith(tuple(exts)):  # one call for the whole list; the loop names the first match
                    continue
                for ext in exts:
                    if path.endswith(ext):
                        ctx.note("inferred", "A link to a blocked file type is answered 403 Forbidden (the link "
                                             "\"is blocked and an error message is returned to the sender\"; "
                                             "the status is not documented).", "set-csimfilterconfiguration")
                        return self.answer(403, "Forbidden",
                                           sentence=f"the link {m.group(0)} points at a {ext} file "
                                                    "(BlockFileExtension, file transfer filter list)",
                                           action=f"blocked the IM: link to a {ext} file")
        if config.action == "Block" or len(links) > 1000:
            ctx.note("inferred", "A blocked IM is answered 403 Forbidden (the server 'sends an error to the sender'; "
                                 "the status is not documented).", "set-csimfilterconfiguration")
            return self.answer(403, "Forbidden", sentence=f"Action Block: the message contains {shown}",
                               action=f"blocked the IM containing {shown}")
        if config.action == "Warn":
            if not config.warn_message:
                return PassOn(sentence="Action Warn with an empty WarnMessage: URL filtering is in effect off")
            ctx.request.set_body((config.warn_message + "\r\n" + text).encode("utf-8"))
            return PassOn(action="added the warning message; links left active",
                          sentence=f"Action Warn: {shown} stay clickable, WarnMessage put first")
        # Allow: "clickable links are disabled by adding an underscore character before the first character"
        out, last = [], 0
        for m in links:
            out.append(text[last:m.start()])
            out.append("_" + m.group(0))
            last = m.end()
        out.append(text[last:])
        new = "".join(out)
        if config.allow_message:
            new = config.allow_message + "\r\n" + new
        ctx.request.set_body(new.encode("utf-8"))
        ctx.note("documented", "By default the IM filter disables clickable links by putting an underscore before "
                               "them (http://... becomes _http://...).", "set-csimfilterconfiguration")
        return PassOn(action=f"neutralised {len(links)} link(s): {', '.join('_' + m.group(0) for m in links[:3])}",
                      sentence="Action Allow: the message is delivered with every link made inactive")

    # -- file transfers ---------------------------------------------------------------------

    def _file_transfer(self, ctx: RequestContext) -> Decision:
        body = ctx.request.content
        names = re.findall(r"a=file-selector:.*?name:\"([^\"]+)\"", body, re.IGNORECASE)
        names += re.findall(r"^Application-File:\s*(.+?)\s*$", body, re.IGNORECASE | re.MULTILINE)
        if not names:
            return PassOn(sentence="not a file transfer invitation")
        config = ctx.lab.file_transfer_filter
        name = names[0]
        if not config.enabled:
            return PassOn(sentence=f"file transfer filtering is off: {name} may be sent")
        ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if config.action == "BlockAll":
            return self.answer(403, "Forbidden", sentence="Action BlockAll: every file transfer is refused",
                               action=f"blocked the file transfer of {name} (BlockAll)")
        if ext in config.extensions:
            ctx.note("inferred", "A blocked file transfer is answered 403 Forbidden (the status is not documented).",
                     "Gg182575")
            return self.answer(403, "Forbidden", sentence=f"{ext} is on the file transfer filter's extension list",
                               action=f"blocked the file transfer of {name}")
        return PassOn(sentence=f"{name}: {ext or 'no extension'} is not blocked", action=f"allowed the file {name}")
