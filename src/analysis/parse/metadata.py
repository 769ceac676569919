"""Metadata stage: title, issuer, number, dates, period, type and place from the text.

Works on the cleaned, repaired text.  Everything is read from the document's
own conventions (GB/T 9704 official-document layout):

* title: the plan named in a '…关于印发《X》的通知' notice title (wrapper
  stripped), else the 《X》 of a '现将《X》印发…' sentence, else a stand-alone
  title line whose ending names a document type;
* issuer: the signature - office name(s) on the line before (or in front of)
  the date; else the prefix of the notice title; else an office name the
  title starts with (漯河市文化广电和旅游局创建…方案);
* doc_number: a line that is just '<abbr>〔yyyy〕n号' (numbers cited inside
  the text belong to other documents and are ignored);
* issued: the signature date, else a 'yyyy年m月d日印发' date, else a line that
  is only a date;
* period: a year range in the title, else a single year in the title.  A range
  that sits inside a cited 《…》 in the title is the cited plan's period: the
  document then runs from its issue year to the end of that range;
* doc_type: first match of ``reference/doc_types.csv`` (by precedence) on the
  title's ending, quoted titles and a trailing (yyyy—yyyy年) removed;
* jurisdiction: the chain of place names (…省/市/区/县…) the issuer or the
  title starts with, e.g. 阜新市细河区.

:func:`merge_metadata` combines these with a manifest row; the manifest wins.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core.reference import TableSchema, read_csv_strict, reference_path
from analysis.parse.repair import is_org_name, plausible_year, valid_date

log = logging.getLogger(__name__)

DOC_TYPES_FILE = "doc_types.csv"
FIELDS = ("title", "issuer", "doc_number", "issued", "period_start", "period_end", "doc_type", "jurisdiction")
# Manifest columns that hold an extracted field under another name.
MANIFEST_ALIASES = {
    "title": ("title", "title_zh"),
    "issuer": ("issuer", "issuer_zh"),
    "jurisdiction": ("jurisdiction", "jurisdiction_zh"),
}
HEAD_LINES = 40  # title / notice lines are looked for among the first non-empty lines
MAX_TITLE_LINES = 3  # a title may wrap over this many lines
MAX_TITLE_LENGTH = 120
ISSUER_SEPARATOR = ";"

_CJK = r"\u4e00-\u9fff"
_NOTICE_TITLE = re.compile(
    r"^(?P<issuer>[^《》<>〈〉。,;:!?]{0,80}?)关于(?:印发|转发|印送|下发|发布)(?P<inner>.+?)的通知$"
)
_FORWARDED = re.compile(r"现将《(?P<title>[^《》]{2,120})》(?:印发|转发|印送|发)")
_DATE = r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日"
_DATE_LINE = re.compile(rf"^[(\[]?{_DATE}(?:印发|发布|签发)?[)\]]?$")
_ORGS_THEN_DATE = re.compile(rf"^(?P<orgs>[^\d。,;:]+?)\s+{_DATE}(?:印发|发布|签发)?$")
_ISSUE_DATE = re.compile(rf"{_DATE}\s*(?:印发|发布|签发)")
_DOC_NUMBER_LINE = re.compile(
    rf"^(?P<abbr>[{_CJK}]{{1,12}})[〔\[﹝【(](?P<year>\d{{4}})[〕\]﹞】)](?P<serial>\d{{1,5}})号(?:\s*签发人.*)?$"
)
_YEAR_RANGE = re.compile(r"(\d{4})\s*[—–\-~至到]+\s*(\d{4})\s*年?")
_SINGLE_YEAR = re.compile(r"(?<!\d)(\d{4})\s*年")
_TRAILING_PERIOD = re.compile(r"\s*[(\[]\s*\d{4}\s*[—–\-~至到]*\s*(\d{4})?\s*年?度?\s*[)\]]\s*$")
_TITLE_START_ORG = re.compile(
    rf"^(?P<org>[{_CJK}]{{2,30}}?(?:人民政府办公室|人民政府办公厅|人民政府|委员会|办公室|办公厅|局|厅))"
)
_HEADING_START = re.compile(r"^(\d{1,2}[.、]|[一二三四五六七八九十]+、|\(|[①-⑳])")
_PLACE_UNIT = re.compile(rf"[{_CJK}]{{1,7}}?(?:特别行政区|自治区|自治州|自治县|地区|省|市|州|盟|县|区|旗)")
_NOT_PLACE = re.compile(r"^(全|本|我|各|该|市|省|区|县|州)")
_LEADING_NOISE = re.compile(r"^(?:\d{4}\s*年度?|中共|关于)+")
_ORG_LIST_SEPARATORS = re.compile(r"[;,、\s]+")
_DASHES = re.compile(r"[—–\-~～至]+")


# --------------------------------------------------------------------------- reference table


def _check_pattern(row: pd.Series) -> str | None:
    try:
        re.compile(row["pattern"])
    except re.error as exc:
        return f"pattern {row['pattern']!r} does not compile: {exc}"
    if not row["precedence"].isdigit():
        return f"precedence {row['precedence']!r} is not a non-negative integer"
    return None


DOC_TYPES_SCHEMA = TableSchema(
    required=("doc_type", "precedence", "pattern"),
    optional=("note",),
    unique=(("doc_type",), ("precedence",)),
    checks=(_check_pattern,),
)


@dataclass(frozen=True)
class DocTypeRule:
    doc_type: str
    precedence: int
    pattern: re.Pattern[str]


def load_doc_types(path: str | Path | None = None) -> tuple[DocTypeRule, ...]:
    """Document-type rules sorted by precedence (the shipped table by default)."""
    if path is None:
        return _default_doc_types()
    return _load_doc_types(Path(path))


@lru_cache(maxsize=1)
def _default_doc_types() -> tuple[DocTypeRule, ...]:
    return _load_doc_types(reference_path(DOC_TYPES_FILE))


def _load_doc_types(path: Path) -> tuple[DocTypeRule, ...]:
    frame = read_csv_strict(path, DOC_TYPES_SCHEMA)
    rules = [DocTypeRule(r.doc_type, int(r.precedence), re.compile(r.pattern)) for r in frame.itertuples(index=False)]
    return tuple(sorted(rules, key=lambda rule: rule.precedence))


# --------------------------------------------------------------------------- extraction


def extract_metadata(text: str, doc_types: tuple[DocTypeRule, ...] | None = None) -> dict[str, Any]:
    """Metadata read from a cleaned, repaired document text (None where not found)."""
    doc_types = load_doc_types() if doc_types is None else doc_types
    lines = [arabic_dates(line.strip()) for line in text.split("\n") if line.strip()]
    head = lines[:HEAD_LINES]
    notice = _find_notice_title(head)
    title = _find_title(head, notice, doc_types)
    signature = _find_signature(lines)
    issuer = signature[0] if signature else _fallback_issuer(notice, title)
    issued = signature[1] if signature else _find_issue_date(lines)
    period_start, period_end = extract_period(title, int(issued[:4]) if issued else None)
    return {
        "title": title,
        "issuer": issuer,
        "doc_number": _find_doc_number(head),
        "issued": issued,
        "period_start": period_start,
        "period_end": period_end,
        "doc_type": classify_doc_type(title, doc_types) if title else None,
        "jurisdiction": _find_jurisdiction(issuer, title),
    }


_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0", "O": "0"}
_CN_DATE = re.compile(
    r"(?P<y>[〇○零一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,2})\s*月\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日"
)


def _small_numeral(numeral: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23 (months and days)."""
    if "十" not in numeral:
        return int(_CN_DIGIT[numeral])
    tens, _, units = numeral.partition("十")
    return int(_CN_DIGIT[tens] if tens else 1) * 10 + (int(_CN_DIGIT[units]) if units else 0)


def arabic_dates(line: str) -> str:
    """Dates in Chinese numerals (二〇一一年三月八日, the official style) → 2011年3月8日."""

    def convert(match: re.Match[str]) -> str:
        year = "".join(_CN_DIGIT[c] for c in match.group("y"))
        return f"{year}年{_small_numeral(match.group('m'))}月{_small_numeral(match.group('d'))}日"

    return _CN_DATE.sub(convert, line)


def _windows(lines: list[str]):
    """(joined text, first line index) for every run of 1..MAX_TITLE_LINES lines."""
    for size in range(1, MAX_TITLE_LINES + 1):
        for start in range(len(lines) - size + 1):
            yield "".join(lines[start : start + size]), start


def _find_notice_title(head: list[str]) -> re.Match[str] | None:
    """The '…关于印发X的通知' title, possibly wrapped over a few lines (earliest first)."""
    best: tuple[int, re.Match[str]] | None = None
    for joined, start in _windows(head):
        if len(joined) > MAX_TITLE_LENGTH * 2:
            continue
        match = _NOTICE_TITLE.match(joined)
        if match and (best is None or start < best[0]):
            best = (start, match)
    return best[1] if best else None


def _unwrap_quotes(inner: str) -> str:
    """《X》 -> X when the quotes enclose the whole string."""
    if inner.startswith("《") and inner.endswith("》") and _quote_depths(inner)[1:-1].count(0) == 0:
        return inner[1:-1]
    return inner


def _quote_depths(text: str) -> list[int]:
    """Nesting depth of 《》/<>/〈〉 quotes at each character (a quote mark counts as inside)."""
    depths, depth = [], 0
    for ch in text:
        if ch in "《<〈":
            depth += 1
            depths.append(depth)
        elif ch in "》>〉":
            depths.append(depth)
            depth = max(depth - 1, 0)
        else:
            depths.append(depth)
    return depths


def _find_title(head: list[str], notice: re.Match[str] | None, doc_types: tuple[DocTypeRule, ...]) -> str | None:
    if notice is not None:
        return _unwrap_quotes(notice.group("inner").strip())
    forwarded = _FORWARDED.search("\n".join(head))
    if forwarded:
        return forwarded.group("title").replace("\n", "")
    for index, line in enumerate(head):
        if len(line) > MAX_TITLE_LENGTH or line[-1] in "。,;:!?" or _HEADING_START.match(line):
            continue
        candidate = line
        if index + 1 < len(head) and _TRAILING_PERIOD.fullmatch(head[index + 1]):
            candidate += head[index + 1]  # '(2016—2020年)' wrapped onto its own line
        if classify_doc_type(candidate, doc_types):
            return candidate
    return None


def title_stem(title: str) -> str:
    """The title's own ending: quoted titles and a trailing (yyyy—yyyy年) removed."""
    depths = _quote_depths(title)
    outside = "".join(ch for ch, depth in zip(title, depths, strict=False) if depth == 0)
    return _TRAILING_PERIOD.sub("", outside).strip()


def classify_doc_type(title: str, doc_types: tuple[DocTypeRule, ...] | None = None) -> str | None:
    """Document type of a title by the first matching rule in precedence order."""
    doc_types = load_doc_types() if doc_types is None else doc_types
    stem = title_stem(title)
    for rule in doc_types:
        if rule.pattern.search(stem):
            return rule.doc_type
    return None


def _iso(match: re.Match[str]) -> str | None:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if plausible_year(year) and valid_date(year, month, day):
        return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _split_orgs(orgs: str) -> list[str] | None:
    names = [n for n in _ORG_LIST_SEPARATORS.split(orgs.strip()) if n]
    if names and all(is_org_name(n) and len(n) <= 40 for n in names):
        return names
    return None


def _find_signature(lines: list[str]) -> tuple[str, str] | None:
    """(issuer, ISO date) of the first signature: office name(s), then the date."""
    for index, line in enumerate(lines):
        same_line = _ORGS_THEN_DATE.match(line)
        if same_line:
            names = _split_orgs(same_line.group("orgs"))
            issued = _iso(same_line)
            if names and issued:
                return ISSUER_SEPARATOR.join(names), issued
        if index + 1 < len(lines):
            date = _DATE_LINE.match(lines[index + 1])
            names = _split_orgs(line) if date else None
            issued = _iso(date) if date else None
            if names and issued:
                return ISSUER_SEPARATOR.join(names), issued
    return None


def _find_issue_date(lines: list[str]) -> str | None:
    for line in lines:
        match = _ISSUE_DATE.search(line)
        if match and _iso(match):
            return _iso(match)
    for line in lines:
        match = _DATE_LINE.match(line)
        if match and _iso(match):
            return _iso(match)
    return None


def _fallback_issuer(notice: re.Match[str] | None, title: str | None) -> str | None:
    if notice is not None:
        names = _split_orgs(notice.group("issuer"))
        if names:
            return ISSUER_SEPARATOR.join(names)
    if title:
        match = _TITLE_START_ORG.match(title)
        if match and not re.search(r"法治|建设|\d", match.group("org")):
            return match.group("org")
    return None


def _find_doc_number(head: list[str]) -> str | None:
    for line in head:
        match = _DOC_NUMBER_LINE.match(line)
        if match and plausible_year(int(match["year"])):
            return f"{match['abbr']}〔{match['year']}〕{match['serial']}号"
    return None


def extract_period(title: str | None, issued_year: int | None = None) -> tuple[int | None, int | None]:
    """Plan period from the title (see the module docstring)."""
    if not title:
        return None, None
    depths = _quote_depths(title)
    for match in _YEAR_RANGE.finditer(title):
        start, end = int(match.group(1)), int(match.group(2))
        if not (plausible_year(start) and plausible_year(end) and start <= end):
            continue
        if depths[match.start()] == 0:
            return start, end
        # the range belongs to a plan cited in the title; this one runs from its issue to that end
        if issued_year is not None and start <= issued_year <= end:
            return issued_year, end
        return None, end
    years = {int(m.group(1)) for m in _SINGLE_YEAR.finditer(title) if depths[m.start()] == 0}
    years = {y for y in years if plausible_year(y)}
    if len(years) == 1:
        year = years.pop()
        return year, year
    return None, None


def place_units(name: str | None) -> list[str]:
    """Place names a name starts with: '阜新市细河区人民政府办公室' -> ['阜新市', '细河区']."""
    if not name:
        return []
    rest = _LEADING_NOISE.sub("", name.strip())
    units: list[str] = []
    while True:
        match = _PLACE_UNIT.match(rest)
        if not match or _NOT_PLACE.match(match.group()):
            return units
        end = match.end()
        if match.group().endswith("州") and rest[end : end + 1] in ("市", "县", "区"):
            end += 1  # 广州市, 杭州市: 州 is part of the name, not its level
        units.append(rest[:end])
        rest = rest[end:]


def _find_jurisdiction(issuer: str | None, title: str | None) -> str | None:
    first_issuer = issuer.split(ISSUER_SEPARATOR)[0] if issuer else None
    for source in (first_issuer, title):
        units = place_units(source)
        if units:
            return "".join(units)
    return None


# --------------------------------------------------------------------------- merging


def merge_metadata(manifest: dict[str, Any], extracted: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """Manifest values win where non-empty; extracted values fill the gaps.

    Returns the merged record (the manifest's own keys, e.g. ``title_zh``, are
    kept; a field the manifest lacks is added under its extracted name) and the
    disagreements ``[{"field", "manifest", "extracted"}]`` found after
    normalising both sides (bracket styles, date formats, dashes, spacing).
    """
    merged = dict(manifest)
    disagreements: list[dict] = []
    for field in FIELDS:
        keys = MANIFEST_ALIASES.get(field, (field,))
        key = next((k for k in keys if k in manifest), field)
        manifest_value = manifest.get(key)
        extracted_value = extracted.get(field)
        if _is_empty(manifest_value):
            merged[key] = extracted_value
            continue
        merged[key] = _normalise_value(field, manifest_value)
        if not _is_empty(extracted_value) and not _agree(field, manifest_value, extracted_value):
            disagreements.append({"field": field, "manifest": manifest_value, "extracted": extracted_value})
    return merged, disagreements


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from pandas
        return True
    return isinstance(value, str) and not value.strip()


def _normalise_value(field: str, value: Any) -> Any:
    """Manifest values in the extracted types: periods as int, dates as ISO strings."""
    if field in {"period_start", "period_end"}:
        try:
            return int(str(value).strip().split(".")[0])
        except ValueError:
            return value
    if field == "issued":
        return normalise_date(str(value)) or value
    return value


def normalise_date(value: str) -> str | None:
    """'2017-06-09', '2017/6/9', '2017.6.9', '2017年6月9日' -> '2017-06-09'."""
    match = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", value)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}" if valid_date(year, month, day) else None


def normalise_doc_number(value: str) -> str:
    """Unify bracket styles and spacing: '天办发[2017]11号' -> '天办发〔2017〕11号'."""
    value = re.sub(r"\s+", "", value)
    return re.sub(r"[\[﹝【(（]", "〔", re.sub(r"[\]﹞】)）]", "〕", value))


def _normalise_text(value: str) -> str:
    value = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in value)
    value = re.sub(r"\s+", "", value)
    value = value.replace("<", "《").replace(">", "》").replace("〈", "《").replace("〉", "》")
    return _DASHES.sub("-", value)


def _agree(field: str, manifest_value: Any, extracted_value: Any) -> bool:
    if field in {"period_start", "period_end"}:
        return _normalise_value(field, manifest_value) == extracted_value
    if field == "issued":
        return normalise_date(str(manifest_value)) == normalise_date(str(extracted_value))
    if field == "doc_number":
        return normalise_doc_number(str(manifest_value)) == normalise_doc_number(str(extracted_value))
    if field == "issuer":

        def names(value: Any) -> set[str]:
            return {n for n in _ORG_LIST_SEPARATORS.split(_normalise_text(str(value))) if n}

        return names(manifest_value) == names(extracted_value)
    if field == "jurisdiction":
        manifest_units = set(_all_place_units(str(manifest_value)))
        extracted_units = set(_all_place_units(str(extracted_value)))
        if manifest_units and extracted_units:
            return manifest_units <= extracted_units or extracted_units <= manifest_units
    return _normalise_text(str(manifest_value)) == _normalise_text(str(extracted_value))


def _all_place_units(value: str) -> list[str]:
    """Place units of every part of a value such as '细河区(阜新市)'."""
    return [unit for part in re.split(r"[()（）;,、\s]+", value) for unit in place_units(part)]
