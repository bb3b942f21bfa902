"""Participant flow (CONSORT 2010 item 13) computed from the subject and measurement tables."""

from __future__ import annotations

import pandas as pd

from respine.model import design as S

YES = ("Y", "1", "TRUE")


def _flag(series: pd.Series) -> pd.Series:
    return series.astype(str).str.upper().isin(YES)


def default_flow_endpoint(trial: S.Trial) -> str:
    """The endpoint whose assessments count follow-up by default: the primary endpoint, or the
    first measured endpoint it is derived from; without a primary analysis the study's first
    measured endpoint."""
    d = trial.design
    if d.primary is not None:
        ep = trial.endpoint(d.primary.endpoint)
        return ep.derived_from[0] if ep.is_derived else ep.id
    measured = [e for e in d.endpoints if not trial.endpoint(e).is_derived]
    present = [str(e) for e in trial.measurements[S.ENDPOINT].unique()]
    return (measured or present or [""])[0]


def participant_flow(trial: S.Trial, endpoint: str | None = None) -> pd.DataFrame:
    """Counts per arm for each stage of the CONSORT diagram.

    Rows: randomised; received the allocated procedure (or not, with reasons); assessed for
    ``endpoint`` (default :func:`default_flow_endpoint`) at each post-baseline visit; withdrew,
    by reason; analysed in each population. Columns: stage, detail, one per arm, Total.
    """
    endpoint = endpoint or default_flow_endpoint(trial)
    s, d = trial.subjects, trial.design
    arms = [*d.treatment_arms, d.reference_arm]
    rows: list[dict[str, object]] = []

    def add(stage: str, detail: str, mask: pd.Series) -> None:
        counts = s[mask].groupby(S.ARM).size()
        row: dict[str, object] = {"stage": stage, "detail": detail}
        for a in arms:
            row[a] = int(counts.get(a, 0))
        row["Total"] = int(mask.sum())
        rows.append(row)

    everyone = pd.Series(True, index=s.index)
    add("Allocation", "Randomised", everyone)
    if "treated" in s.columns:
        treated = _flag(s["treated"])
        add("Allocation", "Received the allocated procedure", treated)
        add("Allocation", "Did not receive it", ~treated)
    m = trial.measurements
    assessed = m[m[S.ENDPOINT] == endpoint]
    base = min(v.number for v in d.visits)
    for v in d.visits:
        if v.number == base:
            continue
        ids = set(assessed.loc[assessed[S.VISIT_MONTH] == v.number, S.SUBJECT_ID])
        add("Follow-up", f"Assessed at {v.label} ({endpoint})", s[S.SUBJECT_ID].isin(ids))
    if "status" in s.columns:
        withdrew = s["status"].astype(str).str.startswith("Withdrew")
        add("Follow-up", "Withdrew (any reason)", withdrew)
        if "withdrawal_reason" in s.columns:
            reasons = s["withdrawal_reason"].fillna("").astype(str)
            for reason in sorted(set(reasons[withdrew]) - {""}):
                add("Follow-up", f"  {reason}", withdrew & (reasons == reason))
    for pop in d.populations:
        add("Analysis", f"{pop.id}: {pop.label}", _flag(s[pop.column]))
    return pd.DataFrame(rows)


def flow_lines(flow: pd.DataFrame, columns: list[str]) -> list[tuple[list[tuple[int, str]], tuple[int, str]]]:
    """The sums a :func:`participant_flow` table publishes down each column, as lines
    ``(cells, total)`` of ``(row position, column)`` cells for
    :func:`respine.present.privacy.secondary_suppression`.

    In every column: the randomised are those who received the allocated procedure plus those
    who did not; the withdrawn (any reason) are the sum of the reasons, when every withdrawal has
    one. (The rows adding up to the Total column are declared by the table's caller.)
    """
    detail = [str(d) for d in flow["detail"]]
    stage = [str(x) for x in flow["stage"]]

    def at(label: str) -> int | None:
        return detail.index(label) if label in detail else None

    lines: list[tuple[list[tuple[int, str]], tuple[int, str]]] = []
    randomised, received, not_received = (
        at("Randomised"), at("Received the allocated procedure"), at("Did not receive it"))
    if None not in (randomised, received, not_received):
        lines += [([(received, c), (not_received, c)], (randomised, c)) for c in columns]
    withdrew = at("Withdrew (any reason)")
    if withdrew is not None:
        reasons = [i for i, (s, d) in enumerate(zip(stage, detail, strict=True))
                   if s == "Follow-up" and d.startswith("  ")]
        for c in columns:
            if reasons and sum(int(flow[c].iat[i]) for i in reasons) == int(flow[c].iat[withdrew]):
                lines.append(([(i, c) for i in reasons], (withdrew, c)))
    return lines


def flow_dot(flow: pd.DataFrame, arms: list[str]) -> str:
    """The flow as a Graphviz DOT diagram: one column of boxes per arm under the randomisation."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', "'")

    lines = ['digraph consort {', 'rankdir=TB; node [shape=box, style="rounded", fontname="Helvetica", '
             'fontsize=10]; edge [arrowsize=0.6];']
    # counts are shown as given: numbers, or "<k" strings under the small-cell rule
    total = flow.loc[flow["detail"] == "Randomised", "Total"].iloc[0]
    lines.append(f'rand [label="Randomised\\nn = {total}"];')
    for i, arm in enumerate(arms):
        prev = "rand"
        for stage in ("Allocation", "Follow-up", "Analysis"):
            part = flow[(flow["stage"] == stage) & (flow["detail"] != "Randomised")]
            if part.empty:
                continue
            text = "\\l".join(f"{esc(r['detail'].strip())}: {r[arm]}" for _, r in part.iterrows())
            head = f"{esc(arm)}: {stage.lower()}"
            if stage == "Allocation":
                n = flow.loc[flow["detail"] == "Randomised", arm].iloc[0]
                head = f"Allocated to {esc(arm)} (n = {n})"
            node = f"n{i}_{stage[:3].lower()}"
            lines.append(f'{node} [label="{head}\\l{text}\\l"];')
            lines.append(f"{prev} -> {node};")
            prev = node
    lines.append("}")
    return "\n".join(lines)

