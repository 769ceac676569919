"""Metadata stage: title, issuer, number, dates, period, type and place from the text.

Works on the cleaned, repaired text.  Everything is read from the document's
own conventions (GB/T 9704 official-document layout):

* title: the plan named in a '…关于印发《X》的通知' notice title (wrapper
  stripped), else the 《X》 of a '现将《X》印发…' sentence, else a stand-alone
  title line whose ending names a document type;
* issuer: the signature - office name(s) on the line before (or in front of)
  the date; else the prefix of the notice title; else an office name the
  title starts with (漯河市文化广电和旅游局创建…方案);
  In a flattened text (one long line) the notice title is found inside the
  line; a capture that only reports the plan names it in its first sentence
  ('…印发《X》', '《X》已经…同意');
* doc_number: a line that is just '<abbr>〔yyyy〕n号', a labelled one
  ('发文字号: …', '文号 …'), one that opens the title line or closes it in
  brackets (numbers cited inside the text belong to other documents and are
  ignored); brackets may be square or lost to spaces;
* issued: the signature date, else a labelled 成文日期/发文日期, else a
  'yyyy年m月d日印发' date, else a line that is only a date; published: the
  date of the page-meta line (发布时间, 日期, a site line with the date);
* period: a year range in the title, else a single year in the title.  A range
  that sits inside a cited 《…》 in the title is the cited plan's period: the
  document then runs from its issue year to the end of that range;
* doc_type: the controlled vocabulary of ``reference/doc_type_vocabulary.csv``
  (实施方案, 工作要点, …, 情况报告, 其他), from the first rule of
  ``reference/doc_types.csv`` (by precedence) that matches the title's
  ending, quoted titles and a trailing (yyyy—yyyy年) removed; ``doc_type_raw``
  is the ending as the title writes it (年度报告, 工作方案).  Without a title,
  cues in the opening text (``reference/doc_type_cues.csv``: '制定本方案',
  '现将…情况报告如下', a report's opening 'yyyy年,在…') decide; a title that
  matches no rule is 其他;
* year: the year the plan is for or the report covers, with ``year_source``
  (see :func:`resolve_year`): a single year in the title (``title``); for a
  report, the year its opening sentence reports on (``text``: '2019年,在…');
  the issue date, the document number's year or the publication date
  (``issued``); the plan period's first year (``period``); else the first
  year the body names (``text``);
* jurisdiction: the chain of place names (…省/市/区/县…) the issuer or the
  title starts with, e.g. 阜新市细河区.

:func:`merge_metadata` combines these with a manifest row; the manifest wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from analysis.core.errors import ReferenceDataError
from analysis.core.reference import TableSchema, read_rows_strict, reference_path
from analysis.parse.repair import is_org_name, plausible_year, valid_date

log = logging.getLogger(__name__)

DOC_TYPES_FILE = "doc_types.csv"
DOC_TYPE_VOCABULARY_FILE = "doc_type_vocabulary.csv"
DOC_TYPE_CUES_FILE = "doc_type_cues.csv"
DOC_TYPE_OTHER = "其他"
DOC_TYPE_REPORT = "情况报告"
FIELDS = ("title", "issuer", "doc_number", "issued", "period_start", "period_end", "doc_type", "jurisdiction")
# Fields the document record gains besides the manifest columns (see the data dictionary).
DERIVED_FIELDS = ("year", "year_source", "doc_type_raw")
YEAR_SOURCES = ("title", "period", "issued", "text")
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
# A document number anywhere: abbreviation, bracketed year (any bracket, spaces allowed), serial, 号.
_DOC_NUMBER = rf"(?P<abbr>[{_CJK}]{{1,12}}?)\s*[〔\[﹝【(（]\s*(?P<year>\d{{4}})\s*[〕\]﹞】)）]\s*第?\s*(?P<serial>\d{{1,5}})\s*号"
_DOC_NUMBER_LABELS = "发文字号|发文文号|文号|字号"
_DOC_NUMBER_LABEL = re.compile(_DOC_NUMBER_LABELS)
_DOC_NUMBER_LABELLED = re.compile(rf"(?:{_DOC_NUMBER_LABELS})\s*[】\]]?\s*[:|]?\s*{_DOC_NUMBER}")
_DOC_NUMBER_OPENING = re.compile(rf"^{_DOC_NUMBER}(?=\S*(?:关于|《))")
_DOC_NUMBER_CLOSING = re.compile(rf"[(（]\s*{_DOC_NUMBER}\s*[)）]$")
_NOTICE_IN_TEXT = re.compile(r"关于(?:印发|转发|印送|下发|发布)(?P<inner>[^。,;:!?]{2,120}?)的通知")
_OWN_NOTICE_LINE = re.compile(
    r"^(?:【[^】]{1,30}】)?(?P<title>[^《》<>。,;:!?]{0,80}关于[^《》。;:!?]{2,120}的(?:通知|决定|批复|函))$"
)
# Words that make what follows a cited document, not this one ('根据…关于印发…的通知要求').
_CITING = re.compile(r"根据|按照|依据|依照|贯彻|落实|对照|参照")
CITING_LOOKBACK = 20
_FIRST_SENTENCE_TITLES = (
    re.compile(r"印发(?:了)?《(?P<title>[^《》]{2,120})》"),
    re.compile(r"^《(?P<title>[^《》]{2,120})》(?:已经|已|经)"),
)
_LABELLED_ISSUE_DATE = re.compile(
    r"(?:成文日期|发文日期|印发日期|签发日期)\s*[】\]]?\s*[:|]?\s*(?P<date>[0-9年月日./\- ]{8,20})"
)
_PAGE_DATE = re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})")
_PAGE_META_LINE = re.compile(r"发布|来源|时间|日期|更新|浏览|www\.|\.gov\.cn")
PAGE_META_LINES = 15
_TITLE_LABEL = re.compile(r"^(?:附件\s*\d*|文件|标题|名称|题目)\s*[:|]\s*")  # '附件:X', '标题 | X'
_TITLE_SPACE = re.compile(rf"(?<=[{_CJK}0-9]) +(?=[{_CJK}0-9])")
OPENING_BODY_LINES = 2
BODY_LINE_MIN = 30
_YEAR_RANGE = re.compile(r"(\d{4})\s*年?\s*[—–\-~至到]+\s*(\d{4})\s*年?")
_SINGLE_YEAR = re.compile(r"(?<!\d)(\d{4})\s*年")
_TRAILING_PERIOD = re.compile(r"\s*[(\[]\s*\d{4}\s*年?\s*[—–\-~至到]*\s*(\d{4})?\s*年?度?\s*[)\]]\s*$")
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


def _check_pattern(row: Mapping[str, str]) -> str | None:
    try:
        re.compile(row["pattern"])
    except re.error as exc:
        return f"pattern {row['pattern']!r} does not compile: {exc}"
    if "precedence" in row and not row["precedence"].isdigit():
        return f"precedence {row['precedence']!r} is not a non-negative integer"
    return None


DOC_TYPE_VOCABULARY_SCHEMA = TableSchema(required=("doc_type", "scope"), unique=(("doc_type",),))
DOC_TYPES_SCHEMA = TableSchema(
    required=("doc_type", "precedence", "pattern"),
    optional=("note",),
    unique=(("precedence",), ("pattern",)),
    checks=(_check_pattern,),
)
DOC_TYPE_CUES_SCHEMA = TableSchema(
    required=("cue_id", "doc_type", "pattern", "note"),
    unique=(("cue_id",),),
    checks=(_check_pattern,),
)


@dataclass(frozen=True)
class DocTypeRule:
    """A title ending and the controlled document type it stands for (group ``raw``: the written ending)."""

    doc_type: str
    precedence: int
    pattern: re.Pattern[str]

    def raw(self, match: re.Match[str]) -> str:
        return match.group("raw") if "raw" in self.pattern.groupindex and match.group("raw") else match.group()


@dataclass(frozen=True)
class DocTypeCue:
    """Wording of a document's opening text that tells its type when no title is found."""

    cue_id: str
    doc_type: str
    pattern: re.Pattern[str]


def doc_type_vocabulary(path: str | Path | None = None) -> frozenset[str]:
    """The controlled document types (reference/doc_type_vocabulary.csv)."""
    return _vocabulary(str(path) if path else None)


@lru_cache(maxsize=4)
def _vocabulary(path: str | None) -> frozenset[str]:
    rows = read_rows_strict(
        Path(path) if path else reference_path(DOC_TYPE_VOCABULARY_FILE), DOC_TYPE_VOCABULARY_SCHEMA
    )
    vocabulary = frozenset(row["doc_type"] for row in rows)
    if DOC_TYPE_OTHER not in vocabulary:
        raise ReferenceDataError(Path(path or reference_path(DOC_TYPE_VOCABULARY_FILE)), f"no {DOC_TYPE_OTHER} row")
    return vocabulary


def load_doc_types(path: str | Path | None = None) -> tuple[DocTypeRule, ...]:
    """Document-type rules sorted by precedence (the shipped table by default)."""
    if path is None:
        return _default_doc_types()
    return _load_doc_types(Path(path))


@lru_cache(maxsize=1)
def _default_doc_types() -> tuple[DocTypeRule, ...]:
    return _load_doc_types(reference_path(DOC_TYPES_FILE))


def _load_doc_types(path: Path) -> tuple[DocTypeRule, ...]:
    rows = read_rows_strict(path, DOC_TYPES_SCHEMA)
    _check_vocabulary(path, rows)
    rules = [DocTypeRule(r["doc_type"], int(r["precedence"]), re.compile(r["pattern"])) for r in rows]
    return tuple(sorted(rules, key=lambda rule: rule.precedence))


def _check_vocabulary(path: Path, rows: list[dict[str, str]]) -> None:
    vocabulary = doc_type_vocabulary()
    for row_number, doc_type in enumerate((row["doc_type"] for row in rows), start=2):
        if doc_type not in vocabulary:
            raise ReferenceDataError(
                path, f"row {row_number}: doc_type {doc_type!r} is not in {DOC_TYPE_VOCABULARY_FILE}"
            )


@lru_cache(maxsize=1)
def load_doc_type_cues() -> tuple[DocTypeCue, ...]:
    """Opening-text cues for documents without a title (reference/doc_type_cues.csv), in file order."""
    path = reference_path(DOC_TYPE_CUES_FILE)
    rows = read_rows_strict(path, DOC_TYPE_CUES_SCHEMA)
    _check_vocabulary(path, rows)
    return tuple(DocTypeCue(r["cue_id"], r["doc_type"], re.compile(r["pattern"])) for r in rows)


# --------------------------------------------------------------------------- extraction


def extract_metadata(
    text: str, doc_types: tuple[DocTypeRule, ...] | None = None, page_meta: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Metadata read from a cleaned, repaired document text (None where not found).

    ``page_meta``: the page-meta lines the clean stage removed as furniture
    ('发布时间: … 来源: …'); the publication date is read from them too.
    Besides the fields of :data:`FIELDS` and :data:`DERIVED_FIELDS` the result
    holds ``published`` and the year hints ``opening_year`` (the year a
    report's opening sentence names) and ``body_year`` (the first year the
    body names), which :func:`merge_metadata` needs to resolve the year again.
    """
    doc_types = load_doc_types() if doc_types is None else doc_types
    stripped = [line.strip() for line in text.split("\n")]
    lines = [arabic_dates(line) if "年" in line else line for line in stripped if line]  # every date holds 年
    head = lines[:HEAD_LINES]
    notice = _find_notice_title(head)
    title = _find_title(head, notice, doc_types)
    signature = _find_signature(lines)
    issuer = signature[0] if signature else _fallback_issuer(notice, title)
    issued = signature[1] if signature else (_find_labelled_issue_date(head) or _find_issue_date(lines))
    period_start, period_end = extract_period(title, int(issued[:4]) if issued else None)
    doc_type, doc_type_raw = document_type(title, head, doc_types)
    metadata: dict[str, Any] = {
        "title": title,
        "issuer": issuer,
        "doc_number": _find_doc_number(head),
        "issued": issued,
        "period_start": period_start,
        "period_end": period_end,
        "doc_type": doc_type,
        "jurisdiction": _find_jurisdiction(issuer, title),
        "doc_type_raw": doc_type_raw,
        "published": _find_published([arabic_dates(line.strip()) for line in page_meta] + head),
        "opening_year": _opening_year(head, title),
        "body_year": _body_year(head, title),
    }
    metadata["year"], metadata["year_source"] = resolve_year(metadata)
    return metadata


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

    if "年" not in line:
        return line  # no date (every date holds 年): nothing to convert
    return _CN_DATE.sub(convert, line)


def _window_spans(n_lines: int):
    """(first, after last) line index of every run of 1..MAX_TITLE_LINES of ``n_lines`` lines, shortest runs first."""
    for size in range(1, MAX_TITLE_LINES + 1):
        for start in range(n_lines - size + 1):
            yield start, start + size


def _find_notice_title(head: list[str]) -> re.Match[str] | None:
    """The '…关于印发X的通知' title, possibly wrapped over a few lines (earliest first)."""
    best: tuple[int, re.Match[str]] | None = None
    whole = "".join(head)
    if "关于" not in whole or "的通知" not in whole:
        return None  # every window is part of the whole head: none holds a notice title
    ends = [line.endswith("的通知") for line in head]
    for start, stop in _window_spans(len(head)):
        # Joined only when it ends with 的通知: its last line does, or is too short to say alone.
        if not (ends[stop - 1] or len(head[stop - 1]) < len("的通知")):
            continue
        joined = "".join(head[start:stop])
        if len(joined) > MAX_TITLE_LENGTH * 2 or not joined.endswith("的通知"):
            continue  # (the lines hold no line break: a match ends the window with 的通知)
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
    if not _opens_quote(text):
        return [0] * len(text)  # no quote opens: every depth is 0
    return _quote_depths_by_character(text)


def _opens_quote(text: str) -> bool:
    """Whether a quote (《, <, 〈) opens in ``text``: else no character is inside one."""
    return any(opener in text for opener in _QUOTE_OPENERS)


_QUOTE_OPENERS = "《<〈"


def _quote_depths_by_character(text: str) -> list[int]:
    depths, depth = [], 0
    for ch in text:
        if ch in _QUOTE_OPENERS:
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
        return _tidy_title(_unwrap_quotes(notice.group("inner").strip()))
    joined = "\n".join(head)
    forwarded = _FORWARDED.search(joined)
    if forwarded:
        return _tidy_title(forwarded.group("title").replace("\n", ""))
    for index, line in enumerate(head):
        if len(line) > MAX_TITLE_LENGTH or line[-1] in "。,;:!?" or _HEADING_START.match(line) or ">" in line:
            continue  # too long, a sentence, a numbered heading or a breadcrumb
        candidate = _unwrap_quotes(_DOC_NUMBER_CLOSING.sub("", _TITLE_LABEL.sub("", line)).strip())
        if index + 1 < len(head) and _TRAILING_PERIOD.fullmatch(head[index + 1]):
            candidate += head[index + 1]  # '(2016—2020年)' wrapped onto its own line
        if _names_own_type(candidate, doc_types) or _OWN_NOTICE_LINE.match(candidate):
            return _tidy_title(_OWN_NOTICE_LINE.sub(r"\g<title>", candidate))
    return _title_in_text(joined)


def _names_own_type(title: str, doc_types: tuple[DocTypeRule, ...]) -> bool:
    """The title ends in a document type and says more than the type word (not a bare '工作报告' link)."""
    found = classify_doc_type_raw(title, doc_types)
    return found is not None and len(title_stem(title)) >= len(found[1]) + 4


def _title_in_text(head_text: str) -> str | None:
    """A title inside running text: a notice title in a flattened line, or the plan a first sentence names."""
    window = head_text[: MAX_TITLE_LENGTH * 4]
    depths = _quote_depths(window)
    for match in _NOTICE_IN_TEXT.finditer(window):
        if depths[match.start()] == 0 and not _CITING.search(
            window, max(0, match.start() - CITING_LOOKBACK), match.start()
        ):
            return _tidy_title(_unwrap_quotes(match.group("inner").strip()))
    for line in head_text.split("\n")[:3]:
        for pattern in _FIRST_SENTENCE_TITLES:
            named = pattern.search(line)
            if named and not _CITING.search(line, max(0, named.start() - CITING_LOOKBACK), named.start()):
                return _tidy_title(named.group("title"))
    return None


def _tidy_title(title: str) -> str:
    """Spaces a PDF or a web page put around numbers and between characters of a title removed."""
    return _TITLE_SPACE.sub("", title.strip())


def title_stem(title: str) -> str:
    """The title's own ending: quoted titles and a trailing (yyyy—yyyy年) removed."""
    if _opens_quote(title):
        depths = _quote_depths_by_character(title)
        outside = "".join(ch for ch, depth in zip(title, depths, strict=False) if depth == 0)
    else:
        outside = title  # no quote opens: every character is outside
    return _TRAILING_PERIOD.sub("", outside).strip()


def classify_doc_type(title: str, doc_types: tuple[DocTypeRule, ...] | None = None) -> str | None:
    """Controlled document type of a title by the first matching rule in precedence order (None: no rule)."""
    found = classify_doc_type_raw(title, doc_types)
    return found[0] if found else None


def classify_doc_type_raw(title: str, doc_types: tuple[DocTypeRule, ...] | None = None) -> tuple[str, str] | None:
    """(controlled type, the ending as written) of a title, e.g. ('情况报告', '年度报告')."""
    doc_types = load_doc_types() if doc_types is None else doc_types
    stem = title_stem(title)
    for rule in doc_types:
        match = rule.pattern.search(stem)
        if match:
            return rule.doc_type, rule.raw(match)
    return None


def controlled_doc_type(value: str | None, doc_types: tuple[DocTypeRule, ...] | None = None) -> str | None:
    """A type label (from a manifest or a title ending) in the controlled vocabulary; unknown labels are 其他."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if value in doc_type_vocabulary():
        return value
    found = classify_doc_type_raw(value, doc_types)
    return found[0] if found else DOC_TYPE_OTHER


def document_type(
    title: str | None, head: list[str], doc_types: tuple[DocTypeRule, ...] | None = None
) -> tuple[str | None, str | None]:
    """(doc_type, doc_type_raw): from the title; without a title from opening-text cues; else unknown."""
    if title:
        found = classify_doc_type_raw(title, doc_types)
        return found if found else (DOC_TYPE_OTHER, None)
    opening = "\n".join(head)[: MAX_TITLE_LENGTH * 6]
    for cue in load_doc_type_cues():
        match = cue.pattern.search(opening)
        if match:
            raw = match.group("raw") if "raw" in cue.pattern.groupindex and match.group("raw") else None
            return cue.doc_type, raw
    return None, None


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
        same_line = _ORGS_THEN_DATE.match(line) if "年" in line else None  # a date holds 年
        if same_line:
            names = _split_orgs(same_line.group("orgs"))
            issued = _iso(same_line)
            if names and issued:
                return ISSUER_SEPARATOR.join(names), issued
        if index + 1 < len(lines):
            date = _DATE_LINE.match(lines[index + 1]) if "年" in lines[index + 1] else None
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
    """The document's own number: alone on a line, labelled, opening the title line or closing it in brackets."""
    for line in head:
        match = _DOC_NUMBER_LINE.match(line)
        if match and plausible_year(int(match["year"])) and not _DOC_NUMBER_LABEL.match(match["abbr"]):
            return _format_doc_number(match)
    for pattern in (_DOC_NUMBER_LABELLED, _DOC_NUMBER_OPENING, _DOC_NUMBER_CLOSING):
        for line in head:
            match = pattern.search(line)
            if match and plausible_year(int(match["year"])):
                return _format_doc_number(match)
    return None


def _format_doc_number(match: re.Match[str]) -> str:
    return f"{match['abbr']}〔{match['year']}〕{match['serial']}号"


def _find_labelled_issue_date(head: list[str]) -> str | None:
    """A 成文日期 / 发文日期 field of the page's document information."""
    for line in head:
        match = _LABELLED_ISSUE_DATE.search(line)
        if match:
            date = _PAGE_DATE.search(match.group("date"))
            if date and _iso(date):
                return _iso(date)
    return None


def _find_published(lines: list[str]) -> str | None:
    """The publication date on a page-meta line near the top (发布时间: 2021-03-29, a site line with a date)."""
    for line in lines[:PAGE_META_LINES]:
        if not _PAGE_META_LINE.search(line):
            continue
        match = _PAGE_DATE.search(line)
        if match and _iso(match):
            return _iso(match)
    return None


def _body_lines(head: list[str], title: str | None) -> list[str]:
    """The first lines of running text (not title, heading or page-meta lines)."""
    body = []
    for line in head:
        if len(line) < BODY_LINE_MIN or (title and title in line and len(line) < len(title) + 20):
            continue
        if _PAGE_META_LINE.search(line[:20]) and not re.search(r"[。,]", line):
            continue
        body.append(line)
        if len(body) >= OPENING_BODY_LINES:
            break
    return body


_SINGLE_YEAR_ALONE = re.compile(r"(?<![\d〔\[—–\-~至到])((?:19|20)\d{2})\s*年(?!\s*[—–\-~至到]\s*\d)")


def _single_years(text: str) -> list[int]:
    """Years written alone (2019年, 2020年度) outside quoted titles, document numbers and year ranges."""
    if "年" not in text:
        return []  # every single year is written with 年
    depths = _quote_depths(text)
    years = []
    for match in _SINGLE_YEAR_ALONE.finditer(text):
        before = text[max(0, match.start() - 2) : match.start()]
        if depths[match.start()] == 0 and not re.search(r"[—–\-~至到]\s*$", before) and plausible_year(int(match[1])):
            years.append(int(match[1]))
    return years


def _opening_year(head: list[str], title: str | None) -> int | None:
    """The year a report's opening sentence speaks of ('2019年,在…领导下', '编制了2020年度…报告')."""
    body = _body_lines(head, title)
    if not body:
        return None
    first_sentence = re.split(r"[。!?]", body[0], maxsplit=1)[0]
    years = _single_years(first_sentence)
    return years[0] if years else None


def _body_year(head: list[str], title: str | None) -> int | None:
    """The first single year the running text names (last resort for the year)."""
    for line in _body_lines(head, title):
        years = _single_years(line)
        if years:
            return years[0]
    return None


def resolve_year(metadata: dict[str, Any]) -> tuple[int | None, str | None]:
    """(year, year_source): the year the plan is for or the report covers.

    In order: a single year in the title (``title``); for a report, the year of
    its opening sentence (``text``); the issue date, else the document
    number's year, else the publication date (``issued``); the first year of
    the plan period (``period``); for a plan, the year of the opening
    sentence, else the first year the body names (``text``).
    """
    title = metadata.get("title")
    if title:
        title_years = set(_single_years(title))
        if len(title_years) == 1 and not _own_range(title):
            return title_years.pop(), "title"
    report = metadata.get("doc_type") == DOC_TYPE_REPORT
    if report and metadata.get("opening_year"):
        return int(metadata["opening_year"]), "text"
    for field in ("issued", "doc_number", "published"):
        year = _year_in(metadata.get(field), field)
        if year:
            return year, "issued"
    if metadata.get("period_start"):
        return int(metadata["period_start"]), "period"
    for field in ("opening_year", "body_year"):
        if metadata.get(field):
            return int(metadata[field]), "text"
    return None, None


def _own_range(title: str) -> bool:
    """Whether the title has a year range of its own (not inside a cited 《…》)."""
    depths = _quote_depths(title)
    return any(depths[m.start()] == 0 for m in _YEAR_RANGE.finditer(title))


def _year_in(value: Any, field: str) -> int | None:
    if _is_empty(value):
        return None
    text = str(value)
    match = re.search(r"[〔\[(]\s*(\d{4})\s*[〕\])]", text) if field == "doc_number" else re.match(r"\s*(\d{4})", text)
    if match and plausible_year(int(match[1])):
        return int(match[1])
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
    raw_type = extracted.get("doc_type_raw")
    if not _is_empty(manifest.get("doc_type")):
        # The manifest's label in the controlled vocabulary; a label outside it (工作方案) is the raw type.
        written = str(manifest["doc_type"]).strip()
        manifest = dict(manifest, doc_type=controlled_doc_type(written))
        raw_type = written if written != manifest["doc_type"] else raw_type
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
    merged["doc_type_raw"] = raw_type
    if _is_empty(manifest.get("published")):
        merged["published"] = extracted.get("published")
    # The year follows the merged values (a manifest issue date or period wins over the text's).
    title_key = next((k for k in MANIFEST_ALIASES["title"] if k in merged), "title")
    resolved = {
        "title": merged.get(title_key),
        "doc_type": merged.get("doc_type"),
        "issued": merged.get("issued"),
        "doc_number": merged.get("doc_number"),
        "published": merged.get("published"),
        "period_start": merged.get("period_start"),
        "opening_year": extracted.get("opening_year"),
        "body_year": extracted.get("body_year"),
    }
    merged["year"], merged["year_source"] = resolve_year(resolved)
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


_FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_SPACE_RUN = re.compile(r"\s+")


def _normalise_text(value: str) -> str:
    value = value.translate(_FULLWIDTH_TO_ASCII)  # fullwidth ASCII U+FF01-U+FF5E to ASCII
    value = _SPACE_RUN.sub("", value)
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
