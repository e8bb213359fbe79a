"""Write a VBA project (``vbaProject.bin``) from source text, without Office.

Written from the specifications, standard library only:

- [MS-OVBA] 2.3 the ``PROJECT``, ``PROJECTwm``, ``VBA/dir`` and
  ``VBA/_VBA_PROJECT`` streams; 2.4.1 compression; 2.4.3 the "encryption" of
  the CMG/DPB/GC lines.
- [MS-CFB] version 3 (512-byte sectors), the OLE container holding them.

Modules are stored as source only: every MODULEOFFSET is 0 (no p-code) and
``_VBA_PROJECT`` has version 0xFFFF, which tells Office there is no valid
compiled cache, so it compiles the source on load. The ``xlwings.xlam``
shipped with xlwings (saved by Excel) has the same 7-byte ``_VBA_PROJECT``.
The optional ``__SRP_*`` cache streams and ``PROJECTlk`` are not written.

The output is deterministic: the same modules give the same bytes.
"""

from __future__ import annotations

import re
import struct
import uuid

__all__ = ["build_vba_project", "compress", "module_name", "write_compound_file"]

CODEPAGE = 1252
_CHUNK = 4096

# Registered type libraries of a default Excel project; Office resolves the
# LIBID through the registry, the path is only a hint.  IRibbonControl lives in
# the Office library.
_REFERENCES = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0"
               r"#C:\Windows\System32\stdole2.tlb#OLE Automation"),
    ("Office", r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0"
               r"#C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL"
               r"#Microsoft Office 16.0 Object Library"),
)
# VB_Base of Excel's document modules (the workbook and a worksheet)
_DOCUMENT_BASE = {
    "workbook": "0{00020819-0000-0000-C000-000000000046}",
    "worksheet": "0{00020820-0000-0000-C000-000000000046}",
}
_VB_NAME = re.compile(r'\s*Attribute\s+VB_Name\s*=\s*"([^"]+)"')


# -- MS-OVBA 2.4.1 compression ------------------------------------------------

def _copy_token_bits(difference: int) -> int:
    """Bits of a copy token that hold the offset, at ``difference`` bytes into a chunk (2.4.1.3.19.1)."""
    bits = 4
    while (1 << bits) < difference:
        bits += 1
    return bits


def _compress_chunk(data: bytes) -> bytes:
    """One CompressedChunk (header + body) for up to 4096 bytes: LZ77 with a 3-byte index."""
    out = bytearray()
    seen: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions in this chunk
    pos, end = 0, len(data)
    while pos < end:
        flag_at = len(out)
        out.append(0)
        for bit in range(8):
            if pos >= end:
                break
            bits = _copy_token_bits(pos)
            max_len = min((0xFFFF >> bits) + 3, end - pos)
            best_len, best_at = 0, 0
            for cand in reversed(seen.get(data[pos:pos + 3], ())):
                n = 0
                while n < max_len and data[cand + n] == data[pos + n]:
                    n += 1
                if n > best_len:
                    best_len, best_at = n, cand
                    if n == max_len:
                        break
            step = best_len if best_len >= 3 else 1
            if step > 1:  # copy token: (offset - 1, length - 3) packed by position
                out += struct.pack("<H", ((pos - best_at - 1) << (16 - bits)) | (best_len - 3))
                out[flag_at] |= 1 << bit
            else:  # literal
                out.append(data[pos])
            for p in range(pos, min(pos + step, end - 2)):
                seen.setdefault(data[p:p + 3], []).append(p)
            pos += step
    if len(out) <= _CHUNK:
        return struct.pack("<H", 0xB000 | (len(out) - 1)) + bytes(out)  # flag 1, signature 3, size - 3
    if len(data) < _CHUNK:
        # A raw chunk always decompresses to 4096 bytes; a short one would gain padding.
        raise ValueError("cannot compress an incompressible partial chunk without padding it")
    return struct.pack("<H", 0x3FFF) + data  # raw chunk


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer (2.4.1)."""
    return b"\x01" + b"".join(_compress_chunk(data[i:i + _CHUNK]) for i in range(0, len(data), _CHUNK))


# -- MS-OVBA 2.4.3 data encryption of the PROJECT stream's CMG/DPB/GC ---------

def _encrypt(data: bytes, project_id: str, seed: int) -> str:
    version, key = 2, sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ key])
    unencrypted_1, encrypted_1, encrypted_2 = key, seed ^ key, seed ^ version
    ignored = bytes((seed & 6) // 2)
    for byte in ignored + struct.pack("<I", len(data)) + data:
        encrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(encrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    return out.hex().upper()


# -- MS-CFB version 3 writer --------------------------------------------------

_FREE, _END_OF_CHAIN, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR, _MINI_SECTOR, _MINI_CUTOFF = 512, 64, 4096


class _Entry:
    def __init__(self, name: str, data: bytes | dict) -> None:
        if len(name) > 31:
            raise ValueError(f"compound-file names have at most 31 characters; got {name!r}")
        self.name = name
        self.data = data if isinstance(data, bytes) else b""
        self.children = [_Entry(k, v) for k, v in data.items()] if isinstance(data, dict) else []
        self.type = 1 if isinstance(data, dict) else 2  # storage, stream (the root is 5)
        self.left = self.right = self.child = _NO_STREAM
        self.sid = self.start = self.size = 0


def _pad(blob: bytes, size: int) -> bytes:
    return blob + b"\0" * (-len(blob) % size)


def _u32s(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def write_compound_file(tree: dict) -> bytes:
    """Compound-file bytes for ``tree``: {name: bytes (a stream) | dict (a storage)}."""
    root = _Entry("Root Entry", tree)
    root.type = 5
    entries: list[_Entry] = []

    def number(entry: _Entry) -> None:
        entry.sid = len(entries)
        entries.append(entry)
        for child in entry.children:
            number(child)

    def link(entry: _Entry) -> None:
        # Siblings form a balanced binary search tree in MS-CFB 2.6.4 order (name
        # length, then upper case), every node black: "the simplest implementation".
        kids = sorted(entry.children, key=lambda e: (len(e.name), e.name.upper()))

        def subtree(lo: int, hi: int) -> int:
            if lo >= hi:
                return _NO_STREAM
            mid = (lo + hi) // 2
            kids[mid].left, kids[mid].right = subtree(lo, mid), subtree(mid + 1, hi)
            return kids[mid].sid

        entry.child = subtree(0, len(kids))
        for kid in kids:
            link(kid)

    number(root)
    link(root)

    sectors = bytearray()
    fat: list[int] = []

    def allocate(blob: bytes) -> int:
        if not blob:
            return _END_OF_CHAIN
        first, n = len(fat), -(-len(blob) // _SECTOR)
        sectors.extend(_pad(blob, _SECTOR))
        fat.extend([*range(first + 1, first + n), _END_OF_CHAIN])
        return first

    # Streams under 4096 bytes live in the mini stream, in 64-byte mini sectors.
    mini, minifat = bytearray(), list[int]()
    for e in entries:
        if e.type != 2:
            continue
        e.size = len(e.data)
        if e.size == 0:
            e.start = _END_OF_CHAIN
        elif e.size < _MINI_CUTOFF:
            e.start, n = len(minifat), -(-e.size // _MINI_SECTOR)
            minifat.extend([*range(e.start + 1, e.start + n), _END_OF_CHAIN])
            mini.extend(_pad(e.data, _MINI_SECTOR))
        else:
            e.start = allocate(e.data)
    root.start, root.size = allocate(bytes(mini)), len(mini)
    minifat_bytes = _u32s(minifat + [_FREE] * (-len(minifat) % (_SECTOR // 4)))
    minifat_start = allocate(minifat_bytes)

    def directory_entry(e: _Entry | None) -> bytes:
        if e is None:
            return b"\0" * 68 + _u32s([_NO_STREAM] * 3) + b"\0" * 48
        name = e.name.encode("utf-16-le") + b"\0\0"
        return (name.ljust(64, b"\0") + struct.pack("<HBB", len(name), e.type, 1)  # 1 = black
                + _u32s([e.left, e.right, e.child]) + b"\0" * 36  # CLSID, state bits, times
                + struct.pack("<IQ", e.start, e.size))

    directory = b"".join(map(directory_entry, entries)) + directory_entry(None) * (-len(entries) % 4)
    directory_start = allocate(directory)

    n_fat = 0
    while n_fat * (_SECTOR // 4) < len(fat) + n_fat:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("the VBA project is too large for a header-only DIFAT (about 7 MB)")
    fat_start = len(fat)
    fat.extend([_FAT_SECTOR] * n_fat)
    fat.extend([_FREE] * (n_fat * (_SECTOR // 4) - len(fat)))
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16
              + struct.pack("<5H6x", 0x3E, 3, 0xFFFE, 9, 6)  # minor, major version, byte order, shifts
              + _u32s([0, n_fat, directory_start, 0, _MINI_CUTOFF,
                       minifat_start, len(minifat_bytes) // _SECTOR, _END_OF_CHAIN, 0])
              + _u32s([*range(fat_start, fat_start + n_fat)] + [_FREE] * (109 - n_fat)))
    return header + bytes(sectors) + _u32s(fat)


# -- vbaProject.bin -------------------------------------------------------------

def module_name(source: str) -> str:
    """The module name in a .bas file's ``Attribute VB_Name = "..."`` first line."""
    match = _VB_NAME.match(source)
    if match is None:
        raise ValueError('a .bas module must start with Attribute VB_Name = "<name>"')
    return match.group(1)


def _crlf(text: str) -> str:
    """CRLF line endings, as VBE stores them, ending with a line break."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (text if text.endswith("\n") else text + "\n").replace("\n", "\r\n")


def _document_module(name: str, kind: str) -> str:
    return _crlf(f'Attribute VB_Name = "{name}"\nAttribute VB_Base = "{_DOCUMENT_BASE[kind]}"\n'
                 "Attribute VB_GlobalNameSpace = False\nAttribute VB_Creatable = False\n"
                 "Attribute VB_PredeclaredId = True\nAttribute VB_Exposed = True\n"
                 "Attribute VB_TemplateDerived = False\nAttribute VB_Customizable = True\n")


def _record(rid: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def _names(rid: int, rid_unicode: int, name: str) -> bytes:
    return _record(rid, name.encode(f"cp{CODEPAGE}")) + _record(rid_unicode, name.encode("utf-16-le"))


def build_vba_project(modules: list[str], *, project_name: str,
                      documents: dict[str, str]) -> bytes:
    """``vbaProject.bin`` bytes for standard modules given as .bas text.

    Parameters
    ----------
    modules : list of str
        Source of each standard module, VBE export format (first line
        ``Attribute VB_Name = "<name>"``); any line endings.
    project_name : str
        The VBA project's name; must differ from every module name.
    documents : dict of str to str
        Document modules, code name -> ``"workbook"`` or ``"worksheet"``; the
        code names must match the ``codeName`` attributes of the workbook and
        sheet parts.
    """
    sources = {name: _document_module(name, kind) for name, kind in documents.items()}
    for source in modules:
        sources[module_name(source)] = _crlf(source)
    if project_name in sources:
        raise ValueError(f"the project name {project_name!r} must differ from every module name")
    project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "corrlev-xl/" + project_name)).upper() + "}"

    d = bytearray()  # the dir stream, MS-OVBA 2.3.4.2
    d += _record(0x01, struct.pack("<I", 1))  # SYSKIND: Win32, as in xlwings.xlam
    d += _record(0x02, struct.pack("<I", 0x409)) + _record(0x14, struct.pack("<I", 0x409))  # LCID(INVOKE)
    d += _record(0x03, struct.pack("<H", CODEPAGE))
    d += _record(0x04, project_name.encode(f"cp{CODEPAGE}"))
    d += _names(0x05, 0x40, "") + _names(0x06, 0x3D, "")  # docstring, help file
    d += _record(0x07, bytes(4)) + _record(0x08, bytes(4))  # help context, lib flags
    d += struct.pack("<HIIH", 0x09, 4, 1, 0)  # version 1.0 (its size field is fixed at 4)
    d += _names(0x0C, 0x3C, "")  # conditional-compilation constants
    for name, libid in _REFERENCES:
        lib = libid.encode(f"cp{CODEPAGE}")
        d += _names(0x16, 0x3E, name) + _record(0x0D, struct.pack("<I", len(lib)) + lib + bytes(6))
    d += _record(0x0F, struct.pack("<H", len(sources))) + _record(0x13, struct.pack("<H", 0xFFFF))
    for name in sources:
        d += _names(0x19, 0x47, name) + _names(0x1A, 0x32, name) + _names(0x1C, 0x48, "")
        d += _record(0x31, bytes(4))  # MODULEOFFSET 0: the stream is source only
        d += _record(0x1E, bytes(4)) + _record(0x2C, b"\xff\xff")  # help context, cookie
        d += _record(0x22 if name in documents else 0x21)  # document or procedural module
        d += _record(0x2B)
    d += _record(0x10)

    project = [f'ID="{project_id}"']
    project += [f"Document={n}/&H00000000" if n in documents else f"Module={n}" for n in sources]
    project += [f'Name="{project_name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
                f'CMG="{_encrypt(bytes(4), project_id, 0x5A)}"',  # not protected
                f'DPB="{_encrypt(bytes(1), project_id, 0x5B)}"',  # no password
                f'GC="{_encrypt(bytes([0xFF]), project_id, 0x5C)}"',  # visible
                "", "[Host Extender Info]",
                "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
                "", "[Workspace]", *(f"{n}=0, 0, 0, 0, C" for n in sources)]
    project_wm = b"".join(n.encode(f"cp{CODEPAGE}") + b"\0" + n.encode("utf-16-le") + b"\0\0"
                          for n in sources) + b"\0\0"
    vba = {"_VBA_PROJECT": bytes.fromhex("CC61FFFF000100"), "dir": compress(bytes(d))}
    vba |= {name: compress(source.encode(f"cp{CODEPAGE}")) for name, source in sources.items()}
    project_text = ("\r\n".join(project) + "\r\n").encode(f"cp{CODEPAGE}")
    return write_compound_file({"VBA": vba, "PROJECT": project_text, "PROJECTwm": project_wm})
