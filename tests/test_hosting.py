"""Hosting: who may open the app (OIDC login, shared password, open), and aggregate-only mode.

Unit tests check the configuration, the constant-time password check, the attempt limiter and the
small-cell rules on hand-made inputs; app tests (AppTest, with ``at.secrets`` and ``at.user``)
check that no content is produced before login and that individual views and small cells are
hidden when aggregate-only mode is on.
"""

from __future__ import annotations

import ast
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from respine.analyses import missing, robustness
from respine.model import selection
from respine.model.results import AnalysisResult, BinarySummary, Contrast
from respine.present import figures, fmt, privacy, tables
from respine.ui import access, sessions
from tests.conftest import REPO
from tests.test_app import ALL_PAGES, assert_healthy, each_page

PASSWORD = "correct horse battery"
OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret-for-tests",
    "client_id": "respine-explorer",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
}


@pytest.fixture(autouse=True)
def fresh_limiter():
    """The attempt limiter and the grants are shared by every session of a server process (and
    every AppTest has the same session id): start each test clean."""
    access.reset_limiter()
    sessions.GRANTS.clear()
    yield
    access.reset_limiter()
    sessions.GRANTS.clear()


def app(secrets: dict | None = None, user: dict | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    for key, value in query.items():
        at.query_params[key] = value
    return at


def shows_content(at: AppTest) -> bool:
    """Anything of the explorer beyond the gate: data loaded, a table, a chart, a metric, a page."""
    return bool(
        "trial" in at.session_state
        or len(at.dataframe)
        or len(at.metric)
        or at.get("plotly_chart")
        or any("Synthetic data" in w.value for w in at.warning)
    )


def log_in(at: AppTest, password: str) -> AppTest:
    at.text_input(key="access_password").input(password)
    next(b for b in at.button if b.label == "Open the explorer").click().run()
    return at


# --- configuration -----------------------------------------------------------------------------


def test_no_secrets_is_open_with_full_detail():
    cfg = access.config_from_secrets({})
    assert cfg.mode == "open" and cfg.disclosure.k == 0 and not cfg.disclosure.aggregate_only


def test_a_password_turns_on_the_gate_and_aggregate_only_mode():
    cfg = access.config_from_secrets({"access": {"password": PASSWORD, "max_attempts": 3}})
    assert cfg.mode == "password" and cfg.max_attempts == 3
    assert cfg.disclosure == privacy.Disclosure(aggregate_only=True, min_cell=5)
    assert PASSWORD not in repr(cfg)  # the digest is kept, never the password, and not in repr


def test_oidc_wins_over_a_password_and_names_its_providers():
    cfg = access.config_from_secrets({"auth": {**OIDC, "microsoft": {"client_id": "x"}},
                                      "access": {"password": PASSWORD}})
    assert cfg.mode == "oidc" and cfg.providers == (None, "microsoft") and cfg.password_digest is None


def test_privacy_settings_can_switch_aggregate_only_off_or_change_k():
    cfg = access.config_from_secrets(
        {"access": {"password": PASSWORD}, "privacy": {"aggregate_only": False, "min_cell": 10}}
    )
    assert cfg.disclosure.k == 0
    cfg = access.config_from_secrets({"privacy": {"aggregate_only": True, "min_cell": 10}})
    assert cfg.mode == "open" and cfg.disclosure.k == 10


@pytest.mark.parametrize(
    ("secrets", "message"),
    [
        ({"access": {"password": "short"}}, "at least 8 characters"),
        ({"access": {"password": 12345678}}, "at least 8 characters"),
        ({"access": {"pasword": PASSWORD}}, "Unknown setting(s) in [access]: pasword"),
        ({"access": {"password": PASSWORD, "max_attempts": 0}}, "max_attempts must be a number from 1"),
        ({"access": {"password": PASSWORD, "max_attempts": True}}, "max_attempts must be a number"),
        ({"access": {"allowed_emails": 3}}, "allowed_emails must be a list of text"),
        ({"auth": {"redirect_uri": "http://x"}}, "names no identity provider"),
        ({"privacy": {"aggregate_only": "yes"}}, "aggregate_only must be true or false"),
        ({"privacy": {"min_cell": 0}}, "min_cell must be a whole number from 1 to 1000"),
        ({"privacy": {"min_cell": 2.5}}, "min_cell must be a whole number"),
        ({"privacy": {"k": 5}}, "Unknown setting(s) in [privacy]: k"),
    ],
)
def test_wrong_settings_are_named(secrets, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        access.config_from_secrets(secrets)


def test_access_lists_match_emails_and_domains_without_case():
    cfg = access.config_from_secrets(
        {"auth": OIDC,
         "access": {"allowed_emails": ["Ana@Uni.org"], "allowed_domains": ["@chu-montpellier.fr"]}}
    )
    assert cfg.admits("ana@uni.org") and cfg.admits(" ANA@UNI.ORG ")
    assert cfg.admits("someone@chu-montpellier.fr")
    assert not cfg.admits("ana@uni.org.evil.com") and not cfg.admits("x@evil-chu-montpellier.fr")
    assert not cfg.admits(None) and not cfg.admits("")
    assert access.config_from_secrets({"auth": OIDC}).admits("anyone@anywhere.org")


def test_password_check_is_exact():
    cfg = access.config_from_secrets({"access": {"password": PASSWORD}})
    assert access.password_matches(PASSWORD, cfg)
    for wrong in ("", "correct horse", PASSWORD + " ", PASSWORD.upper(), "correct horse batterz"):
        assert not access.password_matches(wrong, cfg)
    assert not access.password_matches(PASSWORD, access.config_from_secrets({}))


def test_password_comparison_is_constant_time():
    """hmac.compare_digest on SHA-256 digests: the time does not depend on where the texts differ
    nor on the length of the guess (both sides have 32 bytes)."""
    source = (REPO / "respine" / "ui" / "access.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "password_matches")
    calls = {ast.unparse(n.func) for n in ast.walk(fn) if isinstance(n, ast.Call)}
    assert "hmac.compare_digest" in calls and "_digest" in calls
    assert not any(isinstance(n, ast.Compare) and isinstance(n.ops[0], ast.Eq) for n in ast.walk(fn))


def test_attempt_limiter_locks_after_the_limit_and_unlocks_after_the_window():
    lim = access.AttemptLimiter()
    for t in (0.0, 1.0):
        lim.failure("s", now=t)
    assert lim.locked_for("s", 3, 60, now=2.0) == 0.0
    lim.failure("s", now=2.0)
    assert lim.locked_for("s", 3, 60, now=2.0) == pytest.approx(60.0)
    assert lim.locked_for("s", 3, 60, now=32.0) == pytest.approx(30.0)
    assert lim.locked_for("s", 3, 60, now=62.5) == 0.0  # the first failures left the window
    assert lim.locked_for("other", 3, 60, now=2.0) == 0.0
    lim.reset("s")
    assert lim.failures("s") == 0


# --- password gate in the app ------------------------------------------------------------------


@pytest.mark.app
def test_nothing_of_the_app_is_produced_before_the_password():
    at = app({"access": {"password": PASSWORD}}).run()
    assert_healthy(at)
    assert not shows_content(at)
    assert [t.value for t in at.title] == ["RESPINE results explorer"]
    assert at.text_input(key="access_password").label == "Password"


@pytest.mark.app
@pytest.mark.parametrize("page", ALL_PAGES)
def test_no_page_opens_before_the_password(page):
    name = page.rsplit("/", 1)[-1].removesuffix(".py")
    at = app({"access": {"password": PASSWORD}}, ep="ODI", page=name).run()
    assert not shows_content(at)
    assert not at.get("download_button")
    at.switch_page(page).run()  # as a deep link to the page would
    assert_healthy(at, page)
    assert not shows_content(at) and at.text_input(key="access_password")


@pytest.mark.app
def test_wrong_passwords_are_rejected_then_limited_and_the_right_one_admits():
    at = app({"access": {"password": PASSWORD, "max_attempts": 3}}).run()
    log_in(at, "wrong password")
    assert "Wrong password. 2 attempt(s) left" in at.error[0].value and not shows_content(at)
    log_in(at, "")
    log_in(at, "Correct Horse Battery")
    assert not shows_content(at)
    log_in(at, PASSWORD)  # the right password, but this session is locked now
    assert "Too many wrong passwords" in at.error[0].value and not shows_content(at)

    # Every AppTest runs under the same server session id ("test session id"), which is what the
    # per-session limit counts; a new browser session has its own id, so forget this one's.
    access.limiter().reset("session:test session id")
    fresh = app({"access": {"password": PASSWORD, "max_attempts": 3}}).run()
    log_in(fresh, PASSWORD)
    assert_healthy(fresh)
    assert {m.label: m.value for m in fresh.metric}["BM\\-MSC responders"] == "74%"  # escaped label
    assert "Sign out" in [b.label for b in fresh.sidebar.button]
    next(b for b in fresh.sidebar.button if b.label == "Sign out").click().run()
    assert fresh.text_input(key="access_password") and not len(fresh.dataframe) and not len(fresh.metric)


@pytest.mark.app
def test_broken_access_settings_fail_closed():
    at = app({"access": {"password": "short"}}).run()
    assert not shows_content(at)
    assert "access settings are not valid, so nothing is shown" in at.error[0].value


# --- OIDC login in the app ---------------------------------------------------------------------


@pytest.mark.app
def test_oidc_signed_out_sees_only_the_sign_in_button():
    at = app({"auth": OIDC}, user={"is_logged_in": False}).run()
    assert_healthy(at)
    assert not shows_content(at)
    assert [b.label for b in at.button] == ["Sign in"]


@pytest.mark.app
def test_oidc_signed_in_sees_the_app_in_aggregate_only_mode():
    at = app({"auth": OIDC}, user={"is_logged_in": True, "email": "ana@uni.org", "name": "Ana"}).run()
    assert_healthy(at)
    assert {m.label: m.value for m in at.metric}["BM\\-MSC responders"] == "74%"  # escaped label
    assert any("ana@uni" in c.value for c in at.sidebar.caption)
    at.switch_page("app_pages/settings.py").run()
    text = " ".join(m.value for m in at.markdown) + " ".join(s.value for s in at.success)
    assert "Sign-in (OpenID Connect)" in text and "Aggregate only" in text


@pytest.mark.app
def test_oidc_account_not_on_the_access_list_is_refused():
    secrets = {"auth": OIDC, "access": {"allowed_domains": ["chu-montpellier.fr"]}}
    at = app(secrets, user={"is_logged_in": True, "email": "eve@evil.org"}).run()
    assert not shows_content(at)
    assert "not on this trial's access list" in at.error[0].value
    ok = app(secrets, user={"is_logged_in": True, "email": "pi@chu-montpellier.fr"}).run()
    assert shows_content(ok)


# --- aggregate-only mode -------------------------------------------------------------------------


def aggregate_app(**query: str) -> AppTest:
    at = app({"access": {"password": PASSWORD}}, **query).run()
    return log_in(at, PASSWORD)


def infos(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


@pytest.mark.app
def test_aggregate_only_hides_individual_views():
    at = aggregate_app()
    at.switch_page("app_pages/trajectories.py").run()
    assert_healthy(at)
    assert "Individual trajectories: hidden in aggregate-only mode" in infos(at)
    assert "Waterfall (one bar per subject): hidden" in infos(at)
    assert len(at.get("plotly_chart")) == 1  # the means by visit stay
    at.switch_page("app_pages/explorer.py").run()
    assert "Distribution of values: hidden" in infos(at)
    at.switch_page("app_pages/profile.py").run()
    assert "Cumulative distribution (one step per subject): hidden" in infos(at)
    at.switch_page("app_pages/mri.py").run()
    assert "Scatter plot of subjects: hidden" in infos(at)


@pytest.mark.app
def test_full_detail_shows_the_same_views():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/trajectories.py").run()
    assert "hidden in aggregate-only mode" not in infos(at)
    assert len(at.get("plotly_chart")) == 3


@pytest.mark.app
def test_aggregate_only_suppresses_small_cells_on_the_safety_page():
    at = aggregate_app()
    at.switch_page("app_pages/safety.py").run()
    assert_healthy(at)
    by_term = at.dataframe[1].value
    cells = by_term[["BM-MSC", "Sham"]].to_numpy().ravel().tolist()
    assert any(c.startswith("<5/") for c in cells)
    for c in cells:  # no count from 1 to 4 is left
        count = c.split("/")[0]
        assert count == "<5" or int(count) == 0 or int(count) >= 5, c
    assert any(privacy.note(5) == c.value for c in at.caption)


@pytest.mark.app
def test_aggregate_only_withholds_a_selection_with_a_small_arm():
    at = aggregate_app(filter="site=FR-04 Rennes")  # 7 BM-MSC, 1 Sham
    for page in ("app_pages/explorer.py", "app_pages/subgroups.py", "app_pages/baseline.py"):
        at.switch_page(page).run()
        assert_healthy(at, page)
        assert any("fewer than 5 subjects in Sham" in w.value for w in at.warning), page
        assert not len(at.dataframe) and not at.get("plotly_chart"), page
        # nor its size: the sidebar said "8 of 111 subjects" for the selection it withheld
        sidebar = " ".join(e.value for e in [*at.sidebar.info, *at.sidebar.caption, *at.sidebar.warning])
        assert "Selection withheld" in sidebar and not re.search(r"\b8\b|of 1\d\d subjects", sidebar), sidebar


@pytest.mark.app
def test_settings_page_says_open_and_previews_aggregate_only_mode():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/settings.py").run()
    assert_healthy(at)
    assert "**Open.**" in at.warning[-1].value
    server = at.dataframe[0].value
    assert set(server["Status"]) == {"ok"}, server  # the shipped config.toml is safe
    at.toggle(key="w_aggregate_preview").set_value(True).run()
    at.switch_page("app_pages/trajectories.py").run()
    assert "Individual trajectories: hidden in aggregate-only mode" in infos(at)


# --- the small-cell rule on hand-made inputs -----------------------------------------------------


@pytest.mark.parametrize(("n", "k", "small"), [(0, 5, False), (1, 5, True), (4, 5, True), (5, 5, False),
                                               (3, 0, False), (None, 5, False), (float("nan"), 5, False)])
def test_is_small(n, k, small):
    assert privacy.is_small(n, k) is small


def test_counts_keep_their_type_unless_suppressed():
    assert privacy.count_cell(7, 5) == 7 and privacy.count_cell(0, 5) == 0
    assert privacy.count_cell(3, 5) == "<5"
    assert privacy.count_of_cell(2, 40, 5, lambda c, n: f"{c}/{n}") == "<5/40"


def _binary(arm: str, responders: int, n: int) -> BinarySummary:
    return BinarySummary(arm=arm, n=n, responders=responders, rate=responders / n, ci_low=0.0, ci_high=1.0)


def _result(arms: list[BinarySummary]) -> AnalysisResult:
    contrast = Contrast(arm="A", reference="B", measure="risk_difference", estimate=0.1, se=0.1,
                        ci_low=-0.1, ci_high=0.3, p_value=0.5, test="chi-square")
    return AnalysisResult(endpoint="RESP", endpoint_label="Responder", kind="binary", visit=12.0,
                          visit_label="Month 12", measure="aval", method="chisq",
                          method_label="Chi-square", population="ALL", arms=tuple(arms),
                          contrasts=(contrast,), n_total=sum(a.n for a in arms))


def test_binary_arm_and_contrast_tables_suppress_an_arm_with_few_responders():
    result = _result([_binary("A", 3, 20), _binary("B", 10, 20)])
    full = tables.arm_table(result)
    assert full["Responders / n"].tolist()[0].startswith("3/20")
    shown = tables.arm_table(result, 5)
    assert shown.iloc[0]["Responders / n"] == "<5/20" and shown.iloc[1]["Responders / n"].startswith("10/20")
    assert (shown.iloc[0].drop(["Arm", "Responders / n"]) == privacy.SUPPRESSED).all()
    contrasts = tables.contrast_table(result, 5)
    assert (contrasts.drop(columns=["Comparison", "Measure", "Test"]) == privacy.SUPPRESSED).all(axis=None)
    assert privacy.has_suppressed(shown, 5) and not privacy.has_suppressed(full, 5)


def test_rate_figure_leaves_out_a_suppressed_arm_and_says_so():
    result = _result([_binary("A", 3, 20), _binary("B", 10, 20)])
    colours = {"A": "#0072B2", "B": "#D55E00"}
    assert len(figures.rate_figure(result, colours).data) == 2
    fig = figures.rate_figure(result, colours, 5)
    assert [t.x[0] for t in fig.data] == ["B"]
    assert "1 value(s) describing fewer than 5 subjects" in fig.layout.annotations[-1].text


def test_counts_display_suppresses_the_difference_of_a_small_row():
    frame = pd.DataFrame({"category": ["Any event", "Serious"], "A|count": [12, 2], "A|n": [50, 50],
                          "B|count": [10, 0], "B|n": [49, 49], "rd": [0.04, 0.04], "rd_low": [-0.1, -0.01],
                          "rd_high": [0.2, 0.1], "p_value": [0.8, 0.5]})
    shown = tables.counts_display(frame, ["A", "B"], "category", "Category", min_cell=5)
    assert shown.iloc[1]["A"] == "<5/50" and shown.iloc[1]["B"].startswith("0/49")
    assert shown.iloc[1]["Risk difference [95% CI]"] == privacy.SUPPRESSED
    assert shown.iloc[0]["A"].startswith("12/50") and shown.iloc[0]["p (Fisher)"] != privacy.SUPPRESSED


def test_baseline_display_suppresses_small_levels_and_their_smd():
    frame = pd.DataFrame([
        {"variable": "Age", "level": "", "kind": "continuous", "smd|A": 0.1,
         **{f"{g}|{s}": v for g in ("A", "B", "Overall")
            for s, v in (("n", 20), ("mean", 40.0), ("sd", 9.0), ("median", 40), ("q1", 33), ("q3", 47))}},
        {"variable": "Smoking", "level": "Current", "kind": "categorical", "smd|A": 0.3,
         "A|count": 3, "A|pct": 15.0, "B|count": 6, "B|pct": 30.0, "Overall|count": 9, "Overall|pct": 22.5},
    ])
    shown = tables.baseline_display(frame, ["A", "B"], min_cell=5)
    assert shown.iloc[1]["A"] == "<5" and shown.iloc[1]["B"].startswith("6 ")
    assert shown.iloc[1]["SMD"] == privacy.SUPPRESSED and shown.iloc[0]["SMD"] == "0.10"


# --- text from data and links is never HTML ------------------------------------------------------


def test_no_code_renders_raw_html():
    """No unsafe_allow_html, st.html or components.html anywhere in the app: every text from a data
    set, a file name or a link is rendered as text by Streamlit (and Markdown-escaped by fmt)."""
    offenders = []
    for path in [REPO / "app.py", *(REPO / "app_pages").glob("*.py"), *(REPO / "respine").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
                offenders.append(f"{path.name}: unsafe_allow_html")
            if isinstance(node, ast.Attribute) and ast.unparse(node) in ("st.html", "components.html"):
                offenders.append(f"{path.name}: {ast.unparse(node)}")
    assert not offenders


PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
UNESCAPED_TAG = re.compile(r"(?<!\\)<(?:img|script|b)\b", re.IGNORECASE)


@pytest.mark.app
def test_html_in_a_data_set_and_its_folder_name_is_shown_as_text(tmp_path, monkeypatch):
    """A trial whose title, arm and site labels carry HTML and script, in a folder whose name is
    HTML: every page renders, and every Markdown text shows the tags escaped (as text)."""
    folder_name = "<b>trial<i>"  # a folder name cannot hold "/"
    folder = tmp_path / folder_name
    folder.mkdir()
    subjects = pd.read_csv(REPO / "data" / "subjects.csv")
    subjects["site"] = subjects["site"].where(subjects["site"] != "IT-01 Rome", f"Rome {PAYLOAD}")
    subjects.to_csv(folder / "subjects.csv", index=False)
    for name in ("measurements.csv", "adverse_events.csv"):
        (folder / name).write_bytes((REPO / "data" / name).read_bytes())
    study = (REPO / "data" / "study.toml").read_text(encoding="utf-8")
    study = re.sub(r'(?m)^title = ".*"$', f"title = '{PAYLOAD}'", study, count=1)
    (folder / "study.toml").write_text(study, encoding="utf-8")

    monkeypatch.setenv("RESPINE_DATA_ROOT", str(tmp_path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    at.text_input(key="folder_path").set_value(folder_name).run()
    next(b for b in at.button if b.label == "Open folder").click().run()
    if "Use these data anyway" in [b.label for b in at.button]:
        next(b for b in at.button if b.label == "Use these data anyway").click().run()
    assert folder_name in at.session_state["trial"].source, [e.value for e in at.error]
    seen = False
    for page in each_page(at, from_overview=False):
        assert_healthy(at, page)
        texts = [e.value for kind in ("markdown", "caption", "title", "header", "subheader", "info",
                                      "warning", "error", "success") for e in at.get(kind)]
        texts += [m.label for m in at.metric] + [m.value for m in at.metric]
        for text in texts:
            assert not UNESCAPED_TAG.search(str(text)), (page, text)
        seen = seen or any("\\<b\\>trial" in str(t) or "\\<img" in str(t) for t in texts)
    assert seen  # the payload was shown somewhere, escaped


def test_interaction_tests_leave_out_subjects_whose_level_is_missing():
    """Found by the HTML test above: an empty covariate cell (NaN) made the levels unsortable and
    the Reproduce-the-paper page failed. A missing level now leaves the test, as in the forest plot."""
    from respine.stats.models import interaction_f_test, interaction_lr_test

    y = pd.Series([1.0, 2.0, 3.0, 4.0, 2.0, 5.0, 1.0, 3.0, 2.5, 9.0]).to_numpy()
    arm = pd.Series([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], dtype=float).to_numpy()
    level = pd.Series(["a", "a", "b", "b", "a", "b", "b", "a", None, float("nan")], dtype=object).to_numpy()
    known = slice(0, 8)
    assert interaction_f_test(y, arm, level) == interaction_f_test(y[known], arm[known], level[known])
    binary = (y > 2.5).astype(float)
    assert interaction_lr_test(binary, arm, level) == pytest.approx(
        interaction_lr_test(binary[known], arm[known], level[known]), nan_ok=True
    )


def test_families_of_comparisons_suppress_rows_describing_few_subjects():
    frame = pd.DataFrame({
        "visit": ["Month 1", "Month 24"], "measure": ["risk_difference"] * 2, "estimate": [0.1, 0.2],
        "ci_low": [-0.1, -0.2], "ci_high": [0.3, 0.6], "p_value": [0.4, 0.3], "p_holm": [0.6, 0.6],
        "p_hochberg": [0.4, 0.4], "p_bh": [0.4, 0.4], "test": ["chi-square"] * 2,
        "n_min": [40.0, 12.0], "count_min": [20.0, 4.0],
    })
    shown = tables.multiplicity_display(frame, "Visit", 5)
    assert shown.iloc[0]["p (raw)"] != privacy.SUPPRESSED
    assert (shown.iloc[1].drop("Visit") == privacy.SUPPRESSED).all() and shown.iloc[1]["Visit"] == "Month 24"
    assert (tables.multiplicity_display(frame, "Visit") != privacy.SUPPRESSED).all(axis=None)
    gee = frame.assign(arm="A", reference="B", se=0.1)
    shown = tables.gee_display(gee, 5)
    assert shown.iloc[1]["Odds ratio [95% CI]"] == privacy.SUPPRESSED
    assert shown.iloc[1]["Comparison"] == "A vs B"
    assert shown.iloc[0]["p-value"] != privacy.SUPPRESSED


def test_gee_and_family_frames_carry_their_smallest_counts(trial):
    gee = robustness.gee_over_visits(trial, selection.Selection(endpoint="RESP"))
    month12 = gee.loc[gee["visit"] == "Month 12"].iloc[0]
    assert (month12["n_min"], month12["count_min"]) == (49, 34)  # Sham: 34 responders of 49
    family = robustness.multiplicity_over_visits(trial, selection.Selection(endpoint="RESP"))
    month12 = family.loc[family["visit"] == "Month 12"].iloc[0]
    assert (month12["n_min"], month12["count_min"]) == (49, 34)


MARKUP_ARM = "<b>Placebo</b> <a href='https://example.org/phish'>click</a> & co"


def test_markup_in_labels_is_literal_in_every_figure_text():
    """Plotly draws <b> and <a href> in legends, ticks, titles and hovers: labels from the data are
    escaped (plotly shows the entities as the characters), so no label becomes bold or a link."""
    assert fmt.plot_text(MARKUP_ARM) == (
        "&lt;b&gt;Placebo&lt;/b&gt; &lt;a href='https://example.org/phish'&gt;click&lt;/a&gt; &amp; co"
    )
    colours = {"Cells": "#0072B2", MARKUP_ARM: "#999999"}
    frame = pd.DataFrame({
        "arm": ["Cells", MARKUP_ARM] * 2, "visit_month": [1, 1, 12, 12],
        "visit": ["<i>M1</i>"] * 2 + ["M12"] * 2,
        "estimate": [1.0, 2.0, 3.0, 4.0], "ci_low": [0.0] * 4, "ci_high": [5.0] * 4, "n": [10] * 4,
    })
    fig = figures.over_time_figure(frame, colours, f"Title {MARKUP_ARM}", "y <sup>2</sup>")
    texts = [fig.layout.title.text, fig.layout.yaxis.title.text, *fig.layout.xaxis.ticktext]
    for trace in fig.data:
        texts += [trace.name, *trace.hovertext]
    for text in texts:
        for tag in ("<a", "<i>", "<sup>", "<b>Placebo"):
            assert tag not in text, text
    assert any("&lt;a href=" in t for t in texts)


@pytest.mark.app
def test_missing_data_page_suppresses_its_two_linked_tables_together(trial):
    """Patterns add up to the completion counts: built apart, the page let a reader of the <5
    markers recover the BM-MSC complete pattern and with it two hidden counts."""
    at = aggregate_app()
    at.switch_page("app_pages/missing.py").run()
    assert_healthy(at)
    frame = missing.completion(trial, "MITT", "VAS")
    patterns = missing.missing_patterns(trial, "MITT", "VAS")
    expected = tables.missing_display(frame, patterns, [*trial.design.arms, "Total"], 5)
    shown = [at.dataframe[0].value, at.dataframe[1].value]
    assert shown[0].astype(str).equals(expected[0].astype(str))
    assert shown[1].astype(str).equals(expected[1].astype(str))


def test_a_count_whose_rest_is_small_is_suppressed_with_it():
    """'48/50' says 2 subjects did not respond: the rest of a count is a cell too."""
    result = _result([_binary("A", 48, 50), _binary("B", 30, 50)])
    table = tables.arm_table(result, 5)
    row = table.set_index("Arm").loc["A"]
    assert row["Responders / n"] == ">45/50"
    assert all(v == privacy.SUPPRESSED for c, v in row.items() if c not in ("Responders / n",))
    assert "48" not in " ".join(map(str, row.to_list())) and "96" not in " ".join(map(str, row.to_list()))
    assert tables.arm_table(result, 5).set_index("Arm").loc["B", "Responders / n"] == "30/50 (60.0%)"
    fig = figures.rate_figure(result, {"A": "#000", "B": "#111"}, 5)
    assert [t.name for t in fig.data if t.name] == ["B"]
    assert privacy.split_small(48, 50, 5) and not privacy.split_small(45, 50, 5)


def test_completion_figure_leaves_out_bars_whose_count_the_table_hides(trial):
    """A bar at 98.2% of 56 gives the one missing subject away; one at 89.3% a hidden count."""
    frame = missing.completion(trial, "MITT", "VAS")
    patterns = missing.missing_patterns(trial, "MITT", "VAS")
    completion_table, _ = tables.missing_display(frame, patterns, [*trial.design.arms, "Total"], 5)
    hidden = tables.count_hidden(completion_table, "With a value")
    assert any(hidden) and not all(hidden)
    colours = figures.arm_colours(trial.design.arms, trial.design.reference_arm)
    fig = figures.completion_figure(frame, colours, "t", min_cell=5, hidden=hidden)
    drawn = {(t.name, x) for t in fig.data for x in (t.x if t.x is not None else ())}
    for row, is_hidden in zip(frame.itertuples(), hidden, strict=True):
        assert ((row.arm, row.visit) in drawn) != is_hidden, (row.arm, row.visit)
