"""Application manifests (.am): which messages a script sees, the flat files it reads, the script.

    load_manifest(path)                          -> ApplicationManifest   (reads flat files next to it)
    parse_manifest(text, filename=, base_dir=)   -> ApplicationManifest
    parse_flat_file(text, name=, columns=, ...)  -> FlatFile
    find_dispatch_calls(script)                  -> [offset of each Dispatch( call]

An application manifest is the XML document Lync Server 2013 reads when an MSPL application is
registered (``New-CsServerApplication -ScriptName X.am``)::

    <?xml version="1.0"?>
    <r:applicationManifest r:appUri="http://www.contoso.com/ForwardInvite"
                           xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
      <r:allowRegistrationBeforeUserServices/>
      <r:serverFilter roles="ALL"/>
      <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="true"/>
      <r:responseFilter reasonCodes="NONE"/>
      <r:scriptOnly/>
      <r:splScript><![CDATA[ ... the MSPL script ... ]]></r:splScript>
    </r:applicationManifest>

Sources: the Lync Server 2013 manifest reference (dn439109 to dn439119), the Lync Server 2010
pages hh347121 and hh347232, and the SDK samples; the sides mspl-lite takes are the decisions of
docs/ARCHITECTURE.md (D11, D12, D32, D33).

Every problem is a ``ManifestError`` whose diagnostics point at file, line and column and say what
to do; a Python exception of any other kind escaping this package is a bug. Bad XML is reported in
words a Lync admin understands (which character, which tag, what to type instead), not as the bare
parser message.

Decisions taken here (D32 unless another is named), each repeated where it shows:

* Only the Lync 2013 namespace ``http://schemas.microsoft.com/lcs/2006/05`` is read, under any prefix
  or as the default namespace. The LCS 2003/2005 namespaces are an error with a hint: mspl-lite models
  Lync Server 2013 semantics only.
* Attributes are read with the manifest prefix (``lc:appUri``) or without it (``appUri``): an official
  sample (sip-application-manifest.md) writes ``appUri`` without prefix.
* Unknown elements and unknown attributes are errors (a misspelt ``methodName`` would otherwise
  silently widen the filter to ALL methods), with the closest known name suggested.
* ``<lc:script-only/>`` is read as ``scriptOnly`` with a warning (decision D11).
* ``reasonCodes`` accepts ``ALL``, ``NONE`` and classes written ``2XX``, ``2xx`` or ``2nn`` (decision D9).
  Exact codes such as ``302`` are refused: the reference describes classes only.
* ``domainSupported`` and ``phoneUri`` have no documented default or meaning; absent reads as false.
* Keyword values (method names, roles, ALL/NONE, true/false, delimitedBy) are read case-insensitively;
  ``roles="ALL"`` is stored as every role in ``SERVER_ROLES``.
* Flat files: relative paths are read from the manifest's folder; there are no comment lines; a row
  may have fewer fields than columns (missing trailing fields read as "", as FilteringApp's optional
  last column needs), never more; double quotes may protect a delimiter (decision D33; inferred: the
  sentence of dn439112 on this could not be read whole).

The modules, one idea each:

    model.py          RequestFilter, ResponseFilter, ApplicationManifest and their vocabulary
    flat_file.py      FlatFile, parse_flat_file: rows of a flat file, and where the file is
    loader.py         load_manifest, parse_manifest: the element tree -> values, defaults, checks
    xml_tree.py       expat events -> an element tree with positions
    xml_errors.py     expat's complaints -> diagnostics a Lync admin can act on
    lookalikes.py     typographic quotes and invisible spaces that break XML
    source.py         bytes -> text, offsets -> (line, column)
    dispatch_scan.py  find_dispatch_calls: Dispatch( in a scriptOnly application's script
"""
from .dispatch_scan import find_dispatch_calls
from .flat_file import FlatFile, parse_flat_file
from .loader import load_manifest, parse_manifest
from .model import MSPL_NAMESPACE, REQUEST_METHODS, SERVER_ROLES, ApplicationManifest, RequestFilter, ResponseFilter

__all__ = [
    "MSPL_NAMESPACE",
    "REQUEST_METHODS",
    "SERVER_ROLES",
    "ApplicationManifest",
    "RequestFilter",
    "ResponseFilter",
    "FlatFile",
    "load_manifest",
    "parse_manifest",
    "parse_flat_file",
    "find_dispatch_calls",
]
