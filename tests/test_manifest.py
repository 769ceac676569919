"""The manifest: malformed rows are errors naming the row; dates are real dates; periods run forward."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from analysis.core.errors import ManifestError
from analysis.parse.manifest import load_manifest, open_manifest

HEADER = "doc_id,file,jurisdiction,issued,published,period_start,period_end,notes\n"


def write(tmp_path: Path, body: str | bytes, files: tuple[str, ...] = ("a.txt", "b.txt", "c.txt")) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for name in files:
        (raw / name).write_text("一、总体要求\n", encoding="utf-8")
    manifest = raw / "manifest.csv"
    if isinstance(body, str):
        manifest.write_text(HEADER + body, encoding="utf-8")
    else:
        manifest.write_bytes(HEADER.encode() + body)
    return manifest


def test_a_row_with_extra_fields_is_an_error_naming_the_row(tmp_path):
    manifest = write(tmp_path, "a,a.txt,青山县,,,,,\nb,b.txt,白河市,,,,,,extra\nc,c.txt,,,,,,\n")
    with pytest.raises(ManifestError, match=r"row 3: 9 fields where the header has 8"):
        load_manifest(manifest, manifest.parent)


def test_a_row_with_missing_fields_is_an_error_naming_the_row(tmp_path):
    manifest = write(tmp_path, "a,a.txt,青山县,,,,,\nb,b.txt\n")
    with pytest.raises(ManifestError, match=r"row 3: 2 fields where the header has 8"):
        load_manifest(manifest, manifest.parent)


def test_a_nul_byte_in_a_file_name_is_an_error_naming_row_and_column(tmp_path):
    manifest = write(tmp_path, b"a,a.txt,,,,,,\nb,b\x00.txt,,,,,,\n")
    with pytest.raises(ManifestError, match=r"row 3: NUL character in column 'file'"):
        load_manifest(manifest, manifest.parent)


def test_every_malformed_row_is_named_once(tmp_path):
    manifest = write(tmp_path, "a,a.txt,,,,,,,\nb,b.txt,,,,,,\nc,c.txt,,,\n")
    with pytest.raises(ManifestError) as error:
        load_manifest(manifest, manifest.parent)
    assert "row 2:" in str(error.value) and "row 4:" in str(error.value) and "row 3:" not in str(error.value)


def test_broken_quoting_is_an_error_naming_the_row(tmp_path):
    manifest = write(tmp_path, 'a,a.txt,,,,,,\nb,b.txt,"白河市,,,,,\n')
    with pytest.raises(ManifestError, match=r"row 3"):
        load_manifest(manifest, manifest.parent)


def test_bytes_that_are_not_utf8_name_the_row(tmp_path):
    manifest = write(tmp_path, b"a,a.txt,,,,,,\n" + "b,b.txt,白河市,,,,,\n".encode("gb18030"))
    with pytest.raises(ManifestError, match=r"not UTF-8 text \(row 3"):
        load_manifest(manifest, manifest.parent)


def test_a_quoted_field_over_two_lines_keeps_the_row_numbers_of_later_rows(tmp_path):
    manifest = write(tmp_path, 'a,a.txt,,,,,,"first line\nsecond line"\nb,b.txt,,2020-13-45,,,,\n')
    entries, problems = load_manifest(manifest, manifest.parent)
    assert [(e.doc_id, e.row) for e in entries] == [("a", 2)]
    assert [(p.doc_id, p.row) for p in problems] == [("b", 4)]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("2020-13-45,,,", "issued '2020-13-45' is not a real date"),
        ("2019-02-29,,,", "issued '2019-02-29' is not a real date"),
        (",2021-04-31,,", "published '2021-04-31' is not a real date"),
        (",,2020,2018", "period ends (2018) before it starts (2020)"),
    ],
)
def test_impossible_dates_and_backward_periods_are_row_problems(tmp_path, values, message):
    manifest = write(tmp_path, f"a,a.txt,青山县,2020-03-01,,,,\nb,b.txt,白河市,{values},\n")
    entries, problems = load_manifest(manifest, manifest.parent)
    assert [e.doc_id for e in entries] == ["a"]
    assert [(p.row, p.doc_id, p.problem) for p in problems] == [(3, "b", message)]


def test_real_dates_and_a_one_year_period_are_accepted(tmp_path):
    manifest = write(tmp_path, "a,a.txt,青山县,2020-02-29,2020-03-02,2020,2020,\n")
    entries, problems = load_manifest(manifest, manifest.parent)
    assert not problems
    assert entries[0].metadata["issued"] == "2020-02-29" and entries[0].metadata["period_end"] == 2020
    assert entries[0].row == 2


def _many_rows(tmp_path: Path, n: int) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = []
    for i in range(n):
        (raw / f"d{i}.txt").write_text("一、总体要求\n", encoding="utf-8")
        lines.append(f"d{i},d{i}.txt,青山县,2020-03-01,,2020,2021,第{i}行的说明\n")
    manifest = raw / "manifest.csv"
    manifest.write_text(HEADER + "".join(lines), encoding="utf-8")
    return manifest


def test_an_opened_manifest_streams_the_same_entries_every_time(tmp_path):
    manifest = write(tmp_path, "a,a.txt,青山县,,,,,\nb,b.txt,,2020-13-45,,,,\nc,c.txt,白河市,,,2020,2021,\n")
    opened = open_manifest(manifest, manifest.parent)
    entries, problems = load_manifest(manifest, manifest.parent)
    assert len(opened) == 2 and [(p.row, p.doc_id) for p in opened.problems] == [(3, "b")]
    assert list(opened) == list(opened) == entries
    assert opened.problems == problems


def test_an_opened_manifest_holds_no_entries(tmp_path):
    """Memory stays flat in the number of rows: what is kept after checking 3,000 rows is a few kB."""
    manifest = _many_rows(tmp_path, 3000)
    # Checked once untraced first: pathlib interns the file names, and the interpreter's table of interned
    # strings, global, may grow by MBs while they are added (when depends on what ran before in the process).
    open_manifest(manifest, manifest.parent)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        opened = open_manifest(manifest, manifest.parent)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(opened) == 3000
    assert kept < 100_000, f"{kept} bytes kept for 3,000 rows (a list of entries takes several MB)"
    first = next(iter(opened))
    assert (first.doc_id, first.row, first.metadata["period_end"]) == ("d0", 2, 2021)


def test_a_manifest_changed_after_it_was_checked_is_an_error_naming_the_file(tmp_path):
    manifest = write(tmp_path, "a,a.txt,,,,,,\nb,b.txt,,,,,,\n")
    opened = open_manifest(manifest, manifest.parent)
    manifest.write_text(HEADER + "b,b.txt,,,,,,\na,a.txt,,,,,,\nc,c.txt,,,,,,\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="changed after it was checked") as error:
        list(opened)
    assert str(manifest) in str(error.value)


def test_a_bad_row_far_down_a_long_manifest_is_named_with_file_and_row(tmp_path):
    manifest = _many_rows(tmp_path, 2000)
    with manifest.open("a", encoding="utf-8") as handle:
        handle.write("late,late.txt,青山县\n")
    with pytest.raises(ManifestError, match=r"row 2002: 3 fields where the header has 8") as error:
        open_manifest(manifest, manifest.parent)
    assert str(manifest) in str(error.value)
