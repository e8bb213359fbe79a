"""Print, as JSON, the Basic/VBA modules LibreOffice reads from a document.

An independent reader for :mod:`corrlev_xl.templates.verify`.  It needs the
UNO bridge, so run it with the system Python (Debian: ``python3-uno``)::

    /usr/bin/python3 lo_list_vba.py corrlev.xlam

Output: ``{"filter": <import filter used>, "libraries": {library: {module: source}}}``.

It starts its own headless soffice on a named pipe with a throw-away profile,
loads the file hidden and read-only (filter "Calc MS Excel 2007 VBA XML":
LibreOffice's type detection does not recognise .xlam), and then terminates
that soffice.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import uno
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]  # LibreOffice's own Python only

FILTER = "Calc MS Excel 2007 VBA XML"


def _properties(**values):
    props = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        props.append(prop)
    return tuple(props)


def _connect(pipe):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:  # NoConnectException until soffice listens
            time.sleep(0.5)
    raise RuntimeError("soffice did not accept a connection within 60 s")


def list_modules(path):
    pipe = f"corrlev_lo_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="corrlev_lo_profile_") as profile:
        soffice = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
             f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
             f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ctx = _connect(pipe)
            desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            # MacroExecutionMode 4 (always, no warning) makes LO import the VBA; nothing is run.
            doc = desktop.loadComponentFromURL(
                uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                _properties(Hidden=True, ReadOnly=True, MacroExecutionMode=4, FilterName=FILTER))
            if doc is None:
                raise RuntimeError(f"LibreOffice could not load {path}")
            result: dict[str, Any] = {
                "filter": next((a.Value for a in doc.getArgs() if a.Name == "FilterName"), None),
                "libraries": {}}
            libraries = doc.BasicLibraries
            for name in libraries.getElementNames():
                libraries.loadLibrary(name)
                library = libraries.getByName(name)
                result["libraries"][name] = {m: library.getByName(m) for m in library.getElementNames()}
            doc.close(True)
            try:
                desktop.terminate()
            except Exception:  # the bridge drops as soffice exits
                pass
            return result
        finally:
            try:
                soffice.wait(timeout=20)
            except subprocess.TimeoutExpired:
                soffice.terminate()
                soffice.wait(timeout=10)


if __name__ == "__main__":
    json.dump(list_modules(sys.argv[1]), sys.stdout)
