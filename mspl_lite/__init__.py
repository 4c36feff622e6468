"""mspl-lite: learn, try and check MSPL on a laptop.

SIP messages (``mspl_lite.sip``), application manifests (``mspl_lite.manifest``), the MSPL
language (``mspl_lite.language``) and a simulated Lync Server 2013 Front End
(``mspl_lite.frontend``). See docs/ARCHITECTURE.md.
"""
from .errors import (
    Diagnostic,
    InputError,
    LabError,
    ManifestError,
    MsplLiteError,
    RegistrationRefused,
    ScriptError,
    SipParseError,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "InputError",
    "LabError",
    "ManifestError",
    "MsplLiteError",
    "RegistrationRefused",
    "ScriptError",
    "SipParseError",
    "UsageError",
    "__version__",
]
