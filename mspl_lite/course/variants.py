"""Course messages with one thing changed: the callee, the caller, the Call-ID, a header.

    variant("invite-jennyl", callee="sip:boardroom@contoso.com")     # Terry calls the boardroom
    variant("im-nuriag", caller='"Al" <sip:al@fabrikam.com>')        # an IM from a federated user

The checks of notebooks 07 to 10 need more situations than the fixed course messages
(mspl_lite.course.messages) hold; each is one of those messages with a field replaced, so every
tag, epid and address stays fixed and every output stays the same run after run.
"""
from __future__ import annotations

from typing import Any

from .messages import course_message

__all__ = ["variant"]


def _tagged(address: str, old: str | None) -> str:
    """``address`` with the ``;tag=`` of ``old`` (the From tag belongs to the dialog, not the user)."""
    if old and ";tag=" in old and ";tag=" not in address:
        return address + ";tag=" + old.split(";tag=", 1)[1].split(";", 1)[0]
    return address


def variant(name: str, *, callee: str | None = None, caller: str | None = None, call_id: str | None = None,
            to_tag: str | None = None, headers: dict[str, str] | None = None) -> Any:
    """A fresh copy of course message ``name`` with the given fields replaced.

    ``callee``: a SIP URI for the Request-URI and the To header (display name dropped).
    ``caller``: a From address (name-addr); the original From tag is kept.
    ``to_tag``: adds ``;tag=`` to To: the request is then inside a dialog (a re-INVITE).
    ``headers``: set (replace) these headers.
    """
    message = course_message(name)
    if callee is not None:
        message.request_uri = callee
        message.set_header("To", f"<{callee}>")
    if caller is not None:
        message.set_header("From", _tagged(caller, message.get("From")))
    if call_id is not None:
        message.set_header("Call-ID", call_id)
    if to_tag is not None:
        message.set_header("To", f"{message.get('To')};tag={to_tag}")
    for header, value in (headers or {}).items():
        message.set_header(header, value)
    return message
