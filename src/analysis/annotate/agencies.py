"""Unit names normalised to canonical agencies: aliases, categories, generic units and the 2018 reform crosswalk.

:class:`AgencyNormaliser` loads and validates the reference tables once (``agencies.csv``,
``agency_categories.csv``, ``generic_units.csv``, ``reform_crosswalk.csv``, ``place_names.csv``) and maps
a name as written to its canonical agency, category and post-reform successor; names that match nothing
are kept and counted as ``unmatched``.  Parsing who is responsible for a task is :mod:`analysis.annotate.units`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import config
from analysis.annotate.unit_names import PLACES_FILE, PLACES_SCHEMA, clean_unit_name, normalise_punctuation, regex_check
from analysis.core.errors import ReferenceDataError
from analysis.core.hanzi import simplify_text
from analysis.core.reference import TableSchema, load_agency_categories, read_rows_strict, warn_unused

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


AGENCIES_FILE = "agencies.csv"


CROSSWALK_FILE = "reform_crosswalk.csv"


GENERIC_FILE = "generic_units.csv"


GENERIC_CATEGORY = "generic"


UNMATCHED_CATEGORY = "unclassified"


MATCH_KINDS = ("exact", "alias", "pattern", "generic", "unmatched")


@dataclass(frozen=True)
class UnitReference:
    """Validated reference tables for unit normalisation."""

    categories: dict[str, str]  # code -> label_zh
    exact: dict[str, tuple[str, str]]  # alias -> (canonical, category)
    patterns: tuple[tuple[re.Pattern[str], str, str, str], ...]  # regex, canonical, category, source text
    generic: tuple[tuple[re.Pattern[str], str], ...]  # regex, label
    successor: dict[str, str]  # canonical -> post-reform canonical (primary rows, resolved)
    level_suffixes: frozenset[str]
    bare_markers: frozenset[str]
    prefixes: tuple[str, ...]  # tried at any start position (中共, 政府 ...)
    start_prefixes: tuple[str, ...]  # tried at the start only (province names, 国家 ...)
    after_level: tuple[str, ...]  # 委 after a level suffix
    not_prefix: tuple[str, ...]
    agencies_path: str


_PATTERN_ALIAS = regex_check("alias")


def _alias_problem(row: Mapping[str, str]) -> str | None:
    """A pattern alias must compile; an exact alias must have two characters or more."""
    kind = row["kind"].strip()
    if kind == "pattern":
        return _PATTERN_ALIAS(row)
    if kind == "exact" and len(row["alias"].strip()) < 2:
        return f"alias {row['alias']!r} shorter than 2 characters"
    return None


def load_unit_reference(reference_dir: str | Path | None = None) -> UnitReference:
    """Load and cross-validate all unit reference tables (raises ReferenceDataError)."""
    folder = Path(reference_dir) if reference_dir else config.REFERENCE_DIR
    categories = load_agency_categories(folder)
    codes = frozenset(row["code"] for row in categories)
    agencies_path = folder / AGENCIES_FILE
    agencies = read_rows_strict(
        agencies_path,
        TableSchema(
            required=("alias", "canonical", "category", "kind"),
            optional=("note",),
            unique=(("alias",),),
            allowed={"category": codes, "kind": frozenset({"exact", "pattern"})},
            checks=(_alias_problem,),  # one check: each is a pass over every row
        ),
    )
    category_of: dict[str, set[str]] = {}
    for row in agencies:
        category_of.setdefault(row["canonical"], set()).add(row["category"])
    inconsistent = sorted(name for name, found in category_of.items() if len(found) > 1)
    if inconsistent:
        names = ", ".join(inconsistent)
        raise ReferenceDataError(agencies_path, f"canonical agency with more than one category: {names}")
    canonicals = frozenset(category_of)
    exact = {row["alias"]: (row["canonical"], row["category"]) for row in agencies if row["kind"] == "exact"}
    patterns = tuple(
        (re.compile(row["alias"]), row["canonical"], row["category"], row["alias"])
        for row in agencies
        if row["kind"] == "pattern"
    )
    generic_table = read_rows_strict(
        folder / GENERIC_FILE,
        TableSchema(
            required=("pattern", "label"), optional=("note",), unique=(("pattern",),), checks=(regex_check("pattern"),)
        ),
    )
    crosswalk_path = folder / CROSSWALK_FILE
    crosswalk = read_rows_strict(
        crosswalk_path,
        TableSchema(
            required=("predecessor", "successor", "primary", "reform", "effective_year", "source"),
            optional=("note",),
            unique=(("predecessor", "successor"),),
            allowed={"predecessor": canonicals, "successor": canonicals, "primary": frozenset({"yes", "no"})},
            checks=(
                lambda row: (
                    None
                    if re.fullmatch(r"(19|20)\d\d", row["effective_year"].strip())
                    else f"effective_year {row['effective_year']!r} is not a year"
                ),
            ),
        ),
    )
    tokens: dict[str, tuple[str, ...]] = {}
    for row in read_rows_strict(folder / PLACES_FILE, PLACES_SCHEMA):
        tokens[row["kind"]] = (*tokens.get(row["kind"], ()), row["token"])
    return UnitReference(
        categories={row["code"]: row["label_zh"] for row in categories},
        exact=exact,
        patterns=patterns,
        generic=tuple((re.compile(row["pattern"]), row["label"]) for row in generic_table),
        successor=_resolve_successors(crosswalk, crosswalk_path),
        level_suffixes=frozenset(tokens.get("level_suffix", ())),
        bare_markers=frozenset(tokens.get("bare_marker", ())),
        prefixes=tuple(sorted(tokens.get("prefix", ()), key=len, reverse=True)),
        start_prefixes=tuple(sorted(tokens.get("province", ()) + tokens.get("central", ()), key=len, reverse=True)),
        after_level=tokens.get("prefix_after_level", ()),
        not_prefix=tokens.get("not_prefix", ()),
        agencies_path=str(agencies_path),
    )


def _resolve_successors(crosswalk: list[dict[str, str]], path: Path) -> dict[str, str]:
    """Primary successor of every predecessor, following chains (卫生局 -> 卫计委 -> 卫健委)."""
    counts: dict[str, int] = {}
    for row in crosswalk:
        counts[row["predecessor"]] = counts.get(row["predecessor"], 0) + (row["primary"] == "yes")
    bad = sorted(name for name, n in counts.items() if n != 1)
    if bad:
        raise ReferenceDataError(path, "predecessor(s) without exactly one primary successor: " + ", ".join(bad))
    step = {row["predecessor"]: row["successor"] for row in crosswalk if row["primary"] == "yes"}
    resolved: dict[str, str] = {}
    for name in step:
        seen = [name]
        current = name
        while current in step and step[current] != current:
            current = step[current]
            if current in seen:
                raise ReferenceDataError(path, "reform chain loops: " + " -> ".join([*seen, current]))
            seen.append(current)
        resolved[name] = current
    return resolved


NAME_MEMO_SIZE = 200_000  # (name, jurisdiction) results remembered per normaliser


class AgencyNormaliser:
    """Map a unit name to one canonical agency, category and post-reform successor.

    Settings (reference tables) are loaded and validated in ``__init__``;
    ``normalise`` is a lookup.  Learned during a run: ``used_aliases_`` (alias or
    pattern -> uses) and ``unmatched_`` (name -> count), reported by
    :meth:`unused_aliases` and :meth:`unmatched_report`.
    """

    def __init__(self, reference_dir: Path | None = None) -> None:
        self.reference_dir = Path(reference_dir) if reference_dir else config.REFERENCE_DIR
        self.reference = load_unit_reference(self.reference_dir)
        self.used_aliases_: Counter[str] = Counter()
        self.unmatched_: Counter[str] = Counter()
        self._cache: dict[tuple[str, str | None], tuple[dict[str, Any], str | None]] = {}
        self._placeless: dict[str, tuple[dict[str, Any], str | None]] = {}  # raw -> its result for any jurisdiction

    # -- public API
    def normalise(self, raw: str, *, jurisdiction: str | None = None) -> dict[str, Any]:
        """``{raw, name, canonical, successor, category, generic, match}`` for one unit name."""
        return dict(self.counted(raw, jurisdiction))

    def counted(self, raw: str, jurisdiction: str | None) -> Mapping[str, Any]:
        """:meth:`normalise` without the copy: the remembered result, read-only (counted as a use)."""
        key = (raw, jurisdiction)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= NAME_MEMO_SIZE:  # bounded: a worker may see millions of names in a large corpus
                self._cache.clear()
            cached = self._cache[key] = self._normalise(raw, jurisdiction)
        result, used = cached
        if used:
            self.used_aliases_[used] += 1
        if result["match"] == "unmatched":
            self.unmatched_[result["name"]] += 1
        return result

    def unused_aliases(self) -> list[str]:
        """Aliases and patterns never used so far (logged as a warning)."""
        defined = list(self.reference.exact) + [source for *_, source in self.reference.patterns]
        return warn_unused("agency aliases", self.reference.agencies_path, defined, self.used_aliases_)

    def unmatched_report(self) -> pd.DataFrame:
        """Unmatched names with their counts, most frequent first."""
        import pandas as pd  # a report for the build, not needed to normalise names (start-up time)

        rows = self.unmatched_.most_common()
        return pd.DataFrame(rows, columns=["name", "n"])

    # -- matching
    def _normalise(self, raw: str, jurisdiction: str | None) -> tuple[dict[str, Any], str | None]:
        """The result for ``raw`` in ``jurisdiction`` and the alias or pattern it used.

        The jurisdiction's tokens are only ever looked for at the start of a variant of the name
        (or of what is left of one): a jurisdiction none of whose tokens occurs in any variant gives
        what no jurisdiction gives.  That result is worked out once per name and shared by all such
        jurisdictions (a unit named in the plans of many places is matched once).
        """
        variants = self._variants(raw)
        tokens = self._jurisdiction_tokens(jurisdiction)
        if tokens and not any(token in variant for variant in variants for token in tokens):
            shared = self._placeless.get(raw)
            if shared is None:
                if len(self._placeless) >= NAME_MEMO_SIZE:
                    self._placeless.clear()
                shared = self._placeless[raw] = self._normalise_variants(raw, variants, None)
            return shared
        return self._normalise_variants(raw, variants, jurisdiction)

    @staticmethod
    def _variants(raw: str) -> list[str]:
        """The forms of a name that are matched, in order: cleaned, without parentheses, simplified
        (the simplified cleaned name, the one an unmatched name is read from, is always among them)."""
        cleaned = clean_unit_name(raw)
        variants = [cleaned]
        without_parens = re.sub(r"\([^()]*\)", "", cleaned)
        if without_parens != cleaned and len(without_parens) >= 2:
            variants.append(without_parens)
        simplified = [simplify_text(v) for v in variants]
        variants += [s for s in simplified if s not in variants]
        return variants

    def _normalise_variants(
        self, raw: str, variants: list[str], jurisdiction: str | None
    ) -> tuple[dict[str, Any], str | None]:
        """:meth:`_normalise` from the name's :meth:`_variants`."""
        for variant in variants:
            found = self._match(variant, jurisdiction)
            if found:
                name, canonical, category, kind, used = found
                generic = kind == "generic"
                result = {
                    "raw": raw,
                    "name": name,
                    "canonical": canonical,
                    "successor": canonical if generic else self.reference.successor.get(canonical, canonical),
                    "category": category,
                    "generic": generic,
                    "match": kind,
                }
                return result, used
        simplified_name = simplify_text(variants[0])
        name = self._strip_prefix(simplified_name, jurisdiction) or simplified_name
        log.debug("unmatched unit %r (name %r)", raw, name)
        return {
            "raw": raw,
            "name": name,
            "canonical": name,
            "successor": name,
            "category": UNMATCHED_CATEGORY,
            "generic": False,
            "match": "unmatched",
        }, None

    def _match(self, text: str, jurisdiction: str | None) -> tuple[str, str, str, str, str | None] | None:
        candidates = self._candidates(text, jurisdiction)
        for candidate in candidates:
            for pattern, label in self.reference.generic:
                if pattern.fullmatch(candidate):
                    return self._display(text, candidate), label, GENERIC_CATEGORY, "generic", None
            if candidate in self.reference.exact:
                canonical, category = self.reference.exact[candidate]
                kind = "exact" if candidate == canonical else "alias"
                return self._display(text, candidate), canonical, category, kind, candidate
        for candidate in candidates:
            for pattern, canonical, category, source in self.reference.patterns:
                if pattern.fullmatch(candidate):
                    return self._display(text, candidate), canonical, category, "pattern", source
        return None

    def _display(self, text: str, candidate: str) -> str:
        """The matched part; a party-committee 委 keeps its level (市委办公室, not 委办公室)."""
        start = len(text) - len(candidate)
        if (
            start > 0
            and candidate[0] in self.reference.after_level
            and text[start - 1] in self.reference.level_suffixes
        ):
            return text[start - 1 :]
        return candidate

    def _candidates(self, text: str, jurisdiction: str | None) -> list[str]:
        """Suffixes of ``text`` that may start an agency name, longest first."""
        ref = self.reference
        for token in self._jurisdiction_tokens(jurisdiction):
            # The document's own jurisdiction is never part of an agency name.
            if text.startswith(token) and len(text) - len(token) >= 2:
                text = text[len(token) :]
                break
        starts = {0}
        for token in ref.start_prefixes:
            if text.startswith(token):
                starts.add(len(token))
        for i, ch in enumerate(text):
            if ch in ref.level_suffixes:
                starts.update((i, i + 1))
        if text[:1] in ref.bare_markers:
            starts.add(1)
        changed = True
        while changed:
            changed = False
            for start in sorted(starts):
                extra = [start + len(p) for p in ref.prefixes if text.startswith(p, start)]
                if start > 0 and text[start - 1] in ref.level_suffixes:
                    extra += [start + len(p) for p in ref.after_level if text.startswith(p, start)]
                new = set(extra) - starts
                if new:
                    starts |= new
                    changed = True
        return [text[s:] for s in sorted(starts) if len(text) - s >= 2]

    @staticmethod
    @functools.lru_cache(maxsize=1024)
    def _jurisdiction_tokens(jurisdiction: str | None) -> tuple[str, ...]:
        if not jurisdiction:
            return ()
        parts = [p for p in re.split(r"[()（）/;,、\s]+", normalise_punctuation(jurisdiction)) if len(p) >= 2]
        if not parts:  # "县", "(/)": no token (an empty one would be found at the start of every name)
            return ()
        tokens = set(parts) | {"".join(reversed(parts)), "".join(parts)}
        return tuple(sorted(tokens, key=len, reverse=True))

    def _strip_prefix(self, text: str, jurisdiction: str | None) -> str:
        """Best-effort name for an unmatched unit: place and level prefixes removed."""
        ref = self.reference
        place = re.compile(
            r"[\u4e00-\u9fff]{{2,8}}?(?:自治州|自治县|自治区|自治旗|地区|新区|[{}])".format(
                "".join(sorted(s for s in ref.level_suffixes if len(s) == 1))
            )
        )
        changed = True
        while changed and len(text) > 2:
            changed = False
            for token in self._jurisdiction_tokens(jurisdiction) + ref.start_prefixes + ref.prefixes:
                if token and text.startswith(token) and len(text) - len(token) >= 2:  # each step shortens the text
                    text, changed = text[len(token) :], True
                    break
            if changed:
                continue
            match = place.match(text)
            if match and len(text) - match.end() >= 2 and not text.startswith(ref.not_prefix):
                text, changed = text[match.end() :], True
                continue
            if text[0] in ref.level_suffixes and not text.startswith(ref.not_prefix) and len(text) > 3:
                text, changed = text[1:], True
        return text
