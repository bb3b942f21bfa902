"""Data files as the loaders see them: a name plus bytes (an upload) or a path (a folder).

Uploads stay in memory: they are parsed from their bytes and never written to a folder. The
one exception is a SAS transport file of version 8, which only the ReadStat library reads and
which it reads from a path: it is written to a private temporary file that is deleted as soon as
it has been read.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from respine.errors import DataError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet", ".xpt", ".sas7bdat")
STUDY_SUFFIXES = (".toml", ".json")
ARCHIVE_SUFFIXES = (".zip",)
MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # also server.maxUploadSize in .streamlit/config.toml
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


@dataclass(frozen=True, eq=False)
class DataFile:
    """One data file: ``name`` plus either ``data`` (bytes) or ``path``."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    @property
    def stem(self) -> str:
        return Path(self.name).stem.lower()

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else (self.path.stat().st_size if self.path else 0)

    def raw(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def source(self) -> io.BytesIO | Path:
        return io.BytesIO(self.data) if self.data is not None else self.path  # type: ignore[return-value]


def folder_files(folder: Path) -> dict[str, DataFile]:
    """Files of a folder by lower-case name (read lazily from disk); a single file stands alone.

    A path to one file (``respine validate trial.csv``) gives that file only, so its own problems
    (empty, not a table, no layout it could belong to) are reported rather than "not a folder".
    """
    if folder.is_file():
        return {folder.name.lower(): DataFile(folder.name, path=folder)}
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder or a file. Point to the folder that holds the data "
                        "files.")
    return {
        p.name.lower(): DataFile(p.name, path=p)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in (*TABLE_SUFFIXES, *STUDY_SUFFIXES, *ARCHIVE_SUFFIXES)
    }


def unpack_archives(available: dict[str, DataFile],
                    limit: int) -> tuple[dict[str, DataFile], list[tuple[str, str]]]:
    """The files with every ZIP archive among them replaced by the data files it holds.

    A trial sent as one ``.zip`` is read as if it had been unpacked into the folder (members in
    sub-folders by their own name). Returns the files and, per archive, its name and a note naming
    what was read from it, for the validation report.

    Raises
    ------
    DataError
        For an archive that cannot be read, is encrypted, holds another archive, would unpack to
        more than ``limit`` bytes, or holds a file of the same name as another one.
    """
    out = {k: f for k, f in available.items() if f.suffix not in ARCHIVE_SUFFIXES}
    notes: list[tuple[str, str]] = []
    for archive in (f for f in available.values() if f.suffix in ARCHIVE_SUFFIXES):
        try:
            with zipfile.ZipFile(io.BytesIO(archive.raw())) as zf:
                # macOS adds __MACOSX/ and dot files to an archive it makes: not data
                members = [i for i in zf.infolist() if not i.is_dir() and "__MACOSX" not in i.filename
                           and not Path(i.filename).name.startswith(".")]
                if any(i.flag_bits & 0x1 for i in members):
                    raise DataError(f"{archive.name} is encrypted; unpack it with its password and give "
                                    "the files themselves.")
                if sum(i.file_size for i in members) > limit:
                    raise DataError(f"{archive.name} unpacks to more than {limit / 2**20:.0f} MB; unpack it "
                                    "and give only the datasets the explorer needs.")
                read, skipped = [], []
                for info in members:
                    name = Path(info.filename).name
                    suffix = Path(name).suffix.lower()
                    if suffix in ARCHIVE_SUFFIXES:
                        raise DataError(f"{archive.name} holds another archive ({info.filename}); unpack "
                                        "both and give the data files themselves.")
                    if suffix not in (*TABLE_SUFFIXES, *STUDY_SUFFIXES):
                        skipped.append(info.filename)
                        continue
                    if name.lower() in out:
                        raise DataError(f"{archive.name} holds {info.filename}, and another file named "
                                        f"{name} is given too; keep one of them.")
                    out[name.lower()] = DataFile(name, data=zf.read(info))
                    read.append(info.filename)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
            raise DataError(f"{archive.name} cannot be read as a ZIP archive ({exc}); unpack it yourself "
                            "and give the files it holds.") from exc
        if not read:
            raise DataError(f"{archive.name} holds no data file (CSV, Excel, Parquet, SAS, study.toml); "
                            "check that it is the right archive.")
        note = f"{archive.name} was unpacked and read: {', '.join(read)}."
        if skipped:
            note += f" Not data files, so not read: {', '.join(skipped[:10])}."
        notes.append((archive.name, note))
    return out, notes


def _utf16(raw: bytes) -> str | None:
    """The codec of UTF-16 text (with a byte-order mark, or ASCII text with every other byte zero),
    else None. Excel's "Unicode text" and many Windows tools write it."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = raw[:400]
    if len(head) >= 4 and len(head) % 2 == 0:
        if head[1::2].count(0) > 0.9 * (len(head) // 2) and head[0::2].count(0) == 0:
            return "utf-16-le"
        if head[0::2].count(0) > 0.9 * (len(head) // 2) and head[1::2].count(0) == 0:
            return "utf-16-be"
    return None


def text_of(file: DataFile) -> tuple[str, str | None]:
    """Decode a text file; returns (text, note) where note names a fallback encoding used."""
    raw = file.raw()
    utf16 = _utf16(raw)
    if utf16 is not None:
        try:
            return raw.decode(utf16).lstrip("\ufeff"), (f"{file.name} is UTF-16 text; it was read as such. "
                                                         "Save it as UTF-8 CSV to avoid this note.")
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: try the others
    for enc in ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        note = None if enc == "utf-8-sig" else f"{file.name} is not UTF-8; it was read as {enc}."
        return text, note
    raise DataError(f"{file.name}: the text encoding is not recognised; save it as UTF-8.")


def read_table(file: DataFile, notes: list[str] | None = None, sheet: str = "") -> pd.DataFrame:
    """Read one table by its extension: CSV/TSV/TXT (any delimiter), Excel, Parquet, SAS.

    ``sheet`` names the sheet of an Excel workbook to read; by default the first visible one, and
    ``notes`` says which was read when the workbook has several or hides some.

    Raises
    ------
    DataError
        With the file name, what went wrong and how to fix it.
    """
    suffix = file.suffix
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            text, note = text_of(file)
            if note and notes is not None:
                notes.append(note)
            if not text.strip():
                raise DataError(f"{file.name} is empty. Export the table again with a header row.")
            head = text[:4096]
            control = sum(1 for ch in head if ord(ch) < 32 and ch not in "\r\n\t")
            if control > len(head) / 20:
                raise DataError(f"{file.name} does not look like a text table: it contains binary data. "
                                "Export it as CSV, or upload it with its real extension (.xlsx, .xpt, ...).")
            if "\x00" in text:  # one stray NUL byte: the C parser would cut the line there
                line = text.count("\n", 0, text.index("\x00")) + 1
                raise DataError(f"{file.name} holds a NUL byte (an invisible control character) on line "
                                f"{line}; remove it (or export the table again as CSV).")
            frame = pd.read_csv(
                io.StringIO(text),
                sep=_delimiter(text),  # sniffed once; the C parser is many times faster than sep=None
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=True,
            )
            frame = frame.apply(_numeric_if_possible)
        elif suffix in (".xlsx", ".xls"):
            frame = _read_excel(file, sheet, notes)
        elif suffix == ".parquet":
            frame = pd.read_parquet(file.source())
        elif suffix in (".xpt", ".sas7bdat"):
            frame = _read_sas(file)
        else:
            raise DataError(
                f"{file.name}: unsupported file type. Use CSV, TSV, Excel (.xlsx), Parquet, "
                "SAS transport (.xpt) or SAS (.sas7bdat)."
            )
    except DataError:
        raise
    except (
        ValueError,
        OSError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        KeyError,
        ImportError,
        EOFError,
        zipfile.BadZipFile,
        csv.Error,
    ) as exc:
        kind = {
            ".xlsx": "an Excel workbook",
            ".xls": "an Excel workbook",
            ".xpt": "a SAS transport file",
            ".sas7bdat": "a SAS dataset",
            ".parquet": "a Parquet file",
        }.get(suffix, "a delimited text file")
        raise DataError(
            f"{file.name} cannot be read as {kind} ({str(exc).splitlines()[0][:160]}). "
            "Check that the file is complete and of the type its extension says."
        ) from exc
    names = [str(c) for c in frame.columns]
    # pandas renames a repeated header "sex" to "sex.1": report the original duplicate.
    mangled = {m.group(1) for c in names if (m := re.fullmatch(r"(.+)\.(\d+)", c)) and m.group(1) in names}
    if frame.columns.duplicated().any() or mangled:
        dup = sorted(set(frame.columns[frame.columns.duplicated()]) | mangled)
        raise DataError(f"{file.name} has duplicated column names {dup}; give each column a unique name.")
    return frame


def excel_sheets(file: DataFile) -> dict[str, str]:
    """The sheets of an .xlsx workbook, in the workbook's order, each with its state: "visible",
    "hidden" or "veryHidden" (hidden so that only a macro can show it). Other files: none.

    Raises
    ------
    DataError
        When the workbook cannot be read.
    """
    if file.suffix != ".xlsx":
        return {}
    import openpyxl  # type: ignore[import-untyped]  # no annotations; only sheet names are read

    try:
        book = openpyxl.load_workbook(file.source(), read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(f"{file.name} cannot be read as an Excel workbook ({reason}). "
                        "Check that the file is complete and of the type its extension says.") from exc
    try:
        return {ws.title: ws.sheet_state for ws in book.worksheets}
    finally:
        book.close()


def sheet_label(name: str, state: str) -> str:
    """A sheet as a list names it: hidden ones say so."""
    return f"'{name}'" + ("" if state == "visible" else " (hidden)")


def excel_sheets_text(file: DataFile) -> str:
    """"3 sheets: 'Data', 'Old' (hidden), 'Notes'": the sheets of a workbook, for a report."""
    states = excel_sheets(file)
    return f"{len(states)} sheet{'s' if len(states) != 1 else ''}: " + ", ".join(
        sheet_label(n, st) for n, st in states.items())


def _read_excel(file: DataFile, sheet: str, notes: list[str] | None) -> pd.DataFrame:
    """One sheet of a workbook: ``sheet`` if named, else the first visible one; a workbook with
    several sheets, or hidden ones, gets a note saying which was read and how to choose."""
    if file.suffix != ".xlsx":  # .xls: no sheet states to read; pandas reads the first sheet
        return pd.read_excel(file.source(), sheet_name=sheet or 0)
    states = excel_sheets(file)
    visible = [name for name, state in states.items() if state == "visible"]
    listed = ", ".join(sheet_label(n, st) for n, st in states.items())
    if sheet:
        if sheet not in states:
            raise DataError(f"{file.name} has no sheet '{sheet}' (sheets: {listed}); name one of them in "
                            "the mapping's sheet = \"...\".")
        chosen = sheet
    elif visible:
        chosen = visible[0]
    else:
        raise DataError(f"{file.name} has only hidden sheets ({listed}); unhide the data sheet or name it "
                        "in the mapping's sheet = \"...\".")
    if notes is not None and not sheet and len(states) > 1:
        notes.append(f"{file.name} has {len(states)} sheets ({listed}); sheet '{chosen}' was read. To read "
                     "another, name it in mapping.toml as sheet = \"...\" (or choose it on the Load data "
                     "page, or give --sheet on the command line).")
    return pd.read_excel(file.source(), sheet_name=chosen)


def _delimiter(text: str) -> str:
    """The delimiter of a text table, from its first lines: comma, semicolon, tab or pipe."""
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(",;\t|", key=header.count) if header else ","


def _numeric_if_possible(column: pd.Series) -> pd.Series:
    """A text column whose every non-empty cell is a number becomes numeric; others stay text.

    A column with a number written with a leading zero ("007", a subject or site code) stays text:
    as a number it would silently become another identifier ("7")."""
    if column.astype(str).str.match(r"^\s*[+-]?0\d").any():
        return column.astype(object).where(column.notna(), None)
    try:
        return pd.to_numeric(column)
    except (ValueError, TypeError):
        return column.astype(object).where(column.notna(), None)


#: What pandas' transport (v5) reader returns for a stored 0: the IBM hex float 16**-65, because it
#: decodes the zero's exponent bits as a number. No clinical value is that small, so every value equal
#: to it is the 0 the file holds (a CNSR of 0, an event, read as "not 0" would turn events into errors).
IBM_ZERO_ARTEFACT = 16.0 ** -65


def _ibm_zeros(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with pandas' decoding of transport zeros (:data:`IBM_ZERO_ARTEFACT`) set to 0."""
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            values = frame[col]
            frame[col] = values.where(values.abs() != IBM_ZERO_ARTEFACT, 0.0)
    return frame


def _read_sas(file: DataFile) -> pd.DataFrame:
    fmt = "xport" if file.suffix == ".xpt" else "sas7bdat"
    try:  # pandas reads transport v5 and sas7bdat from memory
        frame = pd.read_sas(file.source(), format=fmt, encoding="latin-1")
        return _ibm_zeros(frame) if fmt == "xport" else frame
    except (ValueError, OSError, EOFError) as first:
        if fmt != "xport":
            raise
        import pyreadstat  # transport v8: ReadStat, which reads from a path

        try:
            if file.path is not None:
                frame, _ = pyreadstat.read_xport(str(file.path))
                return frame
            fd, tmp = tempfile.mkstemp(suffix=".xpt")  # private (0600), removed at once
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(file.raw())
                frame, _ = pyreadstat.read_xport(tmp)
                return frame
            finally:
                os.unlink(tmp)
        except pyreadstat.ReadstatError as exc:
            raise ValueError(f"{first}; {exc}") from exc

