"""Load data: upload files (product layout, CDISC ADaM, or any table with a column mapping)."""

import streamlit as st

from respine.io.files import ARCHIVE_SUFFIXES, MAX_UPLOAD_BYTES, STUDY_SUFFIXES, TABLE_SUFFIXES
from respine.io.mapping import ColumnMapping
from respine.present.fmt import md_escape as md
from respine.ui import data, render
from respine.ui.context import page_context

trial = page_context().study  # the study as loaded, whatever arms the view compares
design = trial.design

st.title("Load data")
kind = "synthetic twin" if trial.synthetic else "study data"
st.info(
    f"Now exploring **{md(design.title or design.id)}** ({kind}): {len(trial.subjects)} subjects, "
    f"arms {md(', '.join(design.arms))}, {len(design.endpoints)} endpoints. Source: {md(trial.source)}.",
    icon=":material/database:",
)
if data.LOADED in st.session_state:
    st.button("Back to the shipped data", on_click=data.back_to_default, icon=":material/undo:")

st.subheader("Upload")
st.markdown(
    "Any of: the product's own layout (`study.toml`, `subjects.csv`, `measurements.csv`, "
    "`adverse_events.csv`); a CDISC ADaM study (`adsl` plus BDS datasets such as `adqsadas`, and "
    "`adae`) as .xpt, .sas7bdat, .parquet or .csv; or one table (CSV/TSV, Excel) whose columns you "
    "map below. Files stay in this browser session's memory only: they are not stored and no other "
    f"session can see them. Limit: {MAX_UPLOAD_BYTES // 2**20} MB in all."
)
st.file_uploader(
    "Data files",
    accept_multiple_files=True,
    key=data.UPLOAD_KEY,
    type=[s.lstrip(".") for s in (*TABLE_SUFFIXES, *STUDY_SUFFIXES, *ARCHIVE_SUFFIXES)],
)
rules = data.record_rule_options()
st.selectbox(
    "ADaM studies: the record kept per subject, parameter and visit",
    list(rules),
    format_func=rules.__getitem__,
    key=data.RECORD_RULE_KEY,
    help="Applied to every BDS dataset when several records share a subject, parameter and visit "
    "(time points, AVERAGE or LOCF records, repeated visits); the report below counts what each "
    "rule kept and left out.",
)
st.button("Load these files", on_click=data.on_load_clicked, type="primary", icon=":material/upload:")

root = data.folder_root()
if root is not None:
    st.text_input(f"Or open a folder under {md(root)}", key="folder_path", placeholder="study-folder")
    st.button("Open folder", on_click=data.on_folder_clicked)

report = st.session_state.get(data.REPORT)
if report:
    problems = report["problems"]
    errors, warnings, notes = data.report_counts(problems)
    if not report["ok"]:
        st.error(
            f"Nothing was loaded from {md(report['what'])}: {errors} error(s), {warnings} warning(s). The "
            "data you were exploring are still active.",
            icon=":material/error:",
        )
    elif data.PENDING in st.session_state:
        st.warning(
            f"{md(report['what'])} can be loaded, with {warnings} warning(s) listed below. Choose:",
            icon=":material/warning:",
        )
        c1, c2 = st.columns(2)
        c1.button("Use these data anyway", on_click=data.accept_pending, type="primary")
        c2.button("Discard them", on_click=data.discard_pending)
    else:
        st.success(f"Loaded {md(report['what'])}. Every page now shows these data.", icon=":material/check:")
    if problems:
        if notes:
            st.caption(f"{notes} note(s) say which rules were applied in reading the data (for an ADaM "
                       "study: the subjects not analysed and, per dataset, the records kept and left out).")
        st.dataframe(data.problems_table(problems), hide_index=True, width="stretch")

configured = [] if report else data.configured_notes()
if configured:
    with st.expander(f"How these data were read ({len(configured)} note(s): the record rule and its counts)"):
        st.dataframe(data.problems_table(configured), hide_index=True, width="stretch")

mapping_offered = report and not report["ok"]
sheets = data.sheet_choices() if mapping_offered else {}
sheet = ""
if sheets:  # several sheets, or hidden ones: the reader chooses, rather than the first being read
    sheet = st.selectbox("Sheet to read", list(sheets), index=data.first_visible(sheets),
                         format_func=sheets.__getitem__, key=data.SHEET_KEY,
                         help="The workbook has several sheets (hidden ones are named as hidden); the "
                         "columns below are those of the sheet chosen here.")
draft = data.mapping_draft(sheet) if mapping_offered else None
if draft is not None:
    name, columns, guess = draft
    st.subheader(f"Map the columns of {md(name)}" + (f", sheet {md(sheet)}" if sheet else ""))
    options = ["", *columns]

    def pick(label: str, role: str, help_text: str = "") -> str:
        default = getattr(guess, role)
        return st.selectbox(
            label,
            options,
            index=options.index(default) if default in options else 0,
            key=f"map_{role}",
            help=help_text or None,
        )

    c1, c2, c3 = st.columns(3)
    with c1:
        subject = pick("Subject id", "subject")
        arm = pick("Arm", "arm")
    with c2:
        visit = pick("Visit", "visit", "Labels such as 'Week 4'; numbers in them give the order.")
        visit_number = pick("Visit number (optional)", "visit_number")
    with c3:
        endpoint = pick("Endpoint (long table)", "endpoint")
        value = pick("Value (long table)", "value")
    endpoints = st.multiselect("Or, for a wide table: endpoint columns", columns, key="map_endpoints")
    st.markdown("**Or, for a table with one column per visit** (one row per subject, such as `pain_base`, "
                "`pain_m3`, `pain_m12`): name the visit columns and their visits, or give a pattern of "
                "their names. Leave the visit, endpoint and value above empty; the table is reshaped to "
                "one row per subject and visit.")
    w1, w2 = st.columns(2)
    with w1:
        visit_columns = st.multiselect("Visit columns", columns, key="map_visit_columns")
        pattern = st.text_input(
            "Or a pattern of their names", key="map_visit_pattern", placeholder="pain_m{month}",
            help="One visit placeholder: {month}, {week} or {day} (a number: pain_m3 is Month 3, 0 is "
            "Baseline) or {visit} (the text as written); {endpoint} names the endpoint "
            "({endpoint}_m{month} reads vas_m3 and odi_m3). Columns named on the left keep their visit.")
        endpoint_name = st.text_input("Endpoint they measure (default: the name the columns share)",
                                      key="map_endpoint_name")
    with w2:
        visit_values = [st.text_input(f"Visit of {c}", value=data.guess_visit(c, visit_columns),
                                      key=f"map_visit_of_{c}") for c in visit_columns]
    by_visit = bool(visit_columns or pattern.strip())
    populations = st.multiselect(
        "Population flag columns (Y/N)", columns, default=list(guess.populations), key="map_populations"
    )
    covariates = st.multiselect("Subject covariates", columns, key="map_covariates")
    reference = st.text_input("Reference arm (exact value)", value=guess.reference, key="map_reference")
    mapping = ColumnMapping(
        table=name,
        sheet=sheet,
        subject=subject,
        arm=arm,
        visit="" if by_visit else visit,
        visit_number="" if by_visit else visit_number,
        endpoint="" if endpoints or by_visit else endpoint,
        value="" if endpoints or by_visit else value,
        endpoints=() if by_visit else tuple(endpoints),
        visit_columns=tuple(visit_columns),
        visit_values=tuple(visit_values),
        visit_pattern=pattern.strip(),
        endpoint_name=endpoint_name.strip(),
        populations=tuple(populations),
        covariates=tuple(covariates),
        reference=reference,
        study=name.rsplit(".", 1)[0],
    )
    st.button("Load with this mapping", on_click=data.on_mapping_clicked, args=(mapping,), type="primary")

used = st.session_state.get("mapping_used")
if used is not None and report and report["ok"]:
    st.download_button(
        "Download mapping.toml",
        used.to_toml(),
        file_name="mapping.toml",
        help="Put it beside the table: the command line and a hosted app then read it.",
    )
render.notes(
    [
        "Hosted use: set `data_path` in the app's secrets (or RESPINE_DATA) to open a study for "
        "everyone; uploads here affect only your session."
    ]
)
