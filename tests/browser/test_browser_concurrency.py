"""Browser tier, concurrency: eight sessions on one server keep their own view under load.

The bug report: with six browsers at once for two or three minutes some sessions lost their
subgroup filter (the sidebar back to "111 of 111" subjects) or their URL lost it; never with one
session. The cause (see ``respine.ui.state.sync_url``): the app wrote the URL only when the
query string that came with a rerun differed from the view, but that query string is what the
address bar held when the reader clicked, and it is stale when the click comes while the
previous run is still going (a change and its undo, quick page switches); the late URL update
of the previous run then stayed in the address bar, and a reload or a new session rebuilt the
view from it. Slow runs, that is several sessions on one server, make the window wide.

Eight headless Chromium contexts (one Chromium) against one server on 127.0.0.1, for
``DURATION_S`` (``RESPINE_CONCURRENCY_SECONDS`` shortens it for local runs). Each session sets
its own filters in the sidebar; two first upload a data set of their own (other arm labels, or a
subset of the subjects). Then each moves through the pages and changes widgets quickly: page
switches in quick succession, the population changed and changed back, the endpoint changed and
changed back (so its view is known at every moment), reloads. After every step it checks that
its sidebar filters, its URL's query and its numbers (the sidebar's subject count and, on the
Baseline page, the n of each arm) are its own, computed from the data with the core, and that
an uploaded session still explores its own data.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import random
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from respine import derive
from respine.analyses.baseline import baseline_table
from respine.io import load_trial
from respine.model.selection import SubgroupFilter
from respine.urlstate import ViewState, encode
from tests.browser.conftest import CHROMIUM_ARGS, VIEWPORT, serve_app

DURATION_S = float(os.environ.get("RESPINE_CONCURRENCY_SECONDS", "180"))
SESSIONS = 8
SEED = int(os.environ.get("RESPINE_CONCURRENCY_SEED", "1"))
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
FILES = ("study.toml", "subjects.csv", "measurements.csv", "adverse_events.csv")
POPULATION = "MITT"
IDLE_TIMEOUT_S = 90.0  # a run on a loaded 2-core machine with eight sessions can take long
CHECK_TIMEOUT_S = 45.0  # a wrong view that lasts this long after the app went idle is lost
ACTION_TIMEOUT_MS = 30_000
LOAD_TIMEOUT_MS = 60_000

SIDEBAR = '[data-testid="stSidebar"]'
PAGES = (  # the sidebar navigation, as its links read
    "Study overview", "Endpoint explorer", "Responders", "Responder profile", "Subgroups", "Over time",
    "MRI", "Robustness", "Baseline", "Participant flow", "Safety", "Missing data", "Reproduce the paper",
    "Load data", "Report", "Settings",
)
NAV_LINK = '[data-testid="stSidebarNav"] a'
MAIN = '[data-testid="stMain"]'
LABEL = '[data-testid="stWidgetLabel"]'
MULTISELECT = '[data-testid="stMultiSelect"]'
SLIDER = '[data-testid="stSlider"]'
CHIPS = ".react-aria-ComboBox"  # a multiselect's chips (its <template> holds a copy of them)
SNAPSHOT_JS = """() => {
  const sb = document.querySelector('[data-testid="stSidebar"]');
  const busy = document.querySelectorAll('[data-testid="stStatusWidget"]').length
             + document.querySelectorAll('[data-stale="true"]').length;
  if (!sb) return {busy, text: '', widgets: {}, url: location.href, cells: [], heading: '', main: '',
                   exceptions: 0};
  const label = w => (w.querySelector('[data-testid="stWidgetLabel"]') || {innerText: ''}).innerText.trim();
  const widgets = {};
  sb.querySelectorAll('[data-testid="stMultiSelect"]').forEach(w => {
    widgets[label(w)] = [...w.querySelectorAll('.react-aria-ComboBox [data-tag] span[title]')]
      .map(s => s.getAttribute('title'));
  });
  sb.querySelectorAll('[data-testid="stSlider"]').forEach(w => {
    widgets[label(w)] = [...w.querySelectorAll('input[type=range]')].map(i => Number(i.value));
  });
  const table = document.querySelector('[data-testid="stMain"] [data-testid="stDataFrame"]');
  const cells = table ? [...table.querySelectorAll('td')].slice(0, 12).map(td => td.innerText) : [];
  const heading = document.querySelector('[data-testid="stMain"] h1');
  return {busy, text: sb.innerText, widgets, url: location.href, cells,
          heading: heading ? heading.innerText : '',
          main: (document.querySelector('[data-testid="stMain"]') || {innerText: ''}).innerText,
          exceptions: document.querySelectorAll('[data-testid="stException"]').length};
}"""


# --- the sessions' data and filters ---------------------------------------------------------------


def write_data_copy(target: Path, study_id: str, arms: dict[str, str] | None = None,
                    keep_every: int | None = None) -> Path:
    """A copy of data/ (the product layout) under another study id: arms renamed, or only some
    subjects (with their measurements and adverse events)."""
    target.mkdir(parents=True, exist_ok=True)
    arms = arms or {}
    toml = (DATA / "study.toml").read_text(encoding="utf-8")
    toml = toml.replace('id = "RESPINE"', f'id = "{study_id}"', 1)
    toml = toml.replace("synthetic = true", "synthetic = false", 1)
    for old, new in arms.items():
        toml = (toml.replace(f'"{old}"', f'"{new}"').replace(f'"rate {old}"', f'"rate {new}"')
                .replace(f'"randomised {old}"', f'"randomised {new}"'))
    (target / "study.toml").write_text(toml, encoding="utf-8")
    with open(DATA / "subjects.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if keep_every:
        rows = [r for i, r in enumerate(rows) if i % keep_every]
    for r in rows:
        r["arm"] = arms.get(r["arm"], r["arm"])
    ids = {r["subject_id"] for r in rows}
    with open(target / "subjects.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for name in ("measurements.csv", "adverse_events.csv"):
        with open(DATA / name, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields, kept = reader.fieldnames, [r for r in reader if r["subject_id"] in ids]
        with open(target / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(kept)
    return target


@dataclass(frozen=True)
class FilterSpec:
    """One subgroup filter set in the sidebar: a categorical one keeps ``keep``; a continuous one
    moves a thumb of its range slider with the keyboard."""

    label: str
    keep: tuple[str, ...] = ()
    thumb: str = ""
    key: str = ""
    presses: int = 0


@dataclass
class Plan:
    name: str
    filters: tuple[FilterSpec, ...]
    upload: Path | None = None


def plans(tmp: Path) -> list[Plan]:
    arms_a = write_data_copy(tmp / "upload_a", "UPLOAD-A", arms={"BM-MSC": "Cell therapy", "Sham": "Placebo"})
    subset_b = write_data_copy(tmp / "upload_b", "UPLOAD-B", keep_every=3)
    return [
        Plan("sex", (FilterSpec("Sex", keep=("Female",)),)),
        Plan("country", (FilterSpec("Country", keep=("France",)),)),
        Plan("age", (FilterSpec("Age", thumb="end", key="PageDown", presses=2),)),
        Plan("smoking", (FilterSpec("Smoking", keep=("Current",)),)),
        Plan("disc+bmi", (FilterSpec("Treated disc level", keep=("L4-L5",)),
                          FilterSpec("Body-mass index", thumb="start", key="PageUp", presses=4))),
        Plan("modic+sex", (FilterSpec("Modic change", keep=("None",)), FilterSpec("Sex", keep=("Male",)))),
        Plan("upload-a", (FilterSpec("Country", keep=("Spain", "Italy")),), upload=arms_a),
        Plan("upload-b", (FilterSpec("Sex", keep=("Female",)),), upload=subset_b),
    ]


@dataclass
class Expected:
    """What a session must show, computed from its data with the core."""

    header: str  # "RESPINE · synthetic twin", "UPLOAD-A · study data"
    count: str  # "54 of 111 subjects in MITT; 114 randomised."
    query: dict[str, list[str]]
    widgets: dict[str, list]
    arm_n: list[int]  # Baseline page, first row: n of each arm and overall
    exploring: str  # Load data page


def expected_view(trial, filters: tuple[SubgroupFilter, ...]) -> Expected:
    kept = derive.filter_subjects(trial, POPULATION, filters)
    in_pop = derive.population_subjects(trial, POPULATION)
    groups = derive.arm_order(trial)
    table = baseline_table(trial, POPULATION, filters)
    first = table.iloc[0]
    labels = {c.column: c.label for c in trial.design.covariates}
    widgets: dict[str, list] = {"Subgroup filters": [labels[f.column] for f in filters]}
    for f in filters:
        widgets[labels[f.column]] = list(f.values) if f.values else [f.low, f.high]
    kind = "synthetic twin" if trial.synthetic else "study data"
    return Expected(
        header=f"{trial.design.id} · {kind}",
        count=f"{len(kept)} of {len(in_pop)} subjects in {POPULATION}; "
              f"{len(derive.subject_table(trial))} randomised.",
        query={"filter": list(encode(ViewState(filters=filters))["filter"])},
        widgets=widgets,
        arm_n=[int(first[f"{g}|n"]) for g in [*groups, "Overall"]],
        exploring=f"Now exploring {trial.design.title or trial.design.id} ({kind}): "
                  f"{len(trial.subjects)} subjects",
    )


def page_of(url: str) -> str:
    return urlsplit(url).path.strip("/") or "overview"


def mismatches(snap: dict, want: Expected) -> list[str]:
    """What in a page snapshot is not this session's own view (empty: all its own)."""
    out = []
    page = page_of(snap["url"])
    if snap["exceptions"]:
        out.append("an exception is shown")
    if want.count not in snap["text"].replace("\n", " "):
        found = re.search(r"\d+ of \S+ subjects in \S+; \d+ randomised\.", snap["text"])
        out.append(f"sidebar count {found.group(0) if found else None!r}, want {want.count!r}")
    if want.header not in snap["text"]:
        out.append(f"sidebar header is not {want.header!r}: {snap['text'][:80]!r}")
    query = parse_qs(urlsplit(snap["url"]).query)
    if query != want.query:
        out.append(f"URL query {query}, want {want.query}")
    for label, values in want.widgets.items():
        got = snap["widgets"].get(label)
        same = got is not None and len(got) == len(values) and all(
            (abs(g - v) < 1e-6) if isinstance(v, float) else g == v for g, v in zip(got, values, strict=True)
        )
        if not same:
            out.append(f"sidebar widget {label!r} shows {got}, want {values}")
    if page == "baseline" and snap["heading"] != "Baseline characteristics":
        out.append(f"the Baseline page is not drawn yet (heading {snap['heading']!r})")
    elif page == "baseline":
        arm_n = [int(m.group(1)) for m in (re.search(r"\[n=(\d+)\]", c) for c in snap["cells"][:6]) if m]
        if arm_n[: len(want.arm_n)] != want.arm_n:
            out.append(f"Baseline n per arm {arm_n}, want {want.arm_n} (cells {snap['cells'][:5]})")
    if page == "data" and want.exploring not in snap["main"]:
        out.append(f"Load data page does not say {want.exploring!r}")
    return out


# --- one session ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    steps: int = 0
    action_errors: list[str] = field(default_factory=list)
    failure: str | None = None
    history: list[str] = field(default_factory=list)


class Session:
    def __init__(self, plan: Plan, index: int, base_url: str, deadline: float) -> None:
        self.plan, self.index, self.base_url, self.deadline = plan, index, base_url, deadline
        self.rng = random.Random(f"{SEED}-{index}")
        self.out = Outcome(plan.name)
        self.want: Expected | None = None
        self.page_name = "overview"
        self.kind = ""

    # -- waiting and checking --------------------------------------------------------------------

    async def snapshot(self) -> dict:
        return await self.page.evaluate(SNAPSHOT_JS)

    async def idle(self) -> None:
        """Until Streamlit is idle (no run, nothing stale) for three polls in a row."""
        await self.page.wait_for_timeout(250)
        quiet, end = 0, time.monotonic() + IDLE_TIMEOUT_S
        while quiet < 3 and time.monotonic() < end:
            quiet = 0 if (await self.snapshot())["busy"] else quiet + 1
            await self.page.wait_for_timeout(150)

    async def check(self, step: str) -> bool:
        """After a step: the view shown is this session's own (waits for the app to settle)."""
        await self.idle()
        end = time.monotonic() + CHECK_TIMEOUT_S
        while True:
            snap = await self.snapshot()
            self.page_name = page_of(snap["url"])
            wrong = mismatches(snap, self.want)
            if not wrong:
                return True
            if time.monotonic() > end:
                self.out.failure = (f"after {step!r} on /{self.page_name}: " + "; ".join(wrong)
                                    + f" (URL {snap['url']})")
                return False
            await self.page.wait_for_timeout(500)

    # -- actions ---------------------------------------------------------------------------------

    async def heading(self, title: str) -> None:
        await self.page.get_by_role("heading", name=title, exact=True).wait_for(timeout=LOAD_TIMEOUT_MS)

    async def click_link(self, title: str) -> None:
        await self.page.locator(NAV_LINK).filter(has_text=re.compile(f"{re.escape(title)}$")).first.click()

    async def choose(self, combobox, option) -> None:
        """Open a selectbox or multiselect and click one of its options."""
        await combobox.click()
        await option.click()

    async def upload(self) -> None:
        page = self.page
        for attempt in range(3):  # the first run of a page can be slow to come under load
            try:
                await self.click_link("Load data")
                await self.heading("Load data")
                await self.idle()
                await page.locator("input[type=file]").set_input_files(
                    [str(self.plan.upload / n) for n in FILES]
                )
                break
            except Exception:
                if attempt == 2:
                    raise
        uploader = page.locator('[data-testid="stFileUploader"]')
        chips = uploader.locator('[data-testid="stFileChip"]')
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            await chips.count() < len(FILES)
            or await uploader.locator('[data-testid="stFileChipIconSpinner"]').count()
        ):
            await page.wait_for_timeout(200)
        await self.idle()
        await page.get_by_role("button", name="Load these files").click()
        await page.get_by_text("Every page now shows these data").wait_for(timeout=LOAD_TIMEOUT_MS)
        await self.idle()

    async def set_filters(self) -> None:
        page = self.page
        sidebar = page.locator(SIDEBAR)
        columns = sidebar.locator(MULTISELECT).filter(has=page.locator(LABEL, has_text="Subgroup filters"))
        for spec in self.plan.filters:
            label = page.locator(LABEL, has_text=re.compile(f"^{re.escape(spec.label)}$"))
            widget = sidebar.locator(f"{MULTISELECT}, {SLIDER}").filter(has=label)
            for _ in range(4):  # a rerun that redraws the sidebar closes an open dropdown
                if await columns.locator(f'{CHIPS} [data-tag] span[title="{spec.label}"]').count():
                    break
                with contextlib.suppress(Exception):
                    await self.choose(columns.get_by_role("combobox"),
                                      page.get_by_role("option", name=spec.label, exact=True))
                await page.keyboard.press("Escape")
                await self.idle()
            await widget.first.wait_for(timeout=LOAD_TIMEOUT_MS)
            if spec.keep:
                for _ in range(20):
                    shown = await widget.locator(f'{CHIPS} button[aria-label^="Remove "]').evaluate_all(
                        "els => els.map(e => e.getAttribute('aria-label').slice(7))")
                    extra = [v for v in shown if v not in spec.keep]
                    if not extra:
                        break
                    with contextlib.suppress(Exception):  # redrawn meanwhile: look again
                        await widget.locator(f'{CHIPS} button[aria-label="Remove {extra[0]}"]').click()
                    await self.idle()
            else:
                # the thumbs' inputs in order (their aria-label is the label's Markdown source,
                # with backslashes that a CSS selector would read as escapes)
                thumb = widget.locator('input[aria-label$=" — start"], input[aria-label$=" — end"]').nth(
                    0 if spec.thumb == "start" else 1)
                await thumb.focus()
                for _ in range(spec.presses):
                    await page.keyboard.press(spec.key)
                    await page.wait_for_timeout(150)
                await self.idle()

    async def settled_filters(self) -> tuple[SubgroupFilter, ...]:
        """The filters the sidebar set, once the URL has stopped changing (a slider moved with the
        keyboard sends its value a moment after the last key)."""
        last, same_since = None, time.monotonic()
        end = time.monotonic() + LOAD_TIMEOUT_MS / 1000
        while time.monotonic() < end:
            await self.idle()
            url = (await self.snapshot())["url"]
            if url != last:
                last, same_since = url, time.monotonic()
            elif time.monotonic() - same_since > 3:
                break
            await self.page.wait_for_timeout(500)
        query = parse_qs(urlsplit(last or "").query)
        return tuple(SubgroupFilter.parse(x) for x in query.get("filter", []))

    async def step(self, links: list[str]) -> str:
        """One step, chosen at random: quick page switches, a change and its undo, a reload."""
        page, rng = self.page, self.rng
        sidebar = page.locator(SIDEBAR)
        # (a reload starts a new session: an upload, kept in its session only, would be gone)
        kinds = ["switch", "switch", "switches", "population", "population", "endpoint", "baseline"]
        kinds += ["data"] if self.plan.upload else ["reload"]
        kind = self.kind = rng.choice(kinds)
        pause = rng.randrange(0, 400)
        if kind == "switch":
            title = rng.choice(links)
            await self.click_link(title)
            return f"switch to {title}"
        if kind == "switches":
            a, b = rng.choice(links), rng.choice(links)
            await self.click_link(a)
            await page.wait_for_timeout(pause)
            await self.click_link(b)
            return f"switch to {a}, {pause} ms later to {b}"
        if kind == "population":
            box = sidebar.get_by_role("combobox", name="Population", exact=True)
            await self.choose(box, page.get_by_role("option", name=re.compile(r"^PP:")))
            await page.wait_for_timeout(pause)
            await self.choose(box, page.get_by_role("option", name=re.compile(f"^{POPULATION}:")))
            return f"population PP, {pause} ms later back to {POPULATION}"
        if kind == "endpoint":
            if self.page_name != "explorer":
                await self.click_link("Endpoint explorer")
                await self.heading("Endpoint explorer")
            box = page.get_by_role("combobox", name="Endpoint", exact=True)
            await self.choose(box, page.get_by_role("option", name="Oswestry Disability Index", exact=True))
            await page.wait_for_timeout(pause)
            await self.choose(box, page.get_by_role("option", name="Low back pain VAS", exact=True))
            return f"endpoint ODI, {pause} ms later back to VAS"
        if kind == "baseline":
            await self.click_link("Baseline")
            await self.heading("Baseline characteristics")
            cell = page.locator(f"{MAIN} [data-testid='stDataFrame'] td").first
            await cell.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)  # the grid's cells are hidden
            return "switch to Baseline"
        if kind == "data":
            await self.click_link("Load data")
            return "switch to Load data"
        await page.reload()
        await sidebar.get_by_text("subjects in").first.wait_for(timeout=2 * LOAD_TIMEOUT_MS)
        return "reload"

    async def run(self, browser) -> Outcome:
        await asyncio.sleep(self.index * 1.0)  # people do not all click at the same instant
        context = await browser.new_context(viewport=VIEWPORT, base_url=self.base_url)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            self.page = await context.new_page()
            await self.page.goto("/")
            count = self.page.locator(SIDEBAR).get_by_text("subjects in").first
            await count.wait_for(timeout=2 * LOAD_TIMEOUT_MS)
            await self.idle()
            if self.plan.upload:
                await self.upload()
            await self.set_filters()
            trial = load_trial(self.plan.upload or DATA)
            filters = await self.settled_filters()
            query = parse_qs(urlsplit(self.page.url).query)
            self.want = expected_view(trial, filters)
            labels = {c.column: c.label for c in trial.design.covariates}
            specs = self.plan.filters
            if [labels[f.column] for f in filters] != [s.label for s in specs] or any(
                s.keep and set(f.values) != set(s.keep) for s, f in zip(specs, filters, strict=False)
            ):
                self.out.failure = f"the filters set in the sidebar are {query.get('filter')} in the URL"
                return self.out
            if not await self.check("setting the filters"):
                return self.out
            links = [t for t in PAGES if t != "Load data"]
            while True:  # at least one step, however long the setup took
                try:
                    done = await self.step(links)
                except Exception as exc:  # a widget that moved while clicked: not this test's subject
                    done = f"{self.kind}: action error {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                    self.out.action_errors.append(done)
                    await self.page.keyboard.press("Escape")
                self.out.history.append(done)
                self.out.steps += 1
                if not await self.check(done) or time.monotonic() > self.deadline:
                    return self.out
        except Exception:
            self.out.failure = "session crashed: " + traceback.format_exc(limit=3)[-1500:]
            return self.out
        finally:
            await context.close()


async def drive(base_url: str, chromium: str, session_plans: list[Plan]) -> list[Outcome]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            # DURATION_S for the whole run: opening, uploading and setting filters included
            deadline = time.monotonic() + DURATION_S
            sessions = [Session(p, i, base_url, deadline) for i, p in enumerate(session_plans)]
            return list(await asyncio.gather(*(s.run(browser) for s in sessions)))
        finally:
            await browser.close()


@pytest.mark.browser
@pytest.mark.timeout(DURATION_S + 240)
def test_concurrent_sessions_keep_their_own_filters_url_and_data(chromium_path: str, tmp_path: Path) -> None:
    pytest.importorskip("playwright.async_api")
    session_plans = plans(tmp_path / "uploads")
    assert len(session_plans) == SESSIONS
    logs = tmp_path / "server"
    logs.mkdir()
    result: dict[str, object] = {}

    with serve_app(logs) as base_url:
        assert urlsplit(base_url).hostname == "127.0.0.1"

        def target() -> None:  # the async API in a thread of its own: no event loop of pytest's
            try:
                result["outcomes"] = asyncio.run(drive(base_url, chromium_path, session_plans))
            except BaseException as exc:
                result["error"] = exc

        started = time.monotonic()
        worker = threading.Thread(target=target, name="concurrency-driver", daemon=True)
        worker.start()
        worker.join(DURATION_S + 200)
        elapsed = time.monotonic() - started
        assert not worker.is_alive(), f"the sessions did not finish within {DURATION_S + 200:.0f} s"
    if "error" in result:
        raise result["error"]
    outcomes: list[Outcome] = result["outcomes"]
    report = "\n".join(
        f"  {o.name}: {o.steps} steps, {len(o.action_errors)} action errors {o.action_errors[:3]}"
        + (f"\n    LOST ITS VIEW {o.failure}\n    last steps: {o.history[-5:]}" if o.failure else "")
        for o in outcomes
    )
    print(f"\n{SESSIONS} sessions, {elapsed:.0f} s:\n{report}")
    failed = [o for o in outcomes if o.failure]
    assert not failed, f"{len(failed)} of {SESSIONS} sessions did not keep their own view:\n{report}"
    min_steps = 3 if DURATION_S >= 120 else 1  # a shortened local run may end after the setup
    for o in outcomes:
        assert o.steps >= min_steps, f"{o.name} made only {o.steps} steps in {DURATION_S:.0f} s:\n{report}"
        assert len(o.action_errors) <= max(1, o.steps // 2), f"{o.name}: most actions failed:\n{report}"
