"""Browser tier, hosting (issue 8): two sessions at once keep their own data, the shared-password
gate holds in a real browser (and turns aggregate-only mode on), and markup carried by an uploaded
file's name or contents is shown as text, never run: not in the app, not in its HTML report, and
not turned into formatting or links by a chart.

The gated app is a second Streamlit server started for this module with a secrets file written to
pytest's tmp_path and passed with ``--secrets.files`` (never a secrets.toml in the repository).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import (
    page_factory,
    serve_app,
    tail,
)
from tests.browser.test_browser import (
    ALERT,
    CHART,
    RENDER_TIMEOUT_MS,
    UPDATE_TIMEOUT_MS,
    assert_no_exception,
    open_app,
    wait_idle,
)
from tests.browser.test_browser_flows import go, healthy, open_plain, report_opened_offline

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture then skips, or fails under CI, with the reason
    Page = expect = None

PASSWORD = "correct horse battery"
MAX_ATTEMPTS = 3
SECRETS = f'[access]\npassword = "{PASSWORD}"\nmax_attempts = {MAX_ATTEMPTS}\n'
NAV = '[data-testid="stSidebarNav"]'
MAIN = '[data-testid="stMain"]'
# Every page of the app, as its sidebar link reads: none may show before the password is given.
NAV_LINKS = ("Study overview", "Endpoint explorer", "Responders", "Over time", "Load data", "Settings")

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
HTML_NAME = "<b>bold</b>.csv"

# Session A's own data set: a table plus its column mapping (a distinctive name and study id).
A_TABLE = "session_a_private_trial.csv"
A_STUDY = "SESSION-A-STUDY"
A_SUBJECTS = 12
LOADED = "Every page now shows these data"


def long_table(arms: tuple[str, str], n: int) -> str:
    """A long table (patient, group, visit, param, result) of ``n`` subjects in two arms, as CSV."""
    rows = ["patient,group,visit,param,result"]
    for i in range(n):
        arm = arms[i % 2].replace('"', '""')
        for visit, value in (("Baseline", 60 + i), ("Week 4", 40 + (i * 7) % 25)):
            rows.append(f'P{i + 1:02d},"{arm}",{visit},PAIN,{value}')
    return "\n".join(rows) + "\n"


def mapping_toml(table: str, study: str) -> str:
    # TOML literal strings ('...') keep quotes and angle brackets as they are
    return (
        "[mapping]\n"
        f"table = '{table}'\nsubject = 'patient'\narm = 'group'\nvisit = 'visit'\n"
        f"endpoint = 'param'\nvalue = 'result'\nreference = 'Placebo'\nstudy = '{study}'\n"
    )


def now_exploring(page: Page):
    """The Load data page's note on the data this session explores."""
    return page.locator(ALERT).filter(has_text="Now exploring")


def upload(page: Page, files) -> None:
    """On the Load data page: choose files, wait until each has reached the server (its chip is
    listed, no spinner), load them, and wait for the success message."""
    page.locator("input[type=file]").set_input_files(files)
    uploader = page.locator('[data-testid="stFileUploader"]')
    chips, spinners = uploader.locator('[data-testid="stFileChip"]'), uploader.locator(
        '[data-testid="stFileChipIconSpinner"]'
    )
    expect(chips).to_have_count(len(files), timeout=UPDATE_TIMEOUT_MS)
    expect(spinners).to_have_count(0, timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)
    page.get_by_role("button", name="Load these files").click()
    outcome = page.locator(ALERT).filter(has_text=re.compile(f"{LOADED}|Nothing was loaded"))
    expect(outcome.first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)
    healthy(page)
    assert LOADED in outcome.first.inner_text(), page.locator(ALERT).all_inner_texts()


def open_overview_link(page: Page, heading: str) -> None:
    """Go to the overview by its sidebar link (same session) and wait for its heading."""
    page.get_by_role("link", name="Study overview", exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)
    healthy(page)


@pytest.mark.browser
def test_two_sessions_keep_their_own_data(new_page, tmp_path: Path) -> None:
    table = tmp_path / A_TABLE
    table.write_text(long_table(("Drug A", "Placebo"), A_SUBJECTS), encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(mapping_toml(A_TABLE, A_STUDY), encoding="utf-8")

    a, b = new_page(), new_page()
    open_app(b, "/")  # B is open, on the shipped data, before A uploads anything
    expect(b.get_by_role("heading", name="RESPINE: study overview", exact=True)).to_be_visible()

    open_plain(a, "/data", "Load data")
    expect(now_exploring(a)).to_contain_text("114 subjects")
    upload(a, [str(table), str(mapping)])
    expect(now_exploring(a)).to_contain_text(f"Now exploring {A_STUDY} (study data): {A_SUBJECTS} subjects")
    expect(a.get_by_text(A_TABLE, exact=False).first).to_be_visible()
    open_overview_link(a, f"{A_STUDY}: study overview")
    expect(a.get_by_text("Synthetic data.", exact=False)).to_have_count(0)

    def shows_the_shipped_data_only() -> None:
        expect(b.get_by_text("Synthetic data.", exact=False).first).to_be_visible()
        go(b, "Load data")
        expect(now_exploring(b)).to_contain_text("(synthetic twin): 114 subjects")
        expect(now_exploring(b)).to_contain_text("Source: ")
        html = b.content()
        for trace in (A_TABLE, A_STUDY, "session_a", "Drug A"):
            assert trace not in html, f"session B shows {trace!r}, from session A's upload"
        expect(b.get_by_role("button", name="Back to the shipped data")).to_have_count(0)
        open_overview_link(b, "RESPINE: study overview")
        expect(b.get_by_text("74%", exact=True).first).to_be_visible()

    # B's session, as it was when A uploaded: its next run still has the shipped data ...
    shows_the_shipped_data_only()
    # ... and a reload (a new session of the same browser) too.
    b.reload()
    expect(b.locator(f"{CHART} svg.main-svg").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    wait_idle(b)
    expect(b.get_by_role("heading", name="RESPINE: study overview", exact=True)).to_be_visible()
    shows_the_shipped_data_only()

    # A, after all that, still explores its own data.
    go(a, "Load data")
    expect(now_exploring(a)).to_contain_text(f"Now exploring {A_STUDY} (study data): {A_SUBJECTS} subjects")
    expect(a.get_by_role("button", name="Back to the shipped data")).to_be_visible()
    go(a, "Endpoint explorer")
    expect(a.locator(f"{CHART} svg.main-svg").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    expect(a.locator(f"{CHART} .legendtext", has_text="Drug A").first).to_be_attached()
    healthy(a)


# --- the password gate: a server of its own, with a secrets file ---------------------------------


@pytest.fixture(scope="module")
def gated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app served with ``[access] password`` in a secrets file outside the repository:
    the base URL and the server's stderr log."""
    folder = tmp_path_factory.mktemp("gated")
    secrets = folder / "secrets.toml"
    secrets.write_text(SECRETS, encoding="utf-8")
    with serve_app(folder, "--secrets.files", str(secrets)) as base_url:
        yield base_url, folder / "stderr.log"


@pytest.fixture
def gated_page(browser, gated_server):
    """A factory of pages on the gated server, each in its own context (a fresh session)."""
    base_url, _ = gated_server
    with page_factory(browser, base_url) as make:
        yield make


def password_form(page: Page):
    return page.get_by_label("Password", exact=True)


def open_gate(page: Page, path: str) -> None:
    page.goto(path)
    expect(password_form(page)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    wait_idle(page)
    assert_no_exception(page)


def shows_nothing_of_the_app(page: Page) -> None:
    """Only the password form: no navigation, banner, table, chart, metric or widget of a page."""
    expect(page.get_by_role("heading", name="RESPINE results explorer", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Open the explorer")).to_be_visible()
    expect(page.locator(NAV)).to_have_count(0)
    for link in NAV_LINKS:
        expect(page.get_by_role("link", name=link, exact=True)).to_have_count(0)
    expect(page.get_by_text("Synthetic data", exact=False)).to_have_count(0)
    for testid in ("stDataFrame", "stPlotlyChart", "stMetric", "stSelectbox", "stDownloadButton"):
        expect(page.locator(f'[data-testid="{testid}"]')).to_have_count(0)
    html = page.content()
    for leak in ("BM-MSC", "RSP-", "74%", "Oswestry"):
        assert leak not in html, f"{page.url}: {leak!r} is in the page before the password was given"


def submit(page: Page, password: str, message: str) -> None:
    password_form(page).fill(password)
    page.get_by_role("button", name="Open the explorer").click()
    expect(page.locator(ALERT).filter(has_text=message)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)


@pytest.mark.browser
def test_password_gate(gated_page, gated_server) -> None:
    _, server_log = gated_server
    first = gated_page()
    open_gate(first, "/")
    shows_nothing_of_the_app(first)

    deep = gated_page()
    open_gate(deep, "/explorer?ep=ODI")
    shows_nothing_of_the_app(deep)
    expect(deep.get_by_role("combobox", name="Endpoint", exact=True)).to_have_count(0)

    # Wrong passwords: each is refused with a message, the third locks this session ...
    for attempt, message in enumerate(
        ["Wrong password. 2 attempt(s) left", "Wrong password. 1 attempt(s) left",
         "Too many wrong passwords: this session must wait"], start=1):
        submit(first, f"wrong password {attempt}", message)
        shows_nothing_of_the_app(first)
    # ... so that even the right one is refused in it, with a wait.
    submit(first, PASSWORD, "Too many wrong passwords. Try again in")
    shows_nothing_of_the_app(first)

    # A fresh session with the right password is admitted and sees the app.
    admitted = gated_page()
    open_gate(admitted, "/")
    password_form(admitted).fill(PASSWORD)
    admitted.get_by_role("button", name="Open the explorer").click()
    expect(admitted.get_by_role("heading", name="RESPINE: study overview", exact=True)).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    expect(admitted.locator(f"{CHART} svg.main-svg").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    wait_idle(admitted)
    healthy(admitted)
    responders = admitted.locator('[data-testid="stMetric"]').filter(has_text="BM-MSC responders")
    expect(responders.locator('[data-testid="stMetricValue"]')).to_have_text("74%")
    expect(password_form(admitted)).to_have_count(0)
    expect(admitted.get_by_role("button", name="Sign out")).to_be_visible()

    # Aggregate-only mode is in force for the admitted session (on by default with a password).
    go(admitted, "Over time")
    expect(admitted.get_by_text("Individual trajectories: hidden in aggregate-only mode", exact=False)
           ).to_be_visible()
    expect(admitted.get_by_text("Waterfall (one bar per subject): hidden", exact=False)).to_be_visible()
    go(admitted, "Settings")
    expect(admitted.get_by_text("Aggregate only: views of individual subjects are hidden", exact=False)
           ).to_be_visible()
    expect(admitted.get_by_text("Shared password.", exact=False)).to_be_visible()
    healthy(admitted)

    # The deep link opened before the password lands on its own page and view once admitted (it
    # used to open the overview).
    password_form(deep).fill(PASSWORD)
    deep.get_by_role("button", name="Open the explorer").click()
    endpoint = deep.get_by_role("combobox", name="Endpoint", exact=True)
    expect(endpoint).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    wait_idle(deep)
    healthy(deep)
    expect(endpoint).to_have_value(re.compile("Oswestry|ODI"))
    assert "/explorer" in deep.url and "ep=ODI" in deep.url, deep.url

    # The locked session is still locked (its lock does not end when another session gets in).
    submit(first, PASSWORD, "Too many wrong passwords. Try again in")
    shows_nothing_of_the_app(first)
    log = server_log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, tail(server_log)


# --- markup in an uploaded file ---------------------------------------------------------------


XSS_STATE = "() => typeof window.__xss"


def no_markup_ran(page: Page) -> None:
    """Nothing of the payload became an element, and none of its script ran."""
    assert page.evaluate(XSS_STATE) == "undefined", "a script from the uploaded file ran"
    expect(page.locator('img[src="x"]')).to_have_count(0)
    expect(page.locator(f"{MAIN} b")).to_have_count(0)
    scripts = page.evaluate("() => [...document.scripts].filter(s => s.text.includes('__xss')).length")
    assert scripts == 0, "a <script> element from the uploaded file is in the page"
    assert_no_exception(page)


@pytest.mark.browser
def test_html_in_an_uploaded_file_is_shown_as_text(page: Page, browser, tmp_path: Path) -> None:
    csv_text = long_table((PAYLOAD, "Placebo"), 10)
    files = [
        {"name": HTML_NAME, "mimeType": "text/csv", "buffer": csv_text.encode("utf-8")},
        {"name": "mapping.toml", "mimeType": "application/toml",
         "buffer": mapping_toml(HTML_NAME, PAYLOAD).encode("utf-8")},
    ]
    open_plain(page, "/data", "Load data")
    upload(page, files)
    no_markup_ran(page)
    # the file's name and the study title appear literally, as text
    success = page.locator(ALERT).filter(has_text=LOADED)
    expect(success).to_contain_text(f"Loaded upload: {HTML_NAME}, mapping.toml.")
    expect(now_exploring(page)).to_contain_text(f"Now exploring {PAYLOAD} (study data): 10 subjects")
    expect(now_exploring(page)).to_contain_text(f"arms {PAYLOAD}, Placebo")

    open_overview_link(page, f"{PAYLOAD}: study overview")
    no_markup_ran(page)
    expect(page.locator(MAIN).get_by_text(f"10 subjects from {HTML_NAME}, mapped by column.")).to_be_visible()
    expect(page.locator(MAIN).get_by_text(f"Arms: {PAYLOAD}, Placebo", exact=False)).to_be_visible()

    go(page, "Endpoint explorer")
    expect(page.locator(f"{CHART} svg.main-svg").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)
    no_markup_ran(page)
    # tables draw on a canvas; their accessible cells carry the arm label as text
    expect(page.locator(f"{MAIN} td", has_text=re.compile(re.escape(PAYLOAD))).first).to_be_attached()
    no_markup_ran(page)
    # the chart's legend names the arm literally too (plotly shows unknown tags as text)
    legend = page.locator(f"{CHART} .legendtext").first
    expect(legend).to_have_text(PAYLOAD)

    # The HTML report the app writes from these data shows them as text as well.
    page.get_by_role("button", name="Add this view to the report").click()
    expect(page.get_by_text("to the report (1 views)", exact=False)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    go(page, "Report")
    with report_opened_offline(page, browser, tmp_path) as view:
        expect(view.get_by_role("heading", name=f"{PAYLOAD} results report")).to_be_visible()
        expect(view.locator("svg.main-svg").first).to_be_visible(timeout=15_000)
        expect(view.get_by_text(f"source upload: {HTML_NAME}, mapping.toml", exact=False)).to_be_visible()
        assert view.evaluate(XSS_STATE) == "undefined", "a script from the uploaded file ran in the report"
        expect(view.locator('img[src="x"]')).to_have_count(0)
        expect(view.locator("b")).to_have_count(0)


# An arm label with the tags plotly itself interprets (bold, a link): the app escapes every label
# it puts in Markdown so that "a label can never become a link, emphasis or a formula"
# (respine.present.fmt.md_escape); a chart must not make one either.
MARKUP_ARM = "<b>Placebo</b> <a href='https://example.org/phish'>click here</a>"


@pytest.mark.browser
def test_markup_in_an_arm_label_is_not_drawn_in_charts(page: Page) -> None:
    files = [
        {"name": "trial.csv", "mimeType": "text/csv",
         "buffer": long_table(("Cells", MARKUP_ARM), 10).encode("utf-8")},
        {"name": "mapping.toml", "mimeType": "application/toml",
         "buffer": mapping_toml("trial.csv", "Markup study").replace("reference = 'Placebo'\n", "").encode()},
    ]
    open_plain(page, "/data", "Load data")
    upload(page, files)
    # md_escape puts an invisible word joiner after "https:", so Streamlit makes no link of it
    shown_arm = MARKUP_ARM.replace("https:", "https:\u2060")
    expect(now_exploring(page)).to_contain_text(f"arms Cells, {shown_arm}")
    go(page, "Endpoint explorer")
    expect(page.locator(f"{CHART} svg.main-svg").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)
    links = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] a')]"
        ".map(a => a.getAttribute('xlink:href') || a.getAttribute('href'))"
        ".filter(h => h && h.includes('example.org'))"
    )
    assert links == [], f"the arm label became a link in the chart: {links}"
    expect(page.locator(f"{CHART} .legendtext", has_text="Placebo").first).to_have_text(MARKUP_ARM)


@pytest.mark.browser
def test_no_data_file_is_served_before_the_password(gated_server) -> None:
    """Over plain HTTP, without a browser session: the server answers every path with its page
    shell or an error, never with a data file, the secrets or the app's code."""
    base_url, _ = gated_server
    paths = ("/data/subjects.csv", "/subjects.csv", "/app/static/subjects.csv", "/static/subjects.csv",
             "/data/study.toml", "/.streamlit/secrets.toml", "/app.py", "/media/subjects.csv",
             "/explorer?ep=ODI", "/_stcore/health")
    for path in paths:
        try:
            with urllib.request.urlopen(base_url + path, timeout=10) as response:
                body = response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as error:
            assert error.code in (400, 403, 404, 405), (path, error.code)
            continue
        for leak in ("RSP-", "BM-MSC", "subject_id", "correct horse", "import streamlit"):
            assert leak not in body, f"{path} serves {leak!r}"
