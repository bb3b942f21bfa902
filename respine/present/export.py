"""Exports: tables as CSV and Excel with spreadsheet formulas neutralised, figures as PNG and
SVG, and the Python code that reproduces an analysis.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by spreadsheet programs (CSV injection, OWASP); such text cells get a leading
apostrophe. Numbers are left alone (a negative number is data, not a formula).

Every exported table and figure says what it shows, inside the file (:func:`about_lines`): the
table's name, the study, the selection (population, subgroup filters, arms, data; see
:func:`respine.present.labels.selection_caption`) and, for synthetic data, a synthetic-data line.
A CSV starts with them as comment lines (``# ...``: ``pandas.read_csv(path, comment="#")`` reads
the table back); a workbook has them on a sheet of their own, "About", after the table's sheet; a
figure has the selection as its subtitle (:func:`respine.present.figures.captioned`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import pandas as pd

from respine.model.selection import Selection
from respine.present.labels import SYNTHETIC_MARK

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            float(value.replace("−", "-"))
            return value  # a signed number written as text is data, not a formula
        except ValueError:
            return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


COMMENT = "#"  # what starts a line of a CSV's header block (pandas.read_csv(comment="#"))
ABOUT_SHEET = "About"
SYNTHETIC_LINE = ("{mark}: these are not real patients; the study description marks the data as "
                  "synthetic.")


def about_lines(title: str, caption: str, *, study: str = "", synthetic: bool = False,
                measure: str = "") -> list[str]:
    """What an exported table says about itself, one line each: its ``title``, the ``study``, the
    endpoint and measure with its unit (``measure``, :func:`respine.present.labels.value_title`;
    a table's cells carry no unit), the selection it shows (``caption``,
    :func:`respine.present.labels.selection_caption`) and, for synthetic data, a line that says
    so. Empty parts are left out; line breaks in a part (a label from the data) become spaces, so
    that each part stays one line."""
    lines = [title, f"Study: {study}" if study else "", f"Endpoint: {measure}" if measure else "",
             f"Selection: {caption}" if caption else "",
             SYNTHETIC_LINE.format(mark=SYNTHETIC_MARK) if synthetic else ""]
    return [" ".join(line.split()) for line in lines if line.strip()]


def to_csv_bytes(frame: pd.DataFrame, about: Sequence[str] = ()) -> bytes:
    """The table as CSV (UTF-8 with a byte-order mark, which spreadsheet programs need to read
    UTF-8), after the ``about`` lines as comment lines ``# ...``.

    ``pandas.read_csv(path, comment="#")`` reads the table back (a cell that holds ``#`` would be
    cut there by that reader; the tables of this app have none).
    """
    head = "".join(f"{COMMENT} {' '.join(str(line).split())}\n" for line in about)
    return (head + safe_frame(frame).to_csv(index=False)).encode("utf-8-sig")


def to_excel_bytes(frame: pd.DataFrame, sheet: str = "Table", about: Sequence[str] = ()) -> bytes:
    """The table as an Excel workbook: the table on its own sheet (first, so a reader of the
    first sheet gets the table), and the ``about`` lines, one a row, on the sheet "About"."""
    buffer = io.BytesIO()
    name = sheet[:31] if sheet[:31] != ABOUT_SHEET else "Table"
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe_frame(frame).to_excel(writer, index=False, sheet_name=name)
        if about:
            lines = pd.DataFrame({ABOUT_SHEET: [neutralise(" ".join(str(line).split())) for line in about]})
            lines.to_excel(writer, index=False, sheet_name=ABOUT_SHEET)
    return buffer.getvalue()


def analysis_code(sel: Selection, data_path: str | None) -> str:
    """Python that reproduces an analysis with the public API, from the same data."""
    where = repr(data_path) if data_path else ""
    return (
        "from respine import ResponderRule, Selection, SubgroupFilter, analyze, load_trial\n\n"
        f"trial = load_trial({where})\n"
        f"selection = {sel!r}\n"
        "result = analyze(trial, selection)\n"
        "print(result.to_dict())\n"
    )


def page_code(calls: Sequence[tuple[Callable[..., object], Sequence[tuple[str, object]]]],
              data_path: str | None, *, uploaded: Sequence[str] = (), mapping_toml: str = "",
              show: bool = False,
              arm_choice: tuple[str | None, Sequence[str], Sequence[str]] | None = None) -> str:
    """Python that reruns every core call a page made, in order, from the same data.

    Parameters
    ----------
    calls : sequence of (function, arguments)
        Each core function the page called (its dotted path is read from ``__module__`` and
        ``__qualname__``) with its arguments after the trial, by name.
    data_path : str, optional
        The folder the data were loaded from (any layout :func:`respine.io.load_trial` reads:
        the product's, CDISC ADaM, a table with its mapping.toml); the shipped data when None
        and nothing was uploaded.
    uploaded : sequence of str
        The names of the uploaded files the data came from, when they came from an upload. An
        upload is not kept on the server, so the script cannot load it: it names the files, asks
        for the folder they are saved in (``PATH``) and fails with that message until it is given,
        never loading other data in their place.
    mapping_toml : str
        The column mapping chosen on the Data page for an uploaded table, written into the
        script as the ``mapping.toml`` to save beside the files.
    show : bool
        End with printing every result (what the page showed), for a script run on its own.
    arm_choice : (reference, arms, pool), optional
        The reader's choice of arms (:func:`respine.derive.arms.compared_trial`), applied to the
        loaded trial before the calls, as the page applied it; None or an empty choice: none.

    Returns
    -------
    str
        A script that imports the public API, loads the trial and assigns ``result_1``, ... .
    """
    paths = [(f"{fn.__module__}.{fn.__qualname__}", args) for fn, args in calls]
    modules = sorted({path.rsplit(".", 1)[0] for path, _ in paths})
    lines = ["import " + m for m in modules]
    lines += ["", "from respine import ResponderRule, Selection, SubgroupFilter, load_trial", ""]
    if uploaded:
        # one line of plain text: a file name may hold quotes or line breaks
        names = ", ".join(" ".join(n.split()) for n in uploaded)
        lines += [f"# These data were uploaded ({names}); uploads are not kept, so load them from a folder:",
                  f"# save the uploaded files {names} into one folder and replace PATH by that folder."]
        if mapping_toml:
            lines += ["# Save this column mapping beside them as mapping.toml:"]
            lines += [f"#   {line}" for line in mapping_toml.strip().splitlines()]
        lines += ['PATH = "PATH"', 'if PATH == "PATH":',
                  f"    raise SystemExit({f'Replace PATH by the folder holding {names}.'!r})",
                  "trial = load_trial(PATH)"]
    else:
        lines.append(f"trial = load_trial({repr(data_path) if data_path else ''})")
    if arm_choice is not None and (arm_choice[0] or arm_choice[1] or arm_choice[2]):
        reference, arms, pool = arm_choice
        lines += ["# the arms the page showed (its reference, arms shown and pooled arms):",
                  "from respine.derive.arms import compared_trial",
                  f"trial = compared_trial(trial, reference={reference or None!r}, arms={tuple(arms)!r}, "
                  f"pool={tuple(pool)!r})"]
    for i, (path, args) in enumerate(paths, start=1):
        rendered = ", ".join(["trial", *(f"{name}={value!r}" for name, value in args)])
        lines.append(f"result_{i} = {path}({rendered})")
    if show and paths:
        lines += ["", "import pandas as pd", "",
                  'pd.set_option("display.max_columns", None, "display.width", 250,',
                  '              "display.max_rows", None)']
        lines += [f'print("result_{i}", result_{i}, sep="\\n", end="\\n\\n")'
                  for i in range(1, len(paths) + 1)]
    return "\n".join(lines) + "\n"


# Publication size: 180 mm wide at 300 dpi is about 2100 px; SVG is vector and scales freely.
PUBLICATION = {"png": dict(width=1050, height=600, scale=2), "svg": dict(width=1050, height=600, scale=1)}
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def image_renderer() -> str | None:
    """The Chromium that renders static images (kaleido needs one), or None."""
    import os
    import shutil

    for path in (os.environ.get("RESPINE_CHROMIUM"), os.environ.get("BROWSER_PATH"), *CHROMIUM_CANDIDATES,
                 shutil.which("chromium"), shutil.which("google-chrome")):
        if path and os.path.exists(path):
            return path
    return None


def figure_image(fig: object, fmt: str, caption: str = "") -> bytes:
    """A figure as PNG (2100 x 1200 px) or SVG at publication size, rendered by kaleido in Chromium.

    A ``caption`` (what the figure shows, :func:`respine.present.labels.selection_caption`)
    becomes the image's subtitle (:func:`respine.present.figures.captioned`); a figure that
    already carries its caption is drawn as it is.

    Raises
    ------
    ExportError
        When no Chromium is installed (Debian: ``apt-get install chromium``).
    """
    import os

    import plotly.io as pio

    from respine.errors import RespineError

    browser = image_renderer()
    if browser is None:
        raise RespineError("PNG and SVG export needs Chromium; install it (Debian: apt-get install "
                           "chromium).")
    os.environ.setdefault("BROWSER_PATH", browser)
    if caption:
        from respine.present.figures import captioned

        fig = captioned(fig, caption)
    return pio.to_image(fig, format=fmt, **PUBLICATION[fmt])

