"""Adversarial input files generated for the robustness tests (no third-party text)."""

from __future__ import annotations

import io
import zipfile


def deep_html(depth: int, text: str = "一、总体要求") -> bytes:
    """An HTML page whose text sits inside ``depth`` nested <div> elements."""
    return ("<html><body>" + "<div>" * depth + f"<p>{text}</p>" + "</div>" * depth + "</body></html>").encode()


def docx_with_paragraphs(n_paragraphs: int, text: str = "加强规范性文件管理。") -> bytes:
    """A minimal valid .docx whose body holds ``n_paragraphs`` paragraphs (compresses extremely well)."""
    paragraph = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()
    body = paragraph * n_paragraphs
    document = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + body
        + b"</w:body></w:document>"
    )
    content_types = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/word/document.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        b"</Types>"
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        b'Target="word/document.xml"/></Relationships>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def pdf_with_pages(n_pages: int, line: str = "Rule of law plan, page") -> bytes:
    """A valid PDF of ``n_pages`` pages, each with one line of ASCII text in Helvetica."""
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i in range(n_pages):
        content = f"BT /F1 12 Tf 72 720 Td ({line} {i + 1}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


# A plan written for these tests; the adversarial files below are variations of it.
PLAN = """翠屏县2022年法治政府建设工作要点
一、依法全面履行政府职能
1.深化行政审批制度改革，推行告知承诺制。(牵头单位:县行政审批局)
2.加强规范性文件备案审查，合法性审核率达到100%。(牵头单位:县司法局)
二、严格规范公正文明执法
3.全面推行行政执法公示制度、执法全过程记录制度。(牵头单位:县司法局)
4.每年至少开展一次行政执法案卷评查。(牵头单位:县司法局)
"""


def plan_with_task(extra: str) -> bytes:
    """The plan with a fifth task whose text is ``extra`` (UTF-8)."""
    return (PLAN + f"5.{extra}\n").encode("utf-8")


def plan_with_foreign_lines() -> bytes:
    """The plan in UTF-8 with two of its lines in GB18030 (pasted from another file)."""
    lines = [line.encode("utf-8") for line in PLAN.splitlines()]
    for i in (2, 5):
        lines[i] = PLAN.splitlines()[i].encode("gb18030")
    return b"\n".join(lines) + b"\n"


def quadratic_inputs() -> dict[str, bytes]:
    """Small inputs that once took quadratic time (issue 15): runs of brackets, labels, digits, %, years."""
    return {
        "brackets.txt": plan_with_task("完善制度" + "(" * 20_000 + "。"),
        "fullwidth_brackets.txt": plan_with_task("完善制度" + "（" * 300_000 + "。"),
        "labels.txt": plan_with_task("完善制度" + "(牵头单位:" * 5_000 + "。"),
        "digits.txt": plan_with_task("完善制度" + "1" * 10_000 + "。"),
        "percents.txt": plan_with_task("完善制度" + "100%" * 8_000 + "。"),
        "years.txt": plan_with_task("完善制度" + "2016" * 200_000 + "。"),
    }
