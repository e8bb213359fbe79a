"""Safe file output and bounded input for the headless report.

Two guarantees, each checked before any heavy work:

* **Nothing is lost.**  The copy is written to a temporary file in the target
  folder (``.corrlev-xl-tmp-*``) and only then given its name: with
  ``os.link``, which refuses a name that is taken, or, with ``--force``, with
  ``os.replace``, which swaps the directory entry in one step.  No existing
  file is ever opened for writing — not the output, not the input, not a
  link's target — so a symbolic or hard link can only lose its *name* (and only
  under ``--force``), never its target's contents.  The default name carries
  the time and a counter (``desk-report-20261201-171500.xlsx``,
  ``…-171500-2.xlsx``), so runs at the same second each keep their own file,
  and an interrupted run removes its temporary file.
* **Nothing unbounded is read.**  Before openpyxl sees a workbook, its zip
  central directory is read (:func:`check_workbook`): the declared
  uncompressed size of every part and of all parts together, and each
  worksheet's cells and the shared strings, counted while streaming their
  XML, are held to :class:`Limits`.  Python's zip
  reader never decompresses a part beyond its declared size, so the
  declaration bounds the work.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import io
import os
import re
import secrets
import stat
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .core import CorrLevError

TEMP_PREFIX = ".corrlev-xl-tmp-"
"""Temporary files start with this: a leftover one (after a ``kill -9``) is safe to delete."""

READABLE = (".xlsx", ".xlsm")
MB = 1024 * 1024

ENV_MAX_UNZIPPED = "CORRLEV_MAX_UNZIPPED_MB"
ENV_MAX_PART = "CORRLEV_MAX_PART_MB"
ENV_MAX_CELLS = "CORRLEV_MAX_CELLS"


@dataclass(frozen=True)
class Limits:
    """How large a workbook may be once decompressed.

    The defaults fit a 200-instrument × 2,500-day desk book (about 80 MB of
    XML and a million cells with its checks) about three times over; raise them
    with ``--max-unzipped-mb``, ``--max-part-mb``, ``--max-cells`` or the
    ``CORRLEV_MAX_*`` environment variables for a genuinely larger workbook.
    """

    unzipped_mb: float = 256.0  # all parts together, uncompressed (also bounds the file itself)
    part_mb: float = 128.0  # any one part (a sheet, the shared strings …), uncompressed
    cells: int = 4_000_000  # cells in all worksheets, counted in their XML; also the most a named range may span
    parts: int = 10_000  # zip entries (not configurable: a workbook has a few dozen)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **given: float | int | None) -> Limits:
        """Limits from the options given (not None), else the environment, else the defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, float | int] = {}
        for key, var, kind in (("unzipped_mb", ENV_MAX_UNZIPPED, float), ("part_mb", ENV_MAX_PART, float),
                               ("cells", ENV_MAX_CELLS, int)):
            value = given.get(key)
            if value is None and env.get(var, "").strip():
                try:
                    value = kind(env[var].replace("_", ""))
                except ValueError:
                    raise CorrLevError(f"{var}={env[var]!r} is not a number; unset it or give e.g. "
                                       f"{var}={getattr(cls, key):g}") from None
            if value is not None:
                if not value > 0 or value != value or value == float("inf"):
                    raise CorrLevError(f"the limit {key.replace('_', ' ')} must be a positive number; got {value}")
                values[key] = value
        return cls(**values)  # type: ignore[arg-type]


SHARED_STRINGS_CT = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
STRING_SLACK = 100_000  # shared strings beyond the cells that could use them


def count_elements(archive: zipfile.ZipFile, info: zipfile.ZipInfo, tag: bytes, root: bytes,
                   chunk_size: int = 4 * MB) -> int:
    """The ``<tag>`` elements of a part whose root element is ``root``, counted while streaming it.

    A prefixed namespace (``<x:worksheet …>``) prefixes the counted elements too.
    """
    tags = [b"<" + tag + b" ", b"<" + tag + b">", b"<" + tag + b"/>"]
    count, carry = 0, b""
    with archive.open(info) as part:
        chunk = part.read(max(chunk_size, 4096))
        m = re.search(rb"<([A-Za-z_][\w.-]*):" + root + rb"[\s>]", chunk[:4096])
        if m:
            tags = [b"<" + m.group(1) + b":" + t[1:] for t in tags]
        longest = max(map(len, tags))
        while chunk:
            data = carry + chunk
            # count each tag that ends in this chunk (one split across the last boundary included)
            count += sum(data.count(t, max(0, len(carry) - len(t) + 1)) for t in tags)
            carry = data[-(longest - 1):]
            chunk = part.read(chunk_size)
    return count


def count_cells(archive: zipfile.ZipFile, info: zipfile.ZipInfo, chunk_size: int = 4 * MB) -> int:
    """The ``<c>`` elements of a worksheet part (its declared ``<dimension>`` is not used: a sparse
    sheet overstates it, a hostile one understates it)."""
    return count_elements(archive, info, b"c", b"worksheet", chunk_size)


def _shared_strings_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The parts a reader takes for the shared strings: declared so in [Content_Types].xml, or so named."""
    declared: set[str] = set()
    try:
        types = archive.read("[Content_Types].xml")
    except KeyError:
        types = b""
    for m in re.finditer(rb"<(?:\w+:)?Override\b[^>]*>", types):
        if SHARED_STRINGS_CT in m.group(0):
            name = re.search(rb'PartName="/?([^"]+)"', m.group(0))
            if name:
                declared.add(name.group(1).decode("utf-8", "replace").lower())
    return [i for i in infos if i.filename.lower() in declared or i.filename.lower().endswith("sharedstrings.xml")]


def _mb(n: float) -> str:
    return f"{n / MB:,.1f} MB"


CellCounter = Callable[[zipfile.ZipFile, zipfile.ZipInfo], int]
Counted = Callable[[bytes, str], None]
_COUNTER: contextvars.ContextVar[tuple[CellCounter, Counted | None] | None] = contextvars.ContextVar(
    "corrlev_cell_counter", default=None)


@contextlib.contextmanager
def counting_cells_with(counter: CellCounter, counted: Counted | None = None) -> Iterator[None]:
    """Within the block, :func:`check_workbook` counts each worksheet's cells with ``counter``.

    ``counter(archive, info)`` returns what :func:`count_cells` would, and may
    take what else it needs from the part while it is decompressed anyway (the
    report's :class:`corrlev_xl.xlsxread.Scanner`: one pass over each sheet).
    ``counted(data, part)`` is told of each worksheet part once it is counted
    and, with every sheet counted so far and the shared strings, within the
    limits — so what it then reads of that part is bounded even if a sheet
    counted later is refused (the report reads its price sheet ahead).
    """
    token = _COUNTER.set((counter, counted))
    try:
        yield
    finally:
        _COUNTER.reset(token)


def check_workbook(data: bytes, name: str, limits: Limits) -> None:
    """Refuse a workbook that would expand beyond ``limits``, from its zip directory alone.

    ``data`` is the whole file; ``name`` is how messages call it.  Raises
    :class:`CorrLevError` naming the part, its size, the limit and the option
    that raises it.  The cells are counted by :func:`count_cells`, or the
    counter of :func:`counting_cells_with`.
    """
    how = "raise it with --max-{opt} or {env} if the workbook is genuine"
    if len(data) > limits.unzipped_mb * MB:
        raise CorrLevError(f"{name} is {_mb(len(data))}, above the limit of {limits.unzipped_mb:g} MB; "
                           + how.format(opt="unzipped-mb", env=ENV_MAX_UNZIPPED))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CorrLevError(f"{name} is not a readable .xlsx/.xlsm workbook (not a zip file: {exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.parts:
            raise CorrLevError(f"{name} has {len(infos):,} parts, above the limit of {limits.parts:,}; "
                               "it is not a workbook this report reads")
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > limits.part_mb * MB:
                raise CorrLevError(
                    f"{name}: its part {info.filename} expands to {_mb(info.file_size)} "
                    f"(from {_mb(info.compress_size)} in the file), above the limit of {limits.part_mb:g} MB "
                    "per part; " + how.format(opt="part-mb", env=ENV_MAX_PART))
        if total > limits.unzipped_mb * MB:
            raise CorrLevError(f"{name} expands to {_mb(total)}, above the limit of {limits.unzipped_mb:g} MB; "
                               + how.format(opt="unzipped-mb", env=ENV_MAX_UNZIPPED))
        strings = []  # counted first, so that each sheet counted can be said to be within the limits
        for info in _shared_strings_parts(archive, infos):
            try:
                strings.append((info, count_elements(archive, info, b"si", b"sst")))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                raise CorrLevError(f"{name} is not a readable .xlsx/.xlsm workbook "
                                   f"(part {info.filename}: {exc})") from None
        cells = 0
        counter, counted = _COUNTER.get() or (count_cells, None)
        sheets = [i for i in infos if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
        for info in sorted(sheets, key=lambda i: i.file_size):  # the smaller first: read ahead while the large count
            try:
                cells += counter(archive, info)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                raise CorrLevError(f"{name} is not a readable .xlsx/.xlsm workbook "
                                   f"(part {info.filename}: {exc})") from None
            if counted is not None and cells <= limits.cells \
                    and all(n <= min(cells + STRING_SLACK, limits.cells) for _i, n in strings):
                counted(data, info.filename)
        if cells > limits.cells:
            raise CorrLevError(f"{name}'s sheets hold {cells:,} cells, above the limit of {limits.cells:,}; "
                               + how.format(opt="cells", env=ENV_MAX_CELLS))
        for info, n in strings:
            if n > min(cells + STRING_SLACK, limits.cells):
                raise CorrLevError(f"{name}: its part {info.filename} lists {n:,} shared strings for "
                                   f"{cells:,} cells; a workbook uses at most one per cell, so it is not read "
                                   "(open and save it in Excel or LibreOffice to drop unused strings)")


def read_input(path: Path, limits: Limits) -> bytes:
    """The bytes of the workbook at ``path``, read once, after checking what it is and how large it may grow.

    Both openpyxl loads of the report read these bytes, so they see one
    version of the file even if it changes meanwhile.
    """
    if path.suffix.lower() not in READABLE:
        raise CorrLevError(f"{shown(path)} is not an .xlsx or .xlsm workbook; the report reads those "
                           "(save it as one in Excel first)")
    try:
        # O_NONBLOCK: a FIFO or device named like a workbook is refused, not waited on
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise CorrLevError(f"{shown(path)} does not exist") from None
    except OSError as exc:
        raise CorrLevError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise CorrLevError(f"{shown(path)} is a folder, not a workbook" if stat.S_ISDIR(st.st_mode)
                           else f"{shown(path)} is not a file")
    with os.fdopen(fd, "rb") as f:
        if st.st_size > limits.unzipped_mb * MB:
            raise CorrLevError(f"{shown(path)} is {_mb(st.st_size)}, above the limit of {limits.unzipped_mb:g} MB; "
                               f"raise it with --max-unzipped-mb or {ENV_MAX_UNZIPPED} if the workbook is genuine")
        try:
            data = f.read(int(limits.unzipped_mb * MB) + 1)
        except OSError as exc:
            raise CorrLevError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    check_workbook(data, shown(path), limits)
    return data


REBUILT = ("xl/calcChain.xml",)  # parts Excel rebuilds on its own: leaving them out loses nothing


def parts_left_out(data: bytes, written: Path) -> list[str]:
    """The parts of the input (its bytes) that the written copy does not carry, which openpyxl can drop."""
    with zipfile.ZipFile(io.BytesIO(data)) as before, zipfile.ZipFile(written) as after:
        kept = {n.lower() for n in after.namelist()}
        return [n for n in before.namelist()
                if n.lower() not in kept and not n.endswith("/") and n not in REBUILT]


_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*?/?>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')


def restore_package_relationships(data: bytes, written: Path) -> list[str]:
    """Put back the input's package relationships (``_rels/.rels``) that openpyxl drops, such as a
    ribbon's customUI, when their part is in the copy; returns the targets put back.

    openpyxl carries a macro workbook's extra parts but writes its own ``_rels/.rels``, so
    without this the copy would hold the ribbon's XML with nothing pointing at it.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as before:
        try:
            old = before.read("_rels/.rels")
        except KeyError:
            return []
    with zipfile.ZipFile(written) as after:
        names = set(after.namelist())
        new = after.read("_rels/.rels") if "_rels/.rels" in names else b""
    have = {dict(_ATTR.findall(m.group(0))).get(b"Target", b"").lstrip(b"/") for m in _RELATIONSHIP.finditer(new)}
    ids = {dict(_ATTR.findall(m.group(0))).get(b"Id") for m in _RELATIONSHIP.finditer(new)}
    missing, put_back = [], []
    for m in _RELATIONSHIP.finditer(old):
        attrs = dict(_ATTR.findall(m.group(0)))
        target = attrs.get(b"Target", b"").lstrip(b"/")
        if target and target not in have and target.decode("utf-8", "replace") in names \
                and attrs.get(b"TargetMode") != b"External":
            rid, k = attrs.get(b"Id", b"rIdKept"), 1
            while rid in ids:
                rid, k = b"rIdKept%d" % k, k + 1
            ids.add(rid)
            missing.append(b'<Relationship Id="%s" Type="%s" Target="%s"/>' % (rid, attrs.get(b"Type", b""), target))
            put_back.append(target.decode("utf-8", "replace"))
    if not missing or b"</Relationships>" not in new:
        return []
    rels = new.replace(b"</Relationships>", b"".join(missing) + b"</Relationships>")
    fresh = _new_temp(written.parent, written.suffix)
    try:
        with zipfile.ZipFile(written) as src, zipfile.ZipFile(fresh, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                out.writestr(info, rels if info.filename == "_rels/.rels" else src.read(info))
        os.replace(fresh, written)  # both are this run's own temporary files
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(fresh)
        raise
    return put_back


def output_suffix(src: Path) -> str:
    """The copy keeps what the input holds: ``.xlsm`` (with its VBA project) for a macro workbook."""
    return ".xlsm" if src.suffix.lower() == ".xlsm" else ".xlsx"


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of what ``path`` names, following links; None when nothing is there."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return st.st_dev, st.st_ino


@dataclass
class Output:
    """Where the report's copy goes: validated names, and the temporary file it is written to.

    Made by :func:`prepare_output`; :meth:`publish` gives the finished temporary
    file its name; :meth:`discard` (always called, see :func:`output_for`)
    removes it if it was not published.
    """

    folder: Path
    names: Iterator[str]
    explicit: bool
    force: bool
    temp: Path
    published: Path | None = None
    _first: str = field(default="")
    _temp_live: bool = True

    def publish(self) -> Path:
        """Give the written temporary file its final name; never replaces a file unless forced."""
        with open(self.temp, "rb") as f:  # durable before it has a name
            os.fsync(f.fileno())
        if self.explicit and self.force:
            dest = self.folder / self._first
            try:
                st = os.lstat(dest)
                if stat.S_ISREG(st.st_mode):  # a replaced file keeps its permissions
                    os.chmod(self.temp, stat.S_IMODE(st.st_mode))
            except FileNotFoundError:
                pass
            try:
                os.replace(self.temp, dest)
            except OSError as exc:
                raise CorrLevError(f"cannot write {shown(dest)}: {exc.strerror or exc}") from None
            self._temp_live = False
            self.published = dest
        else:
            for name in self.names:
                dest = self.folder / name
                try:
                    _link_or_copy_new(self.temp, dest)
                except FileExistsError:
                    if self.explicit:
                        raise CorrLevError(f"{shown(dest)} appeared while the report ran; nothing was replaced "
                                           "(choose another name, or add --force to replace it)") from None
                    continue
                except OSError as exc:
                    raise CorrLevError(f"cannot write {shown(dest)}: {exc.strerror or exc}") from None
                self.published = dest
                break
            else:
                raise CorrLevError(f"every report name for this second is taken in {shown(self.folder)}; "
                                   "give one with -o")
            self.discard()
        _fsync_dir(self.folder)
        return self.published

    def discard(self) -> None:
        """Remove the temporary file (once; its name may be reused by another run afterwards)."""
        if self._temp_live:
            self._temp_live = False
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp)


def _link_or_copy_new(temp: Path, dest: Path) -> None:
    """``dest`` becomes a second name of ``temp``; refused (FileExistsError) if ``dest`` is taken.

    Where the file system has no hard links, ``dest`` is created exclusively
    and filled from ``temp`` instead (still never replacing a file, but a
    reader could see it half-written).
    """
    try:
        os.link(temp, dest, follow_symlinks=False)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                             errno.ENOSYS, errno.EACCES):
            raise
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out, open(temp, "rb") as src:
            while chunk := src.read(MB):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(dest)
        raise


def write_new(dest: Path, data: bytes) -> None:
    """Write ``data`` as the new file ``dest``, whole or not at all; FileExistsError if ``dest`` is taken.

    The bytes go to a temporary file beside ``dest`` first, which then gets
    the name (as the report's copy does), so an interrupted write leaves no
    half file that would block the next attempt.
    """
    temp = _new_temp(dest.parent, dest.suffix)
    try:
        temp.write_bytes(data)
        with open(temp, "rb") as f:
            os.fsync(f.fileno())
        _link_or_copy_new(temp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _default_names(stem: str, when_text: str, suffix: str, name_max: int, kind: str = "report") -> Iterator[str]:
    tail = f"-{kind}-{when_text}"
    room = name_max - len(os.fsencode(tail + "-9999" + suffix))
    raw = os.fsencode(stem)
    if len(raw) > room:  # a very long input name: shorten it, at a character boundary
        stem = raw[: max(room, 1)].decode(sys.getfilesystemencoding(), errors="ignore") or "workbook"
    yield f"{stem}{tail}{suffix}"
    for k in range(2, 10_000):
        yield f"{stem}{tail}-{k}{suffix}"


def _new_temp(folder: Path, suffix: str) -> Path:
    """An empty file of our own in ``folder``, created exclusively, with the permissions the umask gives."""
    while True:
        temp = folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}{suffix}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temp


def prepare_output(src: Path, out: str | Path | None, *, force: bool, when_text: str,
                   cwd: Path | None = None, kind: str = "report") -> Output:
    """Validate where the copy of ``src`` goes and create its temporary file there.

    ``out`` is the ``-o`` given, or None for ``./<stem>-<kind>-<when_text><suffix>``
    (``kind`` is ``report`` or ``connected``).
    Every refusal is a :class:`CorrLevError` saying what to change; on success
    the caller must write the temporary file and :meth:`Output.publish` or
    :meth:`Output.discard` it (:func:`output_for` does both).
    """
    suffix = output_suffix(src)
    src_id = _identity(src)
    if out is None:
        try:
            folder = cwd or Path.cwd()
        except FileNotFoundError:
            raise CorrLevError("the current folder no longer exists; cd into one, or give -o OUT") from None
        names: Iterator[str] = _default_names(src.stem, when_text, suffix, _name_max(folder), kind)
        first, explicit = "", False
    else:
        folder, first, explicit = _check_explicit(out, src, src_id, suffix, force=force)
        names = iter([first])
    try:
        temp = _new_temp(folder, suffix)
    except OSError as exc:
        raise CorrLevError(f"cannot write in the folder {shown(folder)} ({exc.strerror or exc}); "
                           "choose a writable folder with -o") from None
    return Output(folder=folder, names=names, explicit=explicit, force=force, temp=temp, _first=first)


def one_line(text: str) -> str:
    """``text`` with its control characters (newlines too) escaped, so a message stays one line."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def shown(path: str | Path, most: int = 200) -> str:
    """A path as a message shows it: on one line, a very long one shortened."""
    text = one_line(os.fspath(path))
    return text if len(text) <= most else f"{text[:most // 2]}…{text[-most // 3:]}"


def _short(text: str) -> str:
    return shown(text, 80)


def _check_explicit(out_given: str | Path, src: Path, src_id: tuple[int, int] | None, suffix: str,
                    *, force: bool) -> tuple[Path, str, bool]:
    text = os.fspath(out_given)  # as typed: Path() would drop a trailing "/"
    out = Path(text)
    said = _short(text)
    example = f"{src.stem}-report{suffix}"
    try:
        if not text:
            raise CorrLevError(f"-o needs a file name, e.g. -o {example}")
        folder = out.parent
        name = out.name
        limit = _name_max(folder) if folder.is_dir() else 255
        if len(os.fsencode(name)) > limit:
            raise CorrLevError(f"-o {said}: the file name is {len(os.fsencode(name))} bytes, above this "
                               f"file system's limit of {limit}; choose a shorter name")
        if text.endswith(os.sep) or (os.altsep and text.endswith(os.altsep)) or out.is_dir():
            what = "is a folder" if out.is_dir() else "ends in a separator, so it names a folder"
            raise CorrLevError(f"-o {said} {what}; give a file name, e.g. -o {shown(os.path.join(text, example))}")
        if out.suffix.lower() != suffix:
            why = ("the input has macros (.xlsm) and the copy keeps them" if suffix == ".xlsm"
                   else "the copy is an Excel workbook without macros")
            raise CorrLevError(f"-o {said}: {why}, so its name must end in {suffix}")
        if not folder.is_dir():
            if folder.exists():
                raise CorrLevError(f"-o {said}: {shown(folder)} is not a folder")
            raise CorrLevError(f"-o {said}: the folder {shown(folder)} does not exist; create it first "
                               "(the report creates no folders)")
        dest_id = _identity(out)
        if (dest_id is not None and dest_id == src_id) or out.resolve() == src.resolve():
            other = " under another name or link" if out.absolute() != src.absolute() else ""
            raise CorrLevError(f"-o {said} is the input workbook itself{other}; the output must be a "
                               "different file from the input workbook — choose another name")
        if out.is_symlink():
            if not force:
                raise CorrLevError(f"-o {said} is a symbolic link (to {shown(os.readlink(out))}); the report does not "
                                   "write through links: choose another name, or add --force to replace the "
                                   "link itself (its target is left alone)")
        elif os.path.lexists(out) and not force:
            raise CorrLevError(f"-o {said} already exists; choose another name, or add --force to replace it")
    except OSError as exc:
        raise CorrLevError(f"cannot use -o {said}: {exc.strerror or exc}") from None
    return folder, name, True


@contextlib.contextmanager
def output_for(src: Path, out: str | Path | None, *, force: bool, when_text: str,
               kind: str = "report") -> Iterator[Output]:
    """:func:`prepare_output` whose temporary file is removed however the block ends."""
    target = prepare_output(src, out, force=force, when_text=when_text, kind=kind)
    try:
        yield target
    finally:
        target.discard()
