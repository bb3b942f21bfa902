"""Every view parameter, declared once: :class:`ViewState` has one field per choice a reader can
make, and the field's declaration says everything else about it.

A declaration (:func:`choice`, :func:`number`, :func:`visit_number`, :func:`name_set`, :func:`filter_set`)
gives, next to the field's name, type and default, its URL key, its command-line flag and help,
its bounds or where its allowed values come from (a fixed list, or a :data:`Source` the loaded
trial or a method catalogue fills in, see :class:`Options`), a human label, and where the value
goes in the analysis :class:`~respine.model.selection.Selection`. Everything else is derived
from these declarations, never written again per parameter:

- the URL codec (:mod:`respine.urlstate`): one key per parameter, non-defaults only;
- the command line (:mod:`respine.cli`): one option per flag;
- the analysis selection (:func:`to_selection`), which the app caches on
  (:func:`respine.ui.state.selection`);
- the widgets' labels and bounds (:func:`respine.ui.state.bound`).

A new view option is therefore one field here (plus, if it is new to the analysis, the field of
``Selection`` it fills). ``tests/test_params.py`` checks every declared parameter round-trips the
URL, has its CLI option and reaches the selection, so a new one is tested without a new test.

The declarations live in ``model/`` (the bottom layer) because the URL codec, the CLI and the UI
all read them, and because they name fields of ``Selection`` and ``ResponderRule``, which live
here too. They live apart from ``selection.py`` because they describe what a *reader* chooses (a
view), which is wider than what one analysis uses: the view keeps a continuous and a binary
method at once, and the responder rule as five flat numbers a widget can each show.

The order of the fields is the order in which a link is read, and so the order of the notes
about the values a link could not use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, replace
from typing import Any, Literal, TypeVar, get_args

from respine.model.rules import CRITERIA, MCID_ODI_POINTS, MCID_VAS_MM, PRIMARY_RULE, Criteria, Join
from respine.model.selection import Selection, SubgroupFilter

Kind = Literal["choice", "number", "visit", "names", "filters"]
"""How a value is written and read: one of a set of texts; a number within bounds; a visit
number of the study; a set of names (comma-separated in a link); subgroup filters."""

Source = Literal[
    "endpoints", "visits", "populations", "measures", "methods", "binary_methods", "arms", "filter_columns"
]
"""Where allowed values come from when they are not a fixed list: an attribute of :class:`Options`."""

EndpointKind = Literal["any", "continuous", "binary"]

META = "respine.param"  # key of a field's metadata that holds its Param


@dataclass(frozen=True)
class Param:
    """The declaration of one view parameter (read it from :data:`PARAMS`).

    Attributes
    ----------
    name : str
        The :class:`ViewState` field (and the widget key ``w_<name>``).
    kind : Kind
        How the value is written in links and on the command line.
    default : object
        The value when the reader chose nothing (the field's default).
    url : str
        Query parameter of the link.
    label : str
        What a reader calls it (widget label, notes).
    cli : str or None
        Command-line flag, or None if the command line does not offer it. Two parameters may
        share a flag (``--method`` sets the continuous and the binary method: the endpoint's kind
        picks which one the analysis uses).
    help : str
        Command-line help.
    choices : tuple of str, or Source, or None
        The allowed values: a fixed list, or where the loaded study or a catalogue provides them.
    bounds : (float, float) or None
        Closed interval of a number.
    to : str
        Field of :class:`Selection` the value fills; ``"rule.vas_pct"`` is a field of a field.
    endpoints : {"any", "continuous", "binary"}
        Fill ``to`` only for endpoints of this kind.
    empty_is_none : bool
        The empty text means "not chosen" (the study's default), None in the selection.
    sep : str
        What joins a set of names in a link and on the command line (``","``; ``"+"`` for
        pooled arms, whose names read as a sum).
    aliases : tuple of str
        Older spellings of the command-line flag, still accepted (``--join`` for
        ``--responder-criteria``), so scripts written against them keep working.
    """

    name: str
    kind: Kind
    default: Any
    url: str
    label: str
    cli: str | None
    help: str
    choices: tuple[str, ...] | Source | None
    bounds: tuple[float, float] | None
    to: str
    endpoints: EndpointKind
    empty_is_none: bool
    sep: str = ","
    aliases: tuple[str, ...] = ()

    @property
    def dest(self) -> str | None:
        """The argparse destination of the flag (``--lsmeans-weights`` -> ``lsmeans_weights``)."""
        return None if self.cli is None else self.cli.lstrip("-").replace("-", "_")

    def allowed(self, options: Options) -> tuple[Any, ...] | None:
        """The values the loaded study allows (None: any value within the bounds)."""
        if self.choices is None:
            return None
        if isinstance(self.choices, tuple):
            return self.choices
        return tuple(getattr(options, self.choices))

    def selection_value(self, value: Any) -> Any:
        """The value as the analysis takes it."""
        return None if self.empty_is_none and value == "" else value


T = TypeVar("T")


def _declare(kind: Kind, default: T, *, url: str, label: str, cli: str | None = None, help: str = "",
             choices: tuple[str, ...] | Source | None = None, bounds: tuple[float, float] | None = None,
             to: str | None = None, endpoints: EndpointKind = "any", empty_is_none: bool = False,
             sep: str = ",", aliases: tuple[str, ...] = ()) -> T:
    # The name is the field's, and ``to`` defaults to it: both filled in by _param.
    spec = Param(name="", kind=kind, default=default, url=url, label=label, cli=cli, help=help,
                 choices=choices, bounds=bounds, to=to or "", endpoints=endpoints,
                 empty_is_none=empty_is_none, sep=sep, aliases=aliases)
    # A dataclass field whose metadata holds the declaration; typed as its default so that
    # mypy checks the field's annotation against the default.
    out: Any = field(default=default, metadata={META: spec})
    return out  # type: ignore[no-any-return]


def choice(default: T, *, url: str, label: str, choices: tuple[str, ...] | Source, cli: str | None = None,
           help: str = "", to: str | None = None, endpoints: EndpointKind = "any",
           empty_is_none: bool = False, aliases: tuple[str, ...] = ()) -> T:
    """Declare a parameter whose value is one of ``choices`` (see :class:`Param`)."""
    return _declare("choice", default, url=url, label=label, cli=cli, help=help, choices=choices, to=to,
                    endpoints=endpoints, empty_is_none=empty_is_none, aliases=aliases)


def number(default: float, *, url: str, label: str, bounds: tuple[float, float], cli: str | None = None,
           help: str = "", to: str | None = None) -> float:
    """Declare a number within closed ``bounds`` (see :class:`Param`)."""
    return _declare("number", default, url=url, label=label, cli=cli, help=help, bounds=bounds, to=to)


def visit_number(default: float, *, url: str, label: str, cli: str | None = None, help: str = "") -> float:
    """Declare a visit of the study, by its number (months); the command line also takes a label."""
    return _declare("visit", default, url=url, label=label, cli=cli, help=help, choices="visits")


def name_set(*, url: str, label: str, choices: Source, cli: str | None = None,
             help: str = "", sep: str = ",") -> tuple[str, ...]:
    """Declare a set of names among ``choices`` (joined by ``sep`` in a link and on the command
    line; empty by default)."""
    default: tuple[str, ...] = ()
    return _declare("names", default, url=url, label=label, cli=cli, help=help, choices=choices, sep=sep)


def filter_set(*, url: str, label: str, choices: Source, cli: str | None = None,
            help: str = "") -> tuple[SubgroupFilter, ...]:
    """Declare subgroup filters on columns among ``choices`` (one link value or flag per filter)."""
    default: tuple[SubgroupFilter, ...] = ()
    return _declare("filters", default, url=url, label=label, cli=cli, help=help, choices=choices)


@dataclass(frozen=True)
class ViewState:
    """Every choice a person can make, across pages: one declared field per view parameter."""

    endpoint: str = choice("VAS", url="ep", label="Endpoint", choices="endpoints", cli="--endpoint",
                           help="endpoint id, e.g. RESP, VAS, ODI")
    population: str = choice("", url="pop", label="Population", choices="populations", cli="--population",
                             help="population id, e.g. MITT, PP, SAFETY, RANDOMISED", empty_is_none=True)
    measure: str = choice("chg", url="measure", label="Measure", choices="measures", cli="--measure",
                          help="continuous endpoints: chg (default), pchg or aval")
    method: str = choice("", url="method", label="Method", choices="methods", cli="--method",
                         endpoints="continuous", empty_is_none=True)
    binary_method: str = choice("", url="bmethod", label="Test", choices="binary_methods", cli="--method",
                                to="method", endpoints="binary", empty_is_none=True)
    # (noqa: ruff does not know that the Literal ``Join`` is immutable; the call returns a Field)
    vas_join: Join = choice("AND", url="vas_join", label="Combine the two VAS criteria with",  # noqa: RUF009
                            choices=("AND", "OR"), cli="--vas-pct-mm-join", aliases=("--vas-join",),
                            help="responder: the VAS criterion needs the %% AND the mm threshold (the "
                                 "primary rule), or either (OR)",
                            to="rule.vas_join")
    covariance: str = choice("us", url="covstruct", label="Within-subject covariance",
                             choices=("us", "cs", "ar1", "toep", "csh", "toeph", "ar1h", "ad", "adh",
                                      "sp_exp"), cli="--covariance",
                             help="MMRM within-subject covariance (default unstructured; sp_exp: "
                                  "spatial exponential in the visit numbers)")
    df_method: str = choice("satterthwaite", url="df", label="Degrees of freedom",
                            choices=("satterthwaite", "kenward-roger"), cli="--df",
                            help="MMRM degrees of freedom")
    covariance_by: str = choice("none", url="covby", label="Covariance matrix", choices=("none", "arm"),
                                cli="--covariance-by",
                                help="MMRM: one covariance matrix (none) or one per arm (arm)")
    vcov: str = choice("model", url="vcov", label="Standard errors",
                       choices=("model", "empirical", "empirical-bias-reduced", "empirical-jackknife"),
                       cli="--vcov", help="MMRM standard errors: model-based or empirical (sandwich: CR0, "
                                          "bias-reduced CR2, jackknife CR3)")
    lsmeans_weights: str = choice("observed", url="lsw", label="LS means weighting",
                                  choices=("observed", "equal"), cli="--lsmeans-weights",
                                  help="ANCOVA LS means: observed proportions or equal weights of covariate "
                                       "levels")
    reference: str = choice("", url="ref", label="Reference arm", choices="arms", cli="--reference",
                            help="reference arm (default: the study's)", empty_is_none=True)
    # The arms compared (respine.derive.arms.arm_view applies them to the trial once, before any
    # analysis): the arms shown (empty: every arm) and arms pooled into one (empty: none).
    arms: tuple[str, ...] = name_set(url="arms", label="Arms shown", choices="arms", cli="--arms",
                                     help="arms to show, comma-separated (default: every arm)")
    pool: tuple[str, ...] = name_set(url="pool", label="Pool arms", choices="arms", cli="--pool", sep="+",
                                     help='arms pooled into one, joined by "+", e.g. "Low Dose+High Dose"')
    # The direction of benefit of endpoints the study file leaves undeclared (or a reversal of a
    # declared one), set by the reader (respine.derive.directions applies it to the trial once).
    lower_better: tuple[str, ...] = name_set(
        url="lower", label="Lower values are better", choices="endpoints", cli="--lower-is-better",
        help="endpoints whose lower values are better, comma-separated (sets a direction the study "
             "file does not declare)")
    higher_better: tuple[str, ...] = name_set(
        url="higher", label="Higher values are better", choices="endpoints", cli="--higher-is-better",
        help="endpoints whose higher values are better, comma-separated")
    # The link key stays "join" (links written when it took AND/OR only keep their meaning).
    join: Criteria = choice("OR", url="join", label="A responder meets", choices=CRITERIA,  # noqa: RUF009
                            cli="--responder-criteria", aliases=("--join",),
                            help="responder: the criteria that make a responder: OR (the VAS or the ODI "
                                 "criterion, the primary rule), AND (both), VAS or ODI (that criterion "
                                 "alone)",
                            to="rule.join")
    visit: float = visit_number(12.0, url="visit", label="Visit", cli="--visit",
                         help='visit label ("Month 12") or number (12)')
    vas_pct: float = number(PRIMARY_RULE.vas_pct, url="vas_pct", label="VAS improvement at least (%)",
                            bounds=(0, 100), cli="--vas-pct", help="responder: VAS relative threshold (%%)",
                            to="rule.vas_pct")
    vas_mm: float = number(PRIMARY_RULE.vas_mm, url="vas_mm", label="VAS improvement at least (mm)",
                           bounds=(0, 100), cli="--vas-mm", help="responder: VAS absolute threshold (mm)",
                           to="rule.vas_mm")
    odi_pct: float = number(PRIMARY_RULE.odi_pct, url="odi_pct", label="ODI improvement at least (%)",
                            bounds=(0, 100), cli="--odi-pct", help="responder: ODI relative threshold (%%)",
                            to="rule.odi_pct")
    mcid_vas: float = number(MCID_VAS_MM, url="mcid_vas", label="VAS MCID (mm)", bounds=(0, 100),
                             cli="--mcid-vas", help="MCID for VAS (mm)")
    mcid_odi: float = number(MCID_ODI_POINTS, url="mcid_odi", label="ODI MCID (points)", bounds=(0, 100),
                             cli="--mcid-odi", help="MCID for ODI (points)")
    covariates: tuple[str, ...] = name_set(url="cov", label="Covariates", choices="filter_columns",
                                        cli="--covariates", help="extra ANCOVA covariates, comma-separated")
    filters: tuple[SubgroupFilter, ...] = filter_set(
        url="filter", label="Filter", choices="filter_columns", cli="--filter",
        help="subgroup filter: COL=A, COL=A|B or COL=LOW..HIGH (repeatable)")
    # Page options (subgroup variables, scales, toggles, ...) as sorted (name, text) pairs; each
    # page declares and validates its own when it draws them (see respine.ui.state.option).
    options: tuple[tuple[str, str], ...] = ()


def _param(f: Field[Any]) -> Param:
    spec: Param = f.metadata[META]
    return replace(spec, name=f.name, to=spec.to or f.name)


PARAMS: tuple[Param, ...] = tuple(_param(f) for f in fields(ViewState) if META in f.metadata)
"""Every declared view parameter, in declaration (link reading) order."""

BY_NAME: Mapping[str, Param] = {p.name: p for p in PARAMS}


def filling(target: str) -> tuple[str, ...]:
    """The parameters that fill the selection field ``target`` or its fields (``"rule"``: the
    responder rule's thresholds and joins), e.g. for a "reset to the primary rule" button."""
    return tuple(p.name for p in PARAMS if p.to == target or p.to.startswith(target + "."))


@dataclass(frozen=True)
class Options:
    """What the loaded trial allows (the values of every :data:`Source`); decode checks against it."""

    endpoints: tuple[str, ...]
    visits: tuple[float, ...]
    populations: tuple[str, ...]
    measures: tuple[str, ...]
    methods: tuple[str, ...]
    filter_columns: tuple[str, ...]
    default: ViewState = field(default_factory=ViewState)
    arms: tuple[str, ...] = ()
    binary_methods: tuple[str, ...] = ()


def with_values(state: ViewState, values: Mapping[str, Any]) -> ViewState:
    """``state`` with the named fields changed; the one place a view is changed by field name.

    The values come from a declaration's codec (URL, command line, widget), which produces the
    field's type; names that are not fields raise ``TypeError`` as ``dataclasses.replace`` does."""
    return replace(state, **values) if values else state


def to_selection(view: ViewState, endpoint_kind: str) -> Selection:
    """The analysis :class:`Selection` a view asks for, for an endpoint of ``endpoint_kind``.

    Built from the declarations: each parameter fills its ``to`` field (a dotted ``to`` fills a
    field of a field, such as the responder rule's thresholds), the empty text becomes None
    where it means "the study's default", and a parameter for one kind of endpoint (the
    continuous and the binary method) applies only to endpoints of that kind."""
    kind = "binary" if endpoint_kind == "binary" else "continuous"
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for p in PARAMS:
        if p.endpoints not in ("any", kind):
            continue
        value = p.selection_value(getattr(view, p.name))
        head, dot, leaf = p.to.partition(".")
        if dot:
            nested.setdefault(head, {})[leaf] = value
        else:
            top[head] = value
    base = Selection()
    for head, parts in nested.items():
        top[head] = replace(getattr(base, head), **parts)
    return replace(base, **top)


SOURCES: tuple[str, ...] = get_args(Source)
KINDS: tuple[str, ...] = get_args(Kind)
