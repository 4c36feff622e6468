"""A trusted application pool's UCMA collaboration platform: which ApplicationEndpoint gets a request.

UCMA's *Incoming message dispatching* (Dn466043) is the model, rule by rule:

    ms-opaque in the Request-URI      the registered endpoint it identifies ("the collaboration
                                      platform can uniquely identify the endpoint")
    Request-URI = the instance GRUU,  the endpoint whose owner URI the header names; without it the
      ms-application-aor or not       endpoint hosting the conversation ID (two: the one that is not
                                      the From URI); "When there is ambiguity, the message is rejected."
    otherwise                         the endpoint whose owner URI the ms-application-aor header
                                      names ("the special header overrides the To header for matching
                                      purposes"), else the To URI; several endpoints of one owner URI:
                                      the EPID picks one
    no unique match                   the default routing endpoint, if one is designated
    no default routing endpoint       rejected: "481 response code (if the message belongs to a
                                      dialog) or a 500 response code"

The order of the rules, where the EPID and the conversation ID are read, and what an endpoint answers
are the simulator's (decisions D70, D71, D72). This module knows nothing of the chain: downstream.py
calls ``deliver_to_application`` for a branch that reaches a trusted application, and
``explain_rejections`` writes the trace notes for a branch the platform rejected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from .lab import ApplicationEndpoint, TrustedApplication, aor_of
from .trace import Branch

__all__ = ["PlatformMatch", "REJECTED", "platform_match", "deliver_to_application", "explain_rejections",
           "in_dialog"]

#: Dn466043's two rejections.
REJECTED = {481: "Call/Transaction Does Not Exist", 500: "Server Internal Error"}

_MATCHED_BY = "Dn466043"


@dataclass(frozen=True, slots=True)
class PlatformMatch:
    """What the collaboration platform did with one request."""

    endpoint: ApplicationEndpoint | None   # who got it (None: rejected)
    rule: str                              # "ms-opaque", "ms-application-aor", "To", "conversation ID",
                                           # "default routing endpoint", "rejected"
    steps: tuple[str, ...]                 # every check, in order, as sentences
    in_dialog: bool
    status: int | None = None              # 481 or 500 when rejected

    @property
    def delivered(self) -> bool:
        return self.endpoint is not None

    def sentence(self) -> str:
        """One line for the trace: where it went and why."""
        why = "; ".join(self.steps)
        if self.endpoint is None:
            return f"rejected {self.status} {REJECTED[self.status]}: {why}"
        return f"delivered to {self.endpoint.uri} ({self.rule}): {why}"


def in_dialog(request: Any) -> bool:
    """True when the request belongs to a dialog: its To header carries a tag (RFC 3261 12.2)."""
    return re.search(r";\s*tag=", request.get("To") or "", re.IGNORECASE) is not None


def _header_param(value: str | None, name: str) -> str | None:
    """A parameter of a name-addr header (after the closing '>'), e.g. To's epid."""
    if not value:
        return None
    tail = value.rsplit(">", 1)[-1] if ">" in value else value.split(";", 1)[-1]
    m = re.search(rf";\s*{re.escape(name)}=\"?([^;\"\s]+)", ";" + tail, re.IGNORECASE)
    return m.group(1) if m else None


def _uri_param(uri: str, name: str) -> str | None:
    m = re.search(rf";{re.escape(name)}=([^;>?]+)", uri or "", re.IGNORECASE)
    return m.group(1) if m else None


def _by_owner(app: TrustedApplication, owner: str | None, request: Any,
              steps: list[str], source: str) -> ApplicationEndpoint | None:
    """The endpoint of ``owner``; several of one owner URI: the EPID of the To header picks (decision D72)."""
    found = [ep for ep in app.endpoints if owner and ep.aor == owner]
    if not found:
        names = ", ".join(ep.uri for ep in app.endpoints) or "none"
        steps.append(f"{source} names {owner or 'no SIP URI'}, the owner URI of none of its endpoints ({names})")
        return None
    if len(found) == 1:
        steps.append(f"{source} names {found[0].uri}, the owner URI of that endpoint")
        return found[0]
    epid = _header_param(request.get("To"), "epid")
    chosen = [ep for ep in found if epid and ep.epid and ep.epid.lower() == epid.lower()]
    if len(chosen) == 1:
        steps.append(f"{source} names {owner}, the owner URI of {len(found)} endpoints; the EPID {epid} picks one")
        return chosen[0]
    steps.append(f"{source} names {owner}, the owner URI of {len(found)} endpoints, and "
                 + (f"the EPID {epid} matches none of them" if epid else "the request carries no EPID")
                 + ": no unique match")
    return None


def platform_match(app: TrustedApplication, request: Any) -> PlatformMatch:
    """Match ``request`` (as it arrives at the application) to one of ``app``'s endpoints (Dn466043)."""
    steps: list[str] = []
    dialog = in_dialog(request)
    ruri = request.request_uri or ""
    endpoint: ApplicationEndpoint | None = None
    rule = "rejected"
    opaque = _uri_param(ruri, "ms-opaque")
    if opaque:
        endpoint = next((ep for ep in app.endpoints if ep.opaque.lower() == opaque.lower()), None)
        steps.append(f"the Request-URI's ms-opaque={opaque} " + (f"identifies {endpoint.uri}" if endpoint
                                                                 else "identifies none of its endpoints"))
        rule = "ms-opaque"
    header = request.get("ms-application-aor")
    if endpoint is None and app.targets_instance(ruri):
        steps.append("the Request-URI is the application instance GRUU")
        wanted = aor_of(header) if header else None
        if wanted and any(ep.aor == wanted for ep in app.endpoints):
            endpoint = _by_owner(app, wanted, request, steps, "its ms-application-aor header")
            rule = "ms-application-aor"
        else:
            if header:
                steps.append(f"its ms-application-aor header ({header}) resolves to none of its endpoints")
            endpoint = _by_conversation(app, request, steps)
            rule = "conversation ID"
    elif endpoint is None:
        if header:
            steps.append("it has an ms-application-aor header, which overrides To for matching")
            endpoint = _by_owner(app, aor_of(header), request, steps, "its ms-application-aor header")
            rule = "ms-application-aor"
        else:
            steps.append("it has no ms-application-aor header, so its To URI is matched")
            endpoint = _by_owner(app, aor_of(request.get("To")), request, steps, "its To header")
            rule = "To"
    if endpoint is not None:
        return PlatformMatch(endpoint=endpoint, rule=rule, steps=tuple(steps), in_dialog=dialog)
    fallback = app.default_routing_endpoint
    if fallback is not None:
        steps.append(f"{fallback.uri} is the default routing endpoint")
        return PlatformMatch(endpoint=fallback, rule="default routing endpoint", steps=tuple(steps),
                             in_dialog=dialog)
    steps.append("there is no default routing endpoint")
    status = 481 if dialog else 500
    steps.append("the request belongs to a dialog (its To has a tag)" if dialog else "the request is in no dialog")
    return PlatformMatch(endpoint=None, rule="rejected", steps=tuple(steps), in_dialog=dialog, status=status)


def _by_conversation(app: TrustedApplication, request: Any, steps: list[str]) -> ApplicationEndpoint | None:
    """Dn466043: the endpoint hosting the conversation; of two, the one that is not the From URI."""
    conversation = request.get("Ms-Conversation-ID")
    if not conversation:
        steps.append("it carries no conversation ID (Ms-Conversation-ID header, decision D72)")
        return None
    hosts = [ep for ep in app.endpoints if conversation.strip() in ep.conversations]
    if len(hosts) == 1:
        steps.append(f"its conversation ID {conversation} is hosted by {hosts[0].uri}")
        return hosts[0]
    if len(hosts) == 2:
        caller = aor_of(request.get("From"))
        other = [ep for ep in hosts if ep.aor != caller]
        if len(other) == 1:
            steps.append(f"its conversation ID {conversation} is hosted by two endpoints; {other[0].uri} is "
                         "the one that is not the From URI")
            return other[0]
    steps.append(f"its conversation ID {conversation} is hosted by "
                 + (f"{len(hosts)} endpoints: ambiguous" if hosts else "none of its endpoints"))
    return None


def deliver_to_application(app: TrustedApplication, message: Any, method: str, **branch: Any) -> Branch:
    """One branch that reached ``app``: the platform's match, and the responses that come back.

    A matched endpoint accepts the request (180 and 200 for an INVITE, 200 otherwise): what it does
    then is the application's own code, which the lab does not run (decision D72).
    """
    match = platform_match(app, message)
    instance = app.instances[0]
    where = f"{app.name} on {instance}:{app.port}"
    if match.delivered:
        responses = ((180, "Ringing"), (200, "OK")) if method == "INVITE" else ((200, "OK"),)
        return Branch(responses=responses, note=f"{where}: the collaboration platform {match.sentence()}", **branch)
    return Branch(responses=((match.status, REJECTED[match.status]),),
                  note=f"{where}: the collaboration platform {match.sentence()}", **branch)


def explain_rejections(ctx: Any, apps: Iterable[tuple[TrustedApplication, Any]]) -> None:
    """Trace notes for every (application, request) the platform rejected: the rule, quoted, and the fixes."""
    for app, request in apps:
        match = platform_match(app, request)
        if match.delivered:
            if match.rule == "ms-application-aor":
                ctx.note("documented", "If the message includes a special header for the owner URI "
                                       "(ms-application-aor), the special header overrides the To header for "
                                       "matching purposes.", _MATCHED_BY)
            elif match.rule == "default routing endpoint":
                ctx.note("documented", "If there is no matching endpoint, but a default routing endpoint is found, "
                                       "the message is routed to that endpoint.", _MATCHED_BY)
            continue
        instance = app.targets_instance(request.request_uri or "")
        if instance:
            ctx.note("documented", "If a message arrives that targets an application instance but does not contain "
                                   "the \"ms-application-aor\" header that resolves to a specific ApplicationEndpoint "
                                   "instance, the platform uses the conversation ID to resolve the message to a "
                                   "specific endpoint.", _MATCHED_BY)
        else:
            ctx.note("documented", "When the target of a message is the owner URI of a user or application endpoint, "
                                   "the To URI of the message usually carries this URI. This can also be used to "
                                   "match an endpoint for routing.", _MATCHED_BY)
        ctx.note("documented", "If there is no matching endpoint, but a default routing endpoint is found, the "
                               "message is routed to that endpoint. Otherwise, the message is automatically "
                               "rejected with a 481 response code (if the message belongs to a dialog) or a 500 "
                               "response code.", _MATCHED_BY)
        to = request.get("To")
        if instance:
            ctx.note("inferred", f"The request reached {app.name}'s instance GRUU with no ms-application-aor header "
                                 "naming an endpoint and no conversation ID one of them hosts, so no ApplicationEndpoint "
                                 f"gets it and the platform answers {match.status} (decisions D71, D72).")
        else:
            ctx.note("inferred", f"The request reached {app.name} with Request-URI {request.request_uri} but To {to}: "
                                 "the platform matches To (or ms-application-aor), not the Request-URI's user, so no "
                                 f"ApplicationEndpoint gets it and the platform answers {match.status} "
                                 "(decision D70).")
        owner = " / ".join(ep.uri for ep in app.endpoints) or "the endpoint's owner URI"
        ctx.note("hint", f"Add an ms-application-aor header naming {owner} (managed code: "
                         "e.Request.AllHeaders.Add(new Header(\"ms-application-aor\", \"<...>\"))), or designate a "
                         "default routing endpoint (ApplicationEndpointSettings.IsDefaultRoutingEndpoint, hh382661).")
