"""The Front End simulator (issue 3): a lab, the server application chain, and a trace of every message.

    from mspl_lite.frontend import FrontEnd
    fe = FrontEnd()                          # the built-in contoso.com lab
    fe.register("redirect.am", priority=5)   # like New-CsServerApplication -Priority 5
    trace = fe.send(open("invite.sip").read())
    print(trace)                             # which applications saw it, what each did, where it went

Modules: trace.py (the Trace values, the only thing diagrams and widgets read), lab.py and
labfile.py (the deployment), chain.py (ServerApplication, Chain), builtins/ (the built-in
applications), decisions.py (what an application decides), context.py (the request in flight),
simulate.py (FrontEnd: registration, one transaction end to end), walk.py (the request's way
down the chain), dispatch.py and managed.py (Dispatch to a Python handler), downstream.py (the
parties outside the server), response_path.py (the response's way up), samples.py (the shipped
samples and the ProxyRequest/RetargetRequest comparison). The command line is mspl_lite/commands.py.
"""
from __future__ import annotations

from .chain import Chain, PythonApplication, ScriptApi, ServerApplication
from .lab import Lab
from .labfile import default_lab_text, load_lab, parse_lab
from .managed import RequestReceivedEventArgs
from .samples import sample_comparison, sample_path
from .simulate import CRITICAL_ERROR_LIMIT, FrontEnd
from .trace import Branch, Changes, Hop, LogLine, Note, Outcome, ResponseHop, Trace

__all__ = [
    "FrontEnd", "Lab", "load_lab", "parse_lab", "default_lab_text", "Chain", "ServerApplication",
    "PythonApplication", "ScriptApi", "RequestReceivedEventArgs", "CRITICAL_ERROR_LIMIT",
    "Trace", "Hop", "Branch", "ResponseHop", "Outcome", "Note", "Changes", "LogLine",
    "sample_path", "sample_comparison",
]
