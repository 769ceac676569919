"""The static HTML report, opened in a real headless browser (Debian's Chromium driven by Selenium).

The corpus is two small plans written for this test: their texts, the task spans
in them, units and targets.  The test clicks a cell of the plan x theme matrix
and checks the tasks listed, then follows a task's source link and checks the
highlighted span is that task's text in the document as captured.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from tests.system_tools import require_tools

from analysis.publish import report

PLAN_A = (
    "东河市2019年法治政府建设工作要点\n"
    "一、依法全面履行政府职能\n"
    "1.深化行政审批制度改革，全面推行证明事项告知承诺制。(牵头单位:市司法局)\n"
    "2.完善权责清单动态调整机制，年底前完成清单修订。(牵头单位:市委编办)\n"
    "二、严格规范公正文明执法\n"
    "3.全面推行行政执法公示制度，执法决定公开率达到100%。(牵头单位:市司法局;责任单位:各执法部门)\n"
)
PLAN_B = (
    "西岭县2020年法治政府建设实施方案\n"
    "一、推进行政决策科学化\n"
    "(一)落实重大行政决策程序规定，每年公布决策事项目录。\n"
    "(二)深化政务公开，按时办结依申请公开事项。(责任单位:县政府办)\n"
)


def _span(text: str, piece: str) -> tuple[int, int]:
    start = text.index(piece)
    return start, start + len(piece)


def _tables() -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    documents = pd.DataFrame(
        {
            "doc_id": ["donghe_2019", "xiling_2020"],
            "jurisdiction": ["东河市", "西岭县"],
            "jurisdiction_en": ["Donghe", "Xiling"],
            "issued_year": pd.array([2019, 2020], dtype="Int64"),
        }
    )
    items = [
        (
            "donghe_2019",
            "donghe_2019-T001",
            "一/1",
            PLAN_A,
            "深化行政审批制度改革，全面推行证明事项告知承诺制。",
            "functions",
        ),
        (
            "donghe_2019",
            "donghe_2019-T002",
            "一/2",
            PLAN_A,
            "完善权责清单动态调整机制，年底前完成清单修订。",
            "functions",
        ),
        (
            "donghe_2019",
            "donghe_2019-T003",
            "二/3",
            PLAN_A,
            "全面推行行政执法公示制度，执法决定公开率达到100%。",
            "enforcement",
        ),
        (
            "xiling_2020",
            "xiling_2020-T001",
            "一/(一)",
            PLAN_B,
            "落实重大行政决策程序规定，每年公布决策事项目录。",
            "decisions",
        ),
        ("xiling_2020", "xiling_2020-T002", "一/(二)", PLAN_B, "深化政务公开，按时办结依申请公开事项。", "oversight"),
    ]
    rows = []
    for doc_id, task_id, path, text, piece, theme in items:
        start, end = _span(text, piece)
        rows.append(
            {
                "doc_id": doc_id,
                "task_id": task_id,
                "kind": "task",
                "path": path,
                "text": piece,
                "theme": theme,
                "raw_span_start": start,
                "raw_span_end": end,
            }
        )
    tasks = pd.DataFrame(rows)
    units = pd.DataFrame(
        {
            "doc_id": ["donghe_2019", "donghe_2019", "donghe_2019", "donghe_2019", "xiling_2020"],
            "task_id": [
                "donghe_2019-T001",
                "donghe_2019-T002",
                "donghe_2019-T003",
                "donghe_2019-T003",
                "xiling_2020-T002",
            ],
            "canonical": ["司法局", "机构编制委员会办公室", "司法局", "各执法部门", "政府办公室"],
            "generic": [False, False, False, True, False],
            "role": ["lead", "lead", "lead", "responsible", "responsible"],
        }
    )
    targets = pd.DataFrame(
        {
            "doc_id": ["donghe_2019", "donghe_2019"],
            "task_id": ["donghe_2019-T002", "donghe_2019-T003"],
            "type": ["deadline", "rate"],
            "text": ["年底前", "公开率达到100%"],
            "stance": ["commitment", "commitment"],
        }
    )
    texts = {"donghe_2019": PLAN_A, "xiling_2020": PLAN_B}
    return {"documents": documents, "tasks": tasks, "units": units, "targets": targets}, texts


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tables, texts = _tables()
    out = tmp_path_factory.mktemp("report")
    report.build_report(tables, out, texts=texts, executed_dir=None)
    return out


def test_site_is_self_contained(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "comparison.html", "donghe_2019.html", "xiling_2020.html"}
    for page in pages:
        markup = page.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']https?://""", markup), f"{page.name} loads something from the network"
    assert (site / "assets" / "plotly.min.js").stat().st_size > 1_000_000


def test_document_page_anchors_each_task_span(site: Path) -> None:
    markup = (site / "documents" / "donghe_2019.html").read_text(encoding="utf-8")
    assert markup.count('class="task"') == 3
    assert 'id="task-donghe_2019-T003">全面推行行政执法公示制度，执法决定公开率达到100%。</span>' in markup


def test_cells_list_the_tasks_behind_them() -> None:
    tables, _ = _tables()
    views, records = report.comparison_views(tables, report.Codebook.load())
    themes = {v.key: v for v in views}["themes"]
    assert themes.cells[("donghe_2019", "functions")] == ["donghe_2019-T001", "donghe_2019-T002"]
    assignment = {v.key: v for v in views}["assignment"]
    # T003 names 司法局 (and a generic unit): named; T001 of Xiling names nobody.
    assert assignment.cells[("donghe_2019", "named")] == ["donghe_2019-T001", "donghe_2019-T002", "donghe_2019-T003"]
    assert assignment.cells[("xiling_2020", "not_assigned")] == ["xiling_2020-T001"]
    targets = {v.key: v for v in views}["targets"]
    (rate_target,) = targets.cells[("donghe_2019", "rate")]
    assert records[rate_target]["target"] == "公开率达到100%"


def _browser():
    require_tools("chromium", "chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    import shutil

    options.binary_location = shutil.which("chromium") or "chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_window_size(1400, 1000)
    return driver


def _severe(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_clicking_a_cell_lists_its_tasks_and_the_source_link_shows_the_span(site: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser()
    try:
        driver.get((site / "comparison.html").as_uri())
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script(
                "const g = document.getElementById('view-themes'); return !!(g && g._fullLayout)"
            )
        )
        assert _severe(driver) == []
        plot = driver.find_element(By.ID, "view-themes")
        columns = driver.execute_script("return document.getElementById('view-themes').data[0].x")
        column = columns.index("Government functions performed according to law")
        offset = driver.execute_script(
            """const gd = document.getElementById('view-themes');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
            return [xa._offset + xa.l2p(arguments[0]) - box.width / 2, ya._offset + ya.l2p(arguments[1]) - box.height / 2];""",
            column,
            0,
        )
        ActionChains(driver).move_to_element_with_offset(plot, int(offset[0]), int(offset[1])).click().perform()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#tasks-themes tr[data-task-id]"))
        listed = [
            row.get_attribute("data-task-id")
            for row in driver.find_elements(By.CSS_SELECTOR, "#tasks-themes tr[data-task-id]")
        ]
        assert listed == ["donghe_2019-T001", "donghe_2019-T002"]
        assert "Donghe 2019" in driver.find_element(By.ID, "tasks-themes").text

        link = driver.find_elements(By.CSS_SELECTOR, "#tasks-themes a.source-link")[1]
        link.click()
        WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith("#task-donghe_2019-T002"))
        highlighted = driver.execute_script("const e = document.querySelector(':target'); return e && e.textContent")
        assert highlighted == "完善权责清单动态调整机制，年底前完成清单修订。"
        colour = driver.execute_script("return getComputedStyle(document.querySelector(':target')).backgroundColor")
        assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
        assert _severe(driver) == []
    finally:
        driver.quit()


def test_executed_notebooks_are_rendered_without_network_scripts(tmp_path: Path) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 02 Theme coverage\n\n**Reading.** Two plans compared."),
        nbformat.v4.new_code_cell("1 + 1", outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"})]),
    ]
    executed = tmp_path / "executed"
    executed.mkdir()
    nbformat.write(notebook, str(executed / "02_theme_coverage.ipynb"))
    tables, texts = _tables()
    index = report.build_report(tables, tmp_path / "site", texts=texts, executed_dir=executed)
    page = (tmp_path / "site" / "notebooks" / "02_theme_coverage.html").read_text(encoding="utf-8")
    assert "Two plans compared." in page
    assert not re.search(r"""(src|href)=["']https?://""", page)
    assert 'href="notebooks/02_theme_coverage.html"' in index.read_text(encoding="utf-8")


def test_report_command_reads_each_documents_text_from_its_source_file(tmp_path: Path) -> None:
    from analysis import cli
    from analysis.core.store import write_table

    tables, texts = _tables()
    sources = {}
    for doc_id, text in texts.items():
        path = tmp_path / "raw" / f"{doc_id}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="gb18030")  # the reader detects the encoding, as in the build
        sources[doc_id] = str(path)
    tables["documents"] = tables["documents"].assign(source_path=tables["documents"]["doc_id"].map(sources))
    for name, frame in tables.items():
        write_table(frame, name, tmp_path / "processed")
    status = cli.main(
        [
            "report",
            "--processed",
            str(tmp_path / "processed"),
            "--notebooks",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "site"),
        ]
    )
    assert status == 0
    page = (tmp_path / "site" / "documents" / "xiling_2020.html").read_text(encoding="utf-8")
    assert 'id="task-xiling_2020-T002">深化政务公开，按时办结依申请公开事项。</span>' in page
