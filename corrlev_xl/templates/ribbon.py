"""The CorrLev ribbon add-in, ``corrlev.xlam``, built from its parts on any OS.

The package is written part by part with :mod:`zipfile` (openpyxl would drop
the customUI relationship) and is byte-identical on every build: fixed part
order, fixed timestamps, stored (uncompressed) entries, and a VBA project
from :mod:`corrlev_xl.templates.vba`.

- ``customUI/customUI14.xml``: one tab, one button per entry of
  :data:`corrlev_xl.names.RIBBON_BUTTONS`, every ``onAction`` the one VBA
  callback :data:`corrlev_xl.names.RIBBON_CALLBACK` (Excel 2010 or later).
- ``xl/vbaProject.bin``: ``vba/CorrLev.bas``, whose callback hands the button
  id to ``corrlev_xl.macros.on_ribbon`` through the xlwings add-in's RunPython.
- A workbook with one (hidden, as in every add-in) sheet; the code names of
  the workbook and the sheet match the VBA project's document modules.

Check a build with ``python -m corrlev_xl.templates.verify <path>``.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from corrlev_xl import names
from corrlev_xl.templates._xlsx import zip_parts
from corrlev_xl.templates.vba import build_vba_project

__all__ = ["ADDIN_NAME", "VBA_SOURCE", "build_addin", "customui_xml"]

ADDIN_NAME = "corrlev.xlam"
VBA_SOURCE = Path(__file__).parent / "vba" / "CorrLev.bas"
VBA_PROJECT_NAME = "CorrLevAddIn"  # must differ from the module name, CorrLev
VBA_DOCUMENTS = {"ThisWorkbook": "workbook", "Sheet1": "worksheet"}

_ICONS = {  # built-in Office images (imageMso) by button id
    "btnRebalance": "RecurrenceEdit",
    "btnRefreshCorr": "Refresh",
    "btnRiskReport": "ChartInsert",
    "btnConnect": "HyperlinkInsert",
    "btnImportFunctions": "FunctionWizard",
}
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = """<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.addin.macroEnabled.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>
<Override PartName="/docProps/core.xml" \
ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>"""
_ROOT_RELS = f"""<Relationships xmlns="{_PKG_RELS}">
<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>
<Relationship Id="rId2" Type="{_PKG_RELS}/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" \
Target="customUI/customUI14.xml"/>
</Relationships>"""
_CORE = """<cp:coreProperties \
xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>CorrLev ribbon add-in</dc:title><dc:creator>corrlev-xl</dc:creator>
</cp:coreProperties>"""
_WORKBOOK = f"""<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">
<workbookPr codeName="ThisWorkbook"/>
<bookViews><workbookView/></bookViews>
<sheets><sheet name="CorrLev" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
_WORKBOOK_RELS = f"""<Relationships xmlns="{_PKG_RELS}">
<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/>
<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" \
Target="vbaProject.bin"/>
</Relationships>"""
_SHEET = f'<worksheet xmlns="{_MAIN}"><sheetPr codeName="Sheet1"/><sheetData/></worksheet>'
_STYLES = f"""<styleSheet xmlns="{_MAIN}">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf/></cellStyleXfs>
<cellXfs count="1"><xf xfId="0"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def customui_xml() -> str:
    """The ribbon: a tab :data:`~corrlev_xl.names.RIBBON_TAB` with a button per ribbon entry."""
    buttons = "\n".join(
        f"        <button id={quoteattr(button_id)} label={quoteattr(label)} "
        f"imageMso={quoteattr(_ICONS.get(button_id, 'MacroPlay'))} size=\"large\" "
        f"onAction={quoteattr(names.RIBBON_CALLBACK)}/>"
        for button_id, (label, _handler) in names.RIBBON_BUTTONS.items())
    return (_DECLARATION
            + '<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui">\n'
            + "  <ribbon><tabs>\n"
            + f"    <tab id=\"corrlevTab\" label={quoteattr(names.RIBBON_TAB)}>\n"
            + '      <group id="corrlevGroup" label="Correlation leverage">\n'
            + f"{buttons}\n      </group>\n    </tab>\n  </tabs></ribbon>\n</customUI>\n")


def build_addin(out_dir: str | Path) -> Path:
    """Write ``corrlev.xlam`` into ``out_dir`` (created if missing) and return its path."""
    vba = build_vba_project([VBA_SOURCE.read_text(encoding="cp1252")],
                            project_name=VBA_PROJECT_NAME, documents=VBA_DOCUMENTS)
    xml = {"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _ROOT_RELS, "docProps/core.xml": _CORE,
           "xl/workbook.xml": _WORKBOOK, "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
           "xl/worksheets/sheet1.xml": _SHEET, "xl/styles.xml": _STYLES}
    parts = {name: (_DECLARATION + text).encode("utf-8") for name, text in xml.items()}
    parts["customUI/customUI14.xml"] = customui_xml().encode("utf-8")
    parts["xl/vbaProject.bin"] = vba
    path = Path(out_dir) / ADDIN_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_parts(parts.items(), date_time=(1980, 1, 1, 0, 0, 0), deflate=False))
    return path
