"""Names typed by a person matched to the names a study uses, whatever their case.

ADaM writes flags and variables in capitals (``EFFFL``, ``SITEGR1``), the product's layout in
lower case (``sitegr1``), and people type either. A name is matched exactly first; then, if
exactly one allowed name equals it ignoring case (or an alias such as a population's flag
column does), that one; otherwise the error lists every valid value, so a typo is fixed in one
go. Two allowed names that differ only in case (a study with both ``Sex`` and ``SEX``) are
never guessed between: the exact spelling is then required.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from respine.errors import SelectionError


def match_name(value: str, allowed: Iterable[str], what: str,
               aliases: Mapping[str, str] | None = None, hint: str = "") -> str:
    """The allowed name ``value`` stands for, ignoring case.

    Parameters
    ----------
    value : str
        What was typed (surrounding blanks are ignored).
    allowed : iterable of str
        The valid names, in the order they are listed in an error.
    what : str
        What the names are, for the error ("endpoint", "population", ...).
    aliases : mapping, optional
        Other names of allowed names (alias -> allowed name), e.g. a population's flag column
        ``EFFFL`` for the population ``EFF``; matched ignoring case as well.
    hint : str
        A sentence added to the error (how to make a new name valid).

    Returns
    -------
    str
        The allowed name, as the study spells it.

    Raises
    ------
    SelectionError
        When nothing matches, or only several names that differ by case do; the message lists
        the valid values.
    """
    names = list(dict.fromkeys(allowed))
    text = str(value).strip()
    if text in names:
        return text
    folded = text.casefold()
    hits = [n for n in names if n.casefold() == folded]
    if not hits and aliases:
        hits = list(dict.fromkeys(target for alias, target in aliases.items()
                                  if alias.casefold() == folded and target in names))
    if len(hits) == 1:
        return hits[0]
    listed = ", ".join(names) or "(none)"
    if hits:
        raise SelectionError(f"The {what} '{text}' matches {', '.join(hits)}, which differ only in case; "
                             f"write it exactly as one of: {listed}.")
    also = f" (or by their other names {', '.join(aliases)})" if aliases else ""
    advice = f" {hint}" if hint else ""
    raise SelectionError(f"Unknown {what} '{text}'. Choose one of: {listed}{also}.{advice}")


def fold_case(value: str, allowed: Iterable[str]) -> str:
    """``value`` spelt as the one allowed name it equals ignoring case, else unchanged (for a
    catalogue whose refusal the core words better, such as a method that does not apply)."""
    text = str(value).strip()
    hits = [n for n in dict.fromkeys(allowed) if n.casefold() == text.casefold()]
    return hits[0] if len(hits) == 1 and text not in hits else text
