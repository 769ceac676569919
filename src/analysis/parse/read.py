"""Read stage: bytes of a captured document -> original text.

Plain-text captures come in UTF-8 (with or without BOM), UTF-16/32 with BOM,
GB18030/GBK or Big5.  The encoding is detected, never assumed: a BOM decides;
otherwise strict UTF-8 is tried first (valid multi-byte UTF-8 is almost never
an accident), then every legacy Chinese codec that decodes the bytes strictly
is scored by how plausible the result is as Chinese text (share of common
hanzi, penalties for kana/bopomofo/box drawing/private-use characters that a
wrong double-byte codec produces).  charset-normalizer is only a last resort,
because on short GBK/Big5 texts it often guesses wrong.

HTML pages (``.html``/``.htm``, or an HTML page saved as ``.txt``), ``.docx``
and text-layer ``.pdf`` files are reduced to their main text.  Anything that
is not usable text raises :class:`~analysis.errors.InputError` naming the file
and the problem.

:func:`to_simplified` converts traditional characters for analysis with
OpenCC, one character for one character, so the origin map stays exact.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from analysis import config
from analysis.core.errors import InputError
from analysis.core.models import Repair

log = logging.getLogger(__name__)

FORMAT_TXT = "txt"
FORMAT_HTML = "html"
FORMAT_DOCX = "docx"
FORMAT_PDF = "pdf"

# Encoding reported for containers whose text is not a byte stream we decode.
PDF_ENCODING = "pdf"

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # (bom, codec used to decode, name reported); UTF-32 before UTF-16 (same prefix).
    (b"\xff\xfe\x00\x00", "utf-32", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig", "utf-8-sig"),
    (b"\xff\xfe", "utf-16", "utf-16"),
    (b"\xfe\xff", "utf-16", "utf-16"),
)
# Legacy codecs tried in order; on a tie the earlier (mainland) one wins.
_LEGACY_CODECS = ("gb18030", "big5", "big5hkscs")
# A decoded text must score at least this to be accepted as text.
MIN_PLAUSIBILITY = 0.35
# Control characters (other than tab/newline/CR/FF) tolerated before calling a file binary.
MAX_CONTROL_SHARE = 0.01
# UTF-8 with a handful of broken bytes is still UTF-8 (damaged capture).
MAX_UTF8_ERROR_SHARE = 0.001
# A PDF page with fewer visible characters than this on average has no usable text layer.
MIN_PDF_CHARS_PER_PAGE = 10

_HTML_SNIFF_TEXT = re.compile(r"<\s*(!doctype\s+html|html[\s>]|body[\s>]|head[\s>])", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
# Charsets an HTML <meta> may declare that we honour (anything else is detected as usual).
_DECLARED_CHARSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "big5": "big5",
    "big5-hkscs": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "cp950": "cp950",
}
_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
_DROP_TAGS = ("script", "style", "nav", "header", "footer", "aside", "noscript", "template", "iframe", "svg")
_BLOCK_TAGS = frozenset(
    "p div br li ul ol tr table thead tbody tfoot h1 h2 h3 h4 h5 h6 section article main "
    "blockquote pre dd dt dl form hr center title address figure figcaption caption".split()
)
_CELL_TAGS = frozenset({"td", "th"})
_COMMON_PUNCT = frozenset("，。、；：？！“”‘’（）《》〈〉〔〕【】—…·％　「」『』﹝﹞〇")


@dataclass(frozen=True)
class DecodedText:
    """A document's text as captured, with how it was read."""

    text: str  # decoded text, BOM removed, newlines normalised to \n
    encoding: str  # "utf-8", "gb18030", "big5", "utf-16", ...; for docx/pdf/html the container's
    source_format: str  # "txt" | "html" | "docx" | "pdf"
    repairs: tuple[Repair, ...] = ()  # lines not valid in ``encoding``, decoded on their own (kind "decoding")


# --------------------------------------------------------------------------- entry points


def read_document(path: str | Path, *, max_bytes: int | None = None) -> DecodedText:
    """Read and decode one document file (the only I/O of this stage)."""
    path = Path(path)
    status = _status(path)  # one stat for what exists(), is_file() and stat() asked (one each)
    if status is None:
        raise InputError(path, "file not found")
    if not stat.S_ISREG(status.st_mode):
        raise InputError(path, "not a regular file")
    size = status.st_size
    max_bytes = config.MAX_DOCUMENT_BYTES if max_bytes is None else max_bytes
    if size > max_bytes:
        raise InputError(
            path,
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit for one document "
            f"(a plan is rarely over 1 MB; set ANALYSIS_MAX_DOCUMENT_MB to raise the limit)",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc}") from exc
    return decode_bytes(data, path)


# The errors for which Path.exists() answers False instead of raising (pathlib's _IGNORED_ERRNOS).
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _status(path: Path) -> os.stat_result | None:
    """``path.stat()``, or None where ``path.exists()`` is False (raising what it raises)."""
    try:
        return path.stat()
    except OSError as exc:
        if exc.errno in _MISSING_ERRNOS or getattr(exc, "winerror", None) in (21, 123, 1921):
            return None
        raise
    except ValueError:  # a path the OS cannot represent (a NUL byte)
        return None


def decode_bytes(data: bytes, path: str | Path) -> DecodedText:
    """Turn a file's bytes into text; ``path`` names the file and its format (suffix).

    Raises :class:`InputError` (and nothing else) for empty, binary, undecodable,
    corrupt or text-less input.
    """
    if not data or not data.strip(b" \t\r\n\x00"):
        raise InputError(path, "empty file")
    suffix = Path(str(path)).suffix.lower()
    if suffix == ".pdf" or data.startswith(b"%PDF-"):
        return _decode_pdf(data, path)
    if suffix == ".docx" or (data.startswith(b"PK\x03\x04") and b"word/" in data[:4096]):
        return _decode_docx(data, path)
    if suffix in {".doc", ".xls", ".xlsx", ".ppt", ".pptx", ".wps", ".ofd", ".zip", ".rar"}:
        raise InputError(path, f"unsupported file format {suffix!r}")
    text, encoding, odd_lines = _decode_text_bytes(data, path)
    if suffix in {".html", ".htm", ".xhtml", ".shtml"} or _HTML_SNIFF_TEXT.search(text[:4096]):
        # The repaired lines are lines of the markup: their span in the page's text is not known.
        repairs = tuple(line.repair(encoding, None) for line in odd_lines)
        return DecodedText(_require_text(html_to_text(text, path=path), path), encoding, FORMAT_HTML, repairs)
    repairs = tuple(line.repair(encoding, (line.start, line.end)) for line in odd_lines)
    return DecodedText(_require_text(text, path), encoding, FORMAT_TXT, repairs)


# --------------------------------------------------------------------------- plain text


def _decode_text_bytes(data: bytes, path: str | Path) -> tuple[str, str, list[OddLine]]:
    """Detect the encoding of a text (or HTML) byte stream and decode it: text, encoding, lines decoded apart.

    A file valid in one encoding but for a few lines (pasted from elsewhere,
    or with broken bytes) is decoded line by line (:func:`_decode_by_lines`),
    each odd line recorded, rather than refused.
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(path, f"has a {name} byte-order mark but is not valid {name}: {exc.reason}") from exc
            return _check_not_binary(_normalise_newlines(text.lstrip("\ufeff")), path), name, []
    if b"\x00" in data:
        raise InputError(path, "binary content (contains NUL bytes; binary file or UTF-16 without byte-order mark)")
    candidates: list[tuple[float, int, str, str]] = []  # (score, -order, encoding, text)
    declared = _declared_html_charset(data)
    try:
        text = data.decode("utf-8")
        return _check_not_binary(_normalise_newlines(text), path), "utf-8", []
    except UnicodeDecodeError:
        pass
    codecs_to_try = list(_LEGACY_CODECS)
    if declared and declared not in codecs_to_try and declared not in {"utf-8", "utf8"}:
        codecs_to_try.insert(0, declared)
    for order, codec in enumerate(codecs_to_try):
        try:
            text = data.decode(codec)
        except (UnicodeError, LookupError, ValueError):
            continue
        bonus = 0.05 if codec == declared else 0.0
        candidates.append((plausibility(text) + bonus, -order, codec, text))
    lossy = data.decode("utf-8", errors="replace")
    n_bad = lossy.count("\ufffd")
    if n_bad <= max(1, int(len(lossy) * MAX_UTF8_ERROR_SHARE)):
        candidates.append((plausibility(lossy), 1, "utf-8", lossy))
    by_lines = _decode_by_lines(data)
    if by_lines is not None:  # on a tie it wins over the lossy whole-file decoding: it records what it did
        candidates.append((plausibility(by_lines[0]), 2, by_lines[1], by_lines[0]))
    if not candidates or max(candidates)[0] < MIN_PLAUSIBILITY:
        fallback = _charset_normalizer_guess(data)
        if fallback is not None:
            candidates.append((plausibility(fallback[1]), -99, fallback[0], fallback[1]))
    if not candidates:
        raise InputError(path, "cannot be decoded as UTF-8, GB18030 or Big5 text (binary or unknown encoding)")
    score, _, encoding, text = max(candidates)
    if score < MIN_PLAUSIBILITY:
        raise InputError(
            path, f"does not decode to plausible text in any supported encoding (best: {encoding}, score {score:.2f})"
        )
    if encoding == "utf-8" and "\ufffd" in text:
        log.warning("%s: UTF-8 with %d undecodable byte(s), replaced by U+FFFD", path, text.count("\ufffd"))
    odd_lines: list[OddLine] = []
    if by_lines is not None and text is by_lines[0]:
        odd_lines = by_lines[2]
        log.warning(
            "%s: %s with %d line(s) decoded apart: %s",
            path,
            encoding,
            len(odd_lines),
            "; ".join(line.reason(encoding) for line in odd_lines[:3]),
        )
    log.debug("%s: detected %s (plausibility %.2f)", path, encoding, score)
    return _check_not_binary(_normalise_newlines(text), path), encoding, odd_lines


# A document may hold a few lines in another encoding (pasted from elsewhere) or with broken bytes: up to
# this many such lines, and at most this share of its lines (or 3), are decoded one by one and recorded as repairs.
MAX_ODD_LINES = 20
MAX_ODD_LINE_SHARE = 0.05
# An odd line decoded with another codec than the document's must look at least this much like Chinese text.
MIN_ODD_LINE_PLAUSIBILITY = 0.6


@dataclass(frozen=True)
class OddLine:
    """A line not valid in the document's encoding, and how it was decoded instead."""

    number: int  # 1-based line number in the file
    start: int  # span of the decoded line in the decoded text
    end: int
    raw: bytes
    text: str
    codec: str | None  # the codec that decoded it, or None: undecodable bytes replaced by U+FFFD

    def reason(self, encoding: str) -> str:
        if self.codec:
            return f"line {self.number} is not valid {encoding} (the rest of the file is); decoded as {self.codec}"
        return (
            f"line {self.number} is valid in no supported encoding; "
            f"its undecodable bytes are replaced by U+FFFD (the rest of the file is {encoding})"
        )

    def repair(self, encoding: str, span: tuple[int, int] | None) -> Repair:
        """The line as a recorded repair (``span`` None when it is not known in the final text)."""
        where = span if span is not None else (0, 0)
        before = self.raw.decode("latin-1").encode("unicode_escape").decode("ascii")
        return Repair("decoding", before[:300], self.text, where, self.reason(encoding))


def _decode_by_lines(data: bytes) -> tuple[str, str, list[OddLine]] | None:
    """Decode line by line: the codec valid for most bytes, and the few other lines on their own.

    Returns ``(text, encoding, odd lines)``, or None when every line is valid
    in one codec (nothing to do here) or when too many lines are not (then
    it is not one text with a few damaged lines).
    """
    lines = [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]
    best = max(
        (
            (sum(len(line) for line in lines if _decodes(line, codec)), -order, codec)
            for order, codec in enumerate(("utf-8", *_LEGACY_CODECS))
        ),
    )
    encoding = best[2]
    odd = [i for i, line in enumerate(lines) if not _decodes(line, encoding)]
    n_lines = sum(1 for line in lines if line.strip())
    if not odd or len(odd) > MAX_ODD_LINES or len(odd) > max(3, int(n_lines * MAX_ODD_LINE_SHARE)):
        return None
    pieces: list[str] = []
    odd_lines: list[OddLine] = []
    position = 0
    odd_set = set(odd)
    for number, line in enumerate(lines, start=1):
        if number - 1 in odd_set:
            text, codec = _decode_odd_line(line, encoding)
            odd_lines.append(OddLine(number, position, position + len(text), line, text, codec))
        else:
            text = line.decode(encoding)
        pieces.append(text)
        position += len(text) + 1
    return "\n".join(pieces), encoding, odd_lines


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _decode_odd_line(line: bytes, encoding: str) -> tuple[str, str | None]:
    """A line ``encoding`` cannot decode: another codec if it yields plausible text, else bytes replaced."""
    best: tuple[float, str, str | None] = (MIN_ODD_LINE_PLAUSIBILITY, line.decode(encoding, errors="replace"), None)
    for codec in ("utf-8", *_LEGACY_CODECS):
        if codec == encoding:
            continue
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            continue
        score = plausibility(text)
        if score >= best[0] and (best[2] is None or score > best[0]):
            best = (score, text, codec)
    return best[1], best[2]


def _declared_html_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in a <meta> tag (lower-case), if any."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii", "ignore").lower()
    return _DECLARED_CHARSETS.get(name)


def _charset_normalizer_guess(data: bytes) -> tuple[str, str] | None:
    """Last-resort guess from charset-normalizer: (encoding, text) or None."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception as exc:  # the detector must never turn bad input into a crash
        log.debug("charset-normalizer failed: %s", exc)
        return None
    if best is None:
        return None
    return best.encoding, str(best)


def _normalise_newlines(text: str) -> str:
    return _NEWLINES.sub("\n", text)


# Unicode category Cc (C0, DEL, C1) except tab, newline, vertical tab and form feed.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0d-\x1f\x7f-\x9f]")


def _check_not_binary(text: str, path: str | Path) -> str:
    """Reject text that is mostly control characters."""
    if not text:
        return text
    controls = len(_CONTROL_CHARACTER.findall(text))
    if controls / len(text) > MAX_CONTROL_SHARE:
        raise InputError(path, f"binary content ({controls} control characters in {len(text)}); not a text document")
    return text


def _require_text(text: str, path: str | Path) -> str:
    if not text.strip():
        raise InputError(path, "contains no text")
    return text


@lru_cache(maxsize=1)
def _common_hanzi() -> frozenset[str]:
    """Common hanzi: GB2312 level 1 (3755 simplified) and Big5 level 1 (5401 traditional).

    Both tables are the frequency-selected "common character" blocks of the
    national standards, so they are derived from the codecs rather than kept
    as a list.
    """
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for code in range(0xA440, 0xC67F):
        lead, trail = divmod(code, 256)
        if 0x40 <= trail <= 0x7E or 0xA1 <= trail <= 0xFE:
            try:
                chars.add(bytes([lead, trail]).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


def plausibility(text: str) -> float:
    """How much ``text`` looks like (Chinese) prose: roughly -1 .. 1.

    +1 for common hanzi, common CJK punctuation, printable ASCII and whitespace;
    -1 for characters a wrong codec typically yields (kana, bopomofo, Greek,
    Cyrillic, box drawing, private use, replacement, control characters);
    0 for rare but legitimate characters.
    """
    if not text:
        return 0.0
    common = _common_hanzi()
    sample = text[:20000]
    score = 0
    for ch in sample:
        code = ord(ch)
        if ch in common or ch in _COMMON_PUNCT or (32 <= code < 127) or ch in "\n\t\f":
            score += 1
        elif 0xFF01 <= code <= 0xFF5E:
            score += 1
        elif (
            0x3040 <= code <= 0x30FF  # kana
            or 0x3100 <= code <= 0x312F  # bopomofo
            or 0x0370 <= code <= 0x04FF  # Greek, Cyrillic
            or 0x2500 <= code <= 0x257F  # box drawing
            or 0xE000 <= code <= 0xF8FF  # private use
            or 0xFE30 <= code <= 0xFE4F  # vertical forms
            or code == 0xFFFD
            or unicodedata.category(ch) in {"Cc", "Co", "Cs", "Cn"}
        ):
            score -= 1
    return score / len(sample)


# --------------------------------------------------------------------------- HTML


# class/id words of site chrome (navigation, breadcrumbs, footers, share bars):
# whole words only, so "content-header" or "article" are kept.
_CHROME_WORDS = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|crumb|crumbs|breadcrumb|footer|foot|sidebar|share|toolbar|"
    r"copyright|topbar|sitemap)(?:$|[-_\s\d])",
    re.I,
)


def _is_page_chrome(tag: Any) -> bool:
    """A block element whose class or id names site chrome (never <body>/<html>)."""
    if getattr(tag, "name", None) in (None, "html", "body") or getattr(tag, "attrs", None) is None:
        return False
    names = " ".join([*tag.get("class", []), tag.get("id", "") or ""])
    return bool(names) and _CHROME_WORDS.search(names) is not None


def html_to_text(markup: str, *, path: str | Path | None = None) -> str:
    """Main text of an HTML page: scripts, styles and page chrome dropped, blocks as lines.

    The tree is walked with an explicit stack (no recursion), and a page nested
    deeper than ``config.MAX_HTML_DEPTH`` elements is refused with an
    :class:`InputError` naming the limit.
    """
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag

    soup = BeautifulSoup(markup, "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_page_chrome):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    root = soup.body or soup
    limit = config.MAX_HTML_DEPTH
    pieces: list[str] = []
    # Stack of (node, in <pre>, depth) to enter, or a string to emit when a block closes.
    stack: list[Any] = [(child, False, 1) for child in reversed(list(root.children))]
    while stack:
        entry = stack.pop()
        if isinstance(entry, str):
            pieces.append(entry)
            continue
        node, in_pre, depth = entry
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not CData, Doctype, ProcessingInstruction, ...
                value = str(node)
                pieces.append(value if in_pre else re.sub(r"[ \t\r\n\f]+", " ", value))
            continue
        if not isinstance(node, Tag):
            continue
        if depth > limit:
            raise InputError(
                path,
                f"HTML elements nested deeper than the limit of {limit} levels "
                "(a real page needs far fewer; ANALYSIS_MAX_HTML_DEPTH raises the limit)",
            )
        name = node.name.lower()
        if name in _BLOCK_TAGS:
            pieces.append("\n")
            stack.append("\n")
        elif name in _CELL_TAGS:
            pieces.append("\t")
        inner = in_pre or name == "pre"
        stack.extend((child, inner, depth + 1) for child in reversed(list(node.children)))
    # Block boundaries produce runs of breaks; one line per block is all the structure we keep.
    lines = (line.strip(" \t") for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- docx


_PARAGRAPH_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s/>]")


def _check_docx_expansion(data: bytes, path: str | Path) -> None:
    """Refuse a .docx that unpacks to more than ``config.MAX_DOCX_UNPACKED_BYTES`` or holds too many paragraphs.

    A small file can hold a huge document (XML compresses a thousandfold), so
    the limits are checked before python-docx builds its tree: the sizes the
    archive declares (which bound what zipfile will extract), then the
    paragraphs of ``word/document.xml``, counted while streaming it.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InputError(path, f"not a readable .docx file ({type(exc).__name__}: {exc})") from exc
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        limit = config.MAX_DOCX_UNPACKED_BYTES
        if unpacked > limit:
            raise InputError(
                path,
                f".docx unpacks to {unpacked / 1e6:,.0f} MB, over the limit of {limit / 1e6:,.0f} MB "
                "(ANALYSIS_MAX_DOCX_UNPACKED_MB raises it)",
            )
        if "word/document.xml" not in archive.namelist():
            return  # python-docx reports what is wrong with the package
        max_paragraphs = config.MAX_DOCX_PARAGRAPHS
        count = 0
        tail = b""
        try:
            with archive.open("word/document.xml") as stream:
                while chunk := stream.read(1 << 20):
                    block = tail + chunk
                    # Tags starting in the last 40 bytes may be cut: they are counted with the next block.
                    cut = max(0, len(block) - 40)
                    count += sum(1 for match in _PARAGRAPH_TAG.finditer(block) if match.start() < cut)
                    tail = block[cut:]
                    if count > max_paragraphs:
                        break
            count += len(_PARAGRAPH_TAG.findall(tail))
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            raise InputError(path, f"not a readable .docx file ({type(exc).__name__}: {exc})") from exc
        if count > max_paragraphs:
            raise InputError(
                path,
                f".docx holds more than {max_paragraphs:,} paragraphs, over the limit "
                "(a plan has a few thousand; ANALYSIS_MAX_DOCX_PARAGRAPHS raises it)",
            )


def _decode_docx(data: bytes, path: str | Path) -> DecodedText:
    """Paragraphs and table cells of a .docx, in document order."""
    _check_docx_expansion(data, path)
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except MemoryError:
        raise  # a budget overrun, not a corrupt file: the build reports it as such
    except Exception as exc:  # python-docx raises many kinds for corrupt packages
        raise InputError(path, f"not a readable .docx file ({type(exc).__name__}: {exc})") from exc

    lines: list[str] = []

    def add_block(container) -> None:
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Table):
                add_table(block)

    def add_table(table) -> None:
        for row in table.rows:
            cells: list[str] = []
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # merged cells repeat in row.cells
                    continue
                seen.add(id(cell._tc))
                cell_lines: list[str] = []
                for block in cell.iter_inner_content():
                    if isinstance(block, Paragraph):
                        cell_lines.append(block.text)
                    elif isinstance(block, Table):
                        before = len(lines)
                        add_table(block)
                        cell_lines.extend(lines[before:])
                        del lines[before:]
                cells.append(" ".join(s.strip() for s in cell_lines if s.strip()))
            lines.append("\t".join(cells))

    try:
        add_block(document)
    except MemoryError:
        raise
    except Exception as exc:
        raise InputError(path, f"cannot extract text from .docx ({type(exc).__name__}: {exc})") from exc
    text = _normalise_newlines("\n".join(lines))
    return DecodedText(_require_text(text, path), _docx_xml_encoding(data), FORMAT_DOCX)


def _docx_xml_encoding(data: bytes) -> str:
    """Encoding declared by word/document.xml (OOXML is UTF-8 or UTF-16)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            head = archive.open("word/document.xml").read(200)
    except Exception:
        return "utf-8"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    match = re.search(rb"""encoding=["']([A-Za-z0-9_\-]+)""", head)
    return match.group(1).decode("ascii").lower() if match else "utf-8"


# --------------------------------------------------------------------------- pdf


def _decode_pdf(data: bytes, path: str | Path) -> DecodedText:
    """Text layer of a PDF; a scanned PDF (no text layer) is an InputError."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(path, "PDF is encrypted")
        n_pages = len(reader.pages)
        if n_pages > config.MAX_PDF_PAGES:
            raise InputError(
                path,
                f"PDF has {n_pages:,} pages, over the limit of {config.MAX_PDF_PAGES:,} "
                "(ANALYSIS_MAX_PDF_PAGES raises it)",
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except (InputError, MemoryError):
        raise
    except Exception as exc:  # pypdf raises many kinds for damaged files
        raise InputError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise InputError(path, "PDF has no pages")
    text = _normalise_newlines("\n".join(p.rstrip("\n") for p in pages))
    visible = sum(1 for ch in text if not ch.isspace())
    if visible < MIN_PDF_CHARS_PER_PAGE * len(pages):
        raise InputError(
            path,
            f"PDF has no usable text layer ({visible} characters on {len(pages)} page(s)); "
            "probably a scan, OCR it first",
        )
    return DecodedText(_check_not_binary(text, path), PDF_ENCODING, FORMAT_PDF)
