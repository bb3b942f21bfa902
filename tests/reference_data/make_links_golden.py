"""Write tests/reference_data/links_golden.json: links a reader could have copied from the app, and
what the app makes of each (the link it writes back, its notes, what the page shows).

tests/test_links_compat.py opens every link again and compares. This script is the only writer
of the golden file. Re-run it from the repository root, with the project's virtualenv::

    python tests/reference_data/make_links_golden.py          # opens each link twice, then writes
    python tests/reference_data/make_links_golden.py --check  # compares with the file, writes nothing

Re-run it only for an intended change of what a link shows (and say so in the commit); after a
refactor that should change nothing, run the test instead. Each link is opened twice, in two new
sessions: a link whose snapshot differs between the two is an error, and nothing is written.
The shipped data (data/) are used: RESPINE_DATA and RESPINE_DATA_ROOT are ignored.

What is recorded, and how a link is opened, is defined once, in tests/test_links_compat.py
(:func:`open_link`, :func:`snapshot`); this script only lists the links.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# (id, link, what it covers). Each link is a path (a page's url path in app.py) and a query.
LINKS: list[tuple[str, str, str]] = [
    # --- every page with the default view (a link copied without changing anything) -------------
    ("overview", "/", "study overview (default page), no parameters"),
    ("explorer", "/explorer", "endpoint explorer, default view"),
    ("responders", "/responders", "responders, primary rule"),
    ("subgroups", "/subgroups", "subgroups, default variables"),
    ("paper", "/paper", "reproduce the paper"),
    ("data", "/data", "load data page"),
    ("report", "/report", "report page, no view yet"),
    ("settings", "/settings", "settings page"),
    # --- view parameters ---------------------------------------------------------------------
    ("overview-pp-filter", "/?pop=PP&filter=sex=Female",
     "pop, categorical filter with one level, on the default page"),
    ("explorer-odi-pchg-m6", "/explorer?ep=ODI&visit=6.0&measure=pchg",
     "ep, visit written as 6.0 (written back as 6), measure=pchg"),
    ("explorer-sf36-aval-pp", "/explorer?ep=SF36PCS&visit=3&measure=aval&pop=PP&method=welch",
     "ep=SF36PCS, measure=aval, pop=PP, method=welch named explicitly"),
    ("explorer-ancova", "/explorer?ep=ODI&method=ancova&cov=age,sex&lsw=equal",
     "method=ancova, cov (two), lsw=equal"),
    ("explorer-mmrm-ar1-kr", "/explorer?ep=VAS&method=mmrm&covstruct=ar1&df=kenward-roger&cov=baseline_odi",
     "method=mmrm, covstruct=ar1, df=kenward-roger, cov"),
    ("explorer-mmrm-cs", "/explorer?ep=ODI&method=mmrm&covstruct=cs&visit=24",
     "method=mmrm, covstruct=cs, Satterthwaite df, visit 24"),
    ("explorer-mann-whitney", "/explorer?method=mann_whitney&visit=24&mcid_vas=30",
     "method=mann_whitney; mcid_vas kept in the link on a page that does not use it"),
    ("explorer-resp-cmh", "/explorer?ep=RESP&bmethod=cmh&cov=country",
     "binary endpoint, bmethod=cmh with a stratum"),
    ("explorer-resp-logistic", "/explorer?ep=RESP&bmethod=logistic&cov=sex,age&visit=6",
     "bmethod=logistic with covariates, visit 6"),
    ("explorer-hla1-fisher", "/explorer?ep=HLA1&bmethod=fisher&visit=24",
     "safety endpoint HLA1, bmethod=fisher"),
    ("explorer-ref-bmmsc", "/explorer?ref=BM-MSC&ep=VAS&measure=aval",
     "ref: the other arm as reference (not drawn with two arms)"),
    ("explorer-mri-visit-fallback", "/explorer?ep=MRIT2&visit=24",
     "a visit the study has but the endpoint lacks: caption, not a URL note"),
    ("responders-rule",
     "/responders?vas_pct=30&vas_mm=25&vas_join=OR&odi_pct=15&join=AND&bmethod=fisher&visit=6",
     "every responder rule field, bmethod=fisher, visit 6"),
    ("responders-mcid-filters",
     "/responders?mcid_vas=20&mcid_odi=8&pop=PP&filter=smoking=Never|Former&filter=age=30..50",
     "mcid_vas, mcid_odi, level filter with two levels, numeric range filter"),
    ("responders-open-ranges",
     "/responders?filter=baseline_vas=60..&filter=bmi=..28.5&filter=pfirrmann=4|5&bmethod=chisq",
     "numeric ranges open at one end, numeric-looking levels, bmethod=chisq"),
    ("responders-vas-alone", "/responders?join=VAS&vas_mm=30",
     "the VAS criterion alone (join=VAS): the ODI threshold is shown but unused"),
    # --- page options (o_*) ------------------------------------------------------------------
    ("profile-odi-relative", "/profile?o_profile_endpoint=ODI&o_profile_scale=relative&visit=24&odi_pct=30",
     "o_profile_endpoint, o_profile_scale, odi_pct line"),
    ("profile-vas-lines", "/profile?vas_mm=30&mcid_vas=25&visit=6",
     "VAS threshold lines from vas_mm and mcid_vas"),
    ("subgroups-resp-or-cuts",
     "/subgroups?ep=RESP&o_subgroup_measure=odds_ratio&o_subgroup_vars=sex|age|country&o_cut_age=40,50",
     "o_subgroup_measure, o_subgroup_vars, o_cut_age"),
    ("subgroups-bad-cut", "/subgroups?ep=ODI&visit=6&o_subgroup_vars=bmi|modic&o_cut_bmi=abc",
     "a cut-point that is not a number: warning, median used"),
    ("trajectories-model", "/trajectories?o_traj_mode=model&ep=ODI&measure=pchg",
     "o_traj_mode=model, measure=pchg"),
    ("trajectories-mmrm-toep", "/trajectories?o_traj_mode=mmrm&covstruct=toep&df=kenward-roger&ep=SF36MCS",
     "o_traj_mode=mmrm, covstruct=toep, df=kenward-roger"),
    ("mri-odi-pp", "/mri?o_mri_clinical=ODI&pop=PP", "o_mri_clinical, pop=PP"),
    ("robustness-vas", "/robustness?ep=VAS&o_mult_family=endpoints",
     "robustness of a continuous endpoint, o_mult_family=endpoints"),
    ("robustness-resp", "/robustness?ep=RESP&o_bayes_threshold=15&o_gee_corr=unstructured&visit=6",
     "robustness of the responder endpoint: o_bayes_threshold, o_gee_corr"),
    ("baseline-median-filter", "/baseline?o_baseline_summary=median&filter=country%3DFrance%7CSpain",
     "o_baseline_summary, level filter percent-encoded as a browser copies it"),
    ("flow-odi", "/flow?o_flow_endpoint=ODI", "o_flow_endpoint"),
    ("safety-serious", "/safety?o_safety_serious=1&pop=SAFETY&filter=site=FR-01+Montpellier|FR-02%20Paris",
     "o_safety_serious toggle, pop=SAFETY, levels with spaces (+ and %20)"),
    ("missing-mri-randomised", "/missing?o_missing_endpoint=MRIT2&pop=RANDOMISED",
     "o_missing_endpoint, pop=RANDOMISED"),
    ("report-keeps-view", "/report?ep=ODI&filter=sex=Male",
     "a page without results keeps the view in the link"),
    # --- absurd values: fall back with a visible note ----------------------------------------
    ("absurd-explorer", "/explorer?ep=NOPE&visit=999&pop=%3Cscript%3Ex%3C/script%3E&vas_mm=-3&zz=1",
     "unknown endpoint, visit, population, out-of-range number, unknown parameter"),
    ("absurd-choices",
     "/explorer?method=fisher&measure=median&covstruct=banana&df=exact&lsw=none&ref=Placebo&bmethod=magic"
     "&join=XOR&vas_join=maybe",
     "invalid method, measure, covstruct, df, lsw, ref, bmethod, join, vas_join"),
    ("absurd-filters",
     "/responders?filter=sex=Alien&filter=age=0..200&filter=shoe=9&filter=age&cov=shoe,sex&mcid_vas=abc&visit=nan",
     "unknown level, range beyond the data, unknown column, malformed filter, bad covariate, bad numbers"),
    ("absurd-options",
     "/robustness?ep=RESP&o_bayes_threshold=99&o_gee_corr=banana&o_mult_family=x&o_Bad=1",
     "page options out of range or unknown: captions; an option name that is not one: a URL note"),
    ("absurd-subgroup-options", "/subgroups?o_subgroup_vars=sex|nonsense&o_cut_age=1e999",
     "an unknown subgroup variable: default variables with a caption; an option for a variable not shown"),
]


def record(link: str) -> dict:
    from tests.test_links_compat import failures, open_link, snapshot

    at = open_link(link)
    problems = failures(at)
    if problems:
        raise SystemExit(f"{link}: {problems}")
    return snapshot(at)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO))
    from tests.test_links_compat import GOLDEN

    for name in ("RESPINE_DATA", "RESPINE_DATA_ROOT"):
        os.environ.pop(name, None)
    os.chdir(REPO)  # Streamlit reads .streamlit/config.toml from the working directory
    check = "--check" in argv
    ids = [i for i, _, _ in LINKS]
    if len(set(ids)) != len(ids):
        raise SystemExit("link ids must be unique")
    out, differ = [], []
    old = {g["id"]: g for g in json.loads(GOLDEN.read_text(encoding="utf-8"))["links"]} if check else {}
    for link_id, link, covers in LINKS:
        start = time.perf_counter()
        entry = {"id": link_id, "link": link, "covers": covers, **record(link)}
        seconds = time.perf_counter() - start
        if check:
            if old.get(link_id) != entry:
                differ.append(link_id)
        elif {"id": link_id, "link": link, "covers": covers, **record(link)} != entry:
            raise SystemExit(f"{link}: two sessions that open this link show different things")
        print(f"{seconds:6.1f} s  {link_id:28}  {len(entry['shown']):3} items, {len(entry['notes'])} notes")
        out.append(entry)
    if check:
        print("differ from the golden file:", differ or "none")
        return 1 if differ or set(old) != set(ids) else 0
    GOLDEN.write_text(
        json.dumps({
            "about": "Written by tests/reference_data/make_links_golden.py from the code of the day; "
                     "read by tests/test_links_compat.py. Do not edit by hand.",
            "links": out,
        }, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {len(out)} links to {GOLDEN.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
