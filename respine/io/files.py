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
    """Files of a folder by lower-case name (read lazily from disk)."""
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder. Point to the folder that holds the data files.")
    return {
        p.name.lower(): DataFile(p.name, path=p)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in (*TABLE_SUFFIXES, *STUDY_SUFFIXES)
    }


def text_of(file: DataFile) -> tuple[str, str | None]:
    """Decode a text file; returns (text, note) where note names a fallback encoding used."""
    raw = file.raw()
    for enc in ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        note = None if enc == "utf-8-sig" else f"{file.name} is not UTF-8; it was read as {enc}."
        return text, note
    raise DataError(f"{file.name}: the text encoding is not recognised; save it as UTF-8.")


def read_table(file: DataFile, notes: list[str] | None = None) -> pd.DataFrame:
    """Read one table by its extension: CSV/TSV/TXT (any delimiter), Excel, Parquet, SAS.

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
            if "\x00" in head or control > len(head) / 20:
                raise DataError(f"{file.name} does not look like a text table: it contains binary data. "
                                "Export it as CSV, or upload it with its real extension (.xlsx, .xpt, ...).")
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
            frame = pd.read_excel(file.source())
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


def _delimiter(text: str) -> str:
    """The delimiter of a text table, from its first lines: comma, semicolon, tab or pipe."""
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(",;\t|", key=header.count) if header else ","


def _numeric_if_possible(column: pd.Series) -> pd.Series:
    """A text column whose every non-empty cell is a number becomes numeric; others stay text."""
    try:
        return pd.to_numeric(column)
    except (ValueError, TypeError):
        return column.astype(object).where(column.notna(), None)


def _read_sas(file: DataFile) -> pd.DataFrame:
    fmt = "xport" if file.suffix == ".xpt" else "sas7bdat"
    try:  # pandas reads transport v5 and sas7bdat from memory
        return pd.read_sas(file.source(), format=fmt, encoding="latin-1")
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

