"""The pickers pages share, built once: endpoint, visit, measure, method, and page options.

Each keeps the widget label and key the pages had (links and tests rely on them): bound pickers
go through :func:`respine.ui.state.bound` (the view's fields, in the link by name), page options
through :func:`respine.ui.state.option` (``o_<name>`` in the link).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from respine import derive
from respine.analyses import availability, compare, repeated
from respine.model import design as S
from respine.model.endpoints import Endpoint
from respine.model.selection import Selection
from respine.present.fmt import md_escape
from respine.ui import state
from respine.ui.context import PageContext, compared


def endpoints(ctx: PageContext, keep: Callable[[Endpoint], bool] | None = None) -> list[str]:
    """Endpoints with data in the trial, in declared order; only those ``keep`` accepts."""
    available = availability.available_endpoints(ctx.trial)
    return [e for e in available if keep is None or keep(ctx.endpoint(e))]


def endpoint(ctx: PageContext, options: Sequence[str], label: str = "Endpoint") -> str:
    """The view's endpoint, among ``options``."""
    return state.bound("endpoint", st.selectbox, label, options=list(options), format_func=ctx.label)


def visit(ctx: PageContext, endpoint_id: str, label: str = "Visit", post_baseline: bool = False) -> float:
    """The view's visit, among the visits with data of ``endpoint_id`` (after baseline only with
    ``post_baseline``)."""
    visits = (availability.post_baseline_visits if post_baseline else availability.visits_with_data)(
        ctx.trial, endpoint_id
    )
    return state.bound("visit", st.selectbox, label, options=visits, format_func=ctx.visit_label)


def measure() -> str:
    """The view's measure of a continuous endpoint (change, percent change, observed value)."""
    return state.bound(
        "measure", st.selectbox, "Measure", options=list(derive.MEASURES), format_func=derive.MEASURES.get
    )


def method(kind: str, label: str = "Method", methods: Mapping[str, str] | None = None) -> str:
    """The view's comparison method for an endpoint of ``kind`` (binary methods are a field of
    their own, so a choice for one kind survives a visit to the other)."""
    methods = compare.methods_for(kind) if methods is None else methods
    return state.bound(
        "binary_method" if kind == "binary" else "method",
        st.selectbox,
        label,
        options=list(methods),
        format_func=methods.get,
    )


def _uses(ep: Endpoint, method: str, **probe: Any) -> bool:
    """Whether ``method`` uses a Selection field: the normalisation (the one statement of which
    fields each method reads) keeps a non-default value of it."""
    kept = Selection(endpoint=ep.id, method=method, **probe).normalised(ep)
    return all(getattr(kept, name) == value for name, value in probe.items())


def method_settings(ctx: PageContext, ep: Endpoint, method: str) -> None:
    """The view's settings of ``method`` that it uses: LS-means weighting (ANCOVA), covariance
    and degrees of freedom (MMRM), and the covariates (the adjusted methods; CMH: strata)."""
    if _uses(ep, method, lsmeans_weights="equal"):
        state.bound(
            "lsmeans_weights",
            st.radio,
            "LS means weighting",
            options=["observed", "equal"],
            horizontal=True,
            help="Observed proportions of covariate levels, or equal weights per level.",
        )
    if _uses(ep, method, covariance="ar1", df_method="kenward-roger"):
        # Labels and choices as declared (model/params.py); the catalogues name the choices.
        fields = (("covariance", repeated.COVARIANCES), ("df_method", repeated.DF_METHODS),
                  ("covariance_by", repeated.COVARIANCE_BY), ("vcov", repeated.VCOVS))
        for column, (field, names) in zip(st.columns(len(fields)), fields, strict=True):
            with column:
                state.bound(field, st.selectbox, options=list(state.choices(field)), format_func=names.get)
        st.caption("The spatial exponential structure correlates visits by their distance in visit "
                   "numbers (months here; AVISITN in an ADaM study). Kenward-Roger degrees of freedom "
                   "go with model-based standard errors only; empirical ones use Bell-McCaffrey's.")
    if _uses(ep, method, covariates=("_",)):
        covariates = {c.column: c.label for c in ctx.design.covariates}
        state.bound_multi(
            "covariates",
            "Adjust for (covariates; CMH: strata)",
            list(covariates),
            format_func=lambda c: covariates.get(c, c),
        )


def choice(
    name: str,
    label: str,
    choices: Sequence[Any] | Mapping[Any, str],
    widget: Callable[..., Any] = st.radio,
    **kwargs: Any,
) -> Any:
    """A page option among ``choices`` (the first is the default). A mapping gives each choice
    its label (radio labels are Markdown: a label holding data text must come escaped)."""
    options = list(choices)
    if isinstance(choices, Mapping):
        labels = dict(choices)
        kwargs["format_func"] = labels.get
    if widget is st.radio:
        kwargs.setdefault("horizontal", True)
    return state.option(name, widget, label, default=options[0], choices=options, **kwargs)


def endpoint_option(
    ctx: PageContext,
    name: str,
    options: Sequence[str],
    label: str = "Endpoint",
    widget: Callable[..., Any] = st.selectbox,
    **kwargs: Any,
) -> str:
    """A page's own endpoint picker (not the view's endpoint), first option by default."""
    if widget is st.radio:  # radio options are Markdown: data labels are escaped
        kwargs.setdefault("horizontal", True)
        kwargs["format_func"] = lambda e: md_escape(ctx.label(e))
    else:
        kwargs["format_func"] = ctx.label
    options = list(options)
    return state.option(name, widget, label, default=options[0], choices=options, **kwargs)


def arms(study: S.Trial) -> None:
    """The sidebar's choice of arms for a study of more than two arms: the arms shown and arms
    pooled into one (the view's ``arms`` and ``pool``; the reference is its own control), with a
    note when the choice cannot be made (then :func:`respine.ui.context.compared` says what is
    shown instead)."""
    names = list(study.design.arms)
    if len(names) <= 2:
        return
    view = state.view()
    shown_key, pool_key = "w_arms", "w_pool"
    state.seed(shown_key, [a for a in names if a in view.arms] or names)
    st.multiselect("Arms shown", names, key=shown_key, on_change=_copy_arms, args=(shown_key, "arms", names),
                   help="Every arm shown is compared with the reference arm.")
    state.seed(pool_key, [a for a in names if a in view.pool])
    st.multiselect("Pool arms into one", names, key=pool_key, on_change=_copy_arms,
                   args=(pool_key, "pool", names),
                   help="Analyse these arms as one arm (e.g. every active dose); the reference "
                        "arm cannot be pooled with the others.")
    _, problem = compared(study, view)
    if problem:
        st.warning(md_escape(problem), icon=":material/call_split:")


def _copy_arms(key: str, field: str, names: list[str]) -> None:
    chosen = [a for a in names if a in (st.session_state.get(key) or [])]
    # every arm shown is the default (none named), so the link stays as short as before
    value = () if field == "arms" and len(chosen) == len(names) else tuple(chosen)
    state.update(**{field: value})


#: The direction-of-benefit choices of :func:`direction`: the endpoint's ``lower_is_better``.
DIRECTIONS: dict[bool | None, str] = {None: "Not declared (no 'favours' wording)",
                                      True: "Lower values are better", False: "Higher values are better"}


def direction(ctx: PageContext, endpoint_id: str) -> None:
    """The reader's direction of benefit of an endpoint the study file leaves undeclared (an
    ADaM parameter until ``[endpoints.X] lower_is_better`` is written), kept in the view's
    ``lower_better`` / ``higher_better`` (so in the link and on the command line); drawn only
    for such an endpoint, or one whose direction the reader set."""
    declared = ctx.study.endpoint(endpoint_id).lower_is_better
    view = state.view()
    set_here = endpoint_id in view.lower_better or endpoint_id in view.higher_better
    if declared is not None and not set_here:
        return
    options = [d for d in DIRECTIONS if (d is None and declared is None) or d is not None]
    key = f"w_direction_{endpoint_id}"
    state.seed(key, ctx.trial.endpoint(endpoint_id).lower_is_better)
    st.selectbox("Direction of benefit", options, key=key, format_func=DIRECTIONS.__getitem__,
                 on_change=_copy_direction, args=(key, endpoint_id, declared),
                 help="Which values are better for this endpoint: the study file does not say "
                      "([endpoints.<id>] lower_is_better in study.toml). Once set, the tables say "
                      "which side of a difference favours the treatment.")


def _copy_direction(key: str, endpoint_id: str, declared: bool | None) -> None:
    chosen = st.session_state.get(key)
    view = state.view()
    lower = tuple(e for e in view.lower_better if e != endpoint_id)
    higher = tuple(e for e in view.higher_better if e != endpoint_id)
    if chosen is True and declared is not True:
        lower += (endpoint_id,)
    elif chosen is False and declared is not False:
        higher += (endpoint_id,)
    state.update(lower_better=lower, higher_better=higher)
