"""The report as an A4 PDF a clerk prints and files (unsigned here; :mod:`sealkit.report.output` signs it).

Built with fpdf2, already sealkit's PDF *writer* for the sample contracts: it lays out wrapped text and
tables,
places PNG images, and embeds a TrueType font as a proper subset (a CIDFontType2 with a ToUnicode map), so
pdftoppm, PDFium, Acrobat and pdftotext all show and extract the Chinese. reportlab is not a dependency;
pyHanko writes PDF objects but has no text layout. The font is sealkit's CJK font
(:func:`sealkit.fonts.cjk_font_path`, AR PL UMing), the one the seal imprints are drawn with.

Every page carries the file's name and SHA-256 in its footer, so a printed page cannot be mistaken for the
report on another file.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from sealkit.report.model import ReportDocument, SignatureSection, Verdict
from sealkit.report.words import Words, visible

FONT = "cjk"
COLOURS = {
    "TOTAL-PASSED": ((26, 127, 55), (230, 244, 234)),
    "TOTAL-FAILED": ((176, 0, 32), (253, 231, 233)),
    "INDETERMINATE": ((181, 129, 0), (255, 245, 214)),
}
_LABEL_W = 46.0
_THUMB_W = 56.0


def render_pdf(document: ReportDocument) -> bytes:
    """The report of ``document`` as PDF bytes."""
    from fpdf import FPDF

    from sealkit.fonts import cjk_font_path

    d = document
    logging.getLogger("fpdf").setLevel(logging.ERROR)  # a glyph the font lacks is not the reader's business

    class _Report(FPDF):
        def footer(self) -> None:
            self.set_y(-13)
            self.set_font(FONT, size=7)
            self.set_text_color(90, 90, 90)
            text = f"{visible(d.file_name)}  SHA-256 {d.sha256}   第 {self.page_no()} / {{nb}} 页"
            self.multi_cell(0, 3.5, text, align="C")
            self.set_text_color(0, 0, 0)

    pdf = _Report(format="A4", unit="mm")
    pdf.set_margins(16, 16, 16)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, fname=str(cjk_font_path()))
    pdf.set_title(visible(f"{d.title.zh} — {d.file_name}"))
    pdf.set_creator(d.generator)
    pdf.set_lang("zh-CN")
    pdf.alias_nb_pages()
    pdf.add_page()
    _heading(pdf, d.title, 18, 11)
    _verdict(pdf, d.verdict, big=True)
    _section_title(pdf, Words("文件", "File"))
    _rows(
        pdf,
        [
            ("文件名 / File name", d.file_name),
            ("格式 / Format", d.file_format),
            ("大小 / Size", f"{d.size:,} bytes"),
            ("SHA-256", d.sha256),
            ("SM3", d.sm3),
            ("验证时间 / Verified at", d.verified_at),
            ("验证程序 / Verifier", d.generator),
            (
                "报告签名 / Report signed by",
                d.report_signer or "未签名 / not signed (not for filing as evidence)",
            ),
        ],
    )
    for note in d.notes:
        _para(pdf, f"• {note.zh} / {note.en}")
    if d.unsigned_fields:
        _para(pdf, "未签名的签名域 / Unsigned signature fields: " + "、".join(d.unsigned_fields))
    if not d.signatures:
        _para(pdf, "文件中没有签名 / The file carries no signature.")
    for number, section in enumerate(d.signatures, start=1):
        _signature(pdf, number, section)
    return bytes(pdf.output())


def _signature(pdf: Any, number: int, s: SignatureSection) -> None:
    if pdf.get_y() > 200:
        pdf.add_page()
    _section_title(pdf, Words(f"签名 {number}：{s.field}", f"Signature {number}: {s.field}"))
    _verdict(pdf, s.verdict)
    top = pdf.get_y()
    seal_w = 34.0 if s.seal_image else 0.0
    rows = [
        ("签名者 / Signer", s.signer),
        ("单位 / Unit", s.unit or "—"),
        ("统一社会信用代码 / USCC", s.uscc or "—"),
        ("算法 / Algorithm", s.algorithm or "—"),
        ("签名时间 / Signing time", f"{s.signing_time or '—'}\n{s.time_proof.zh} / {s.time_proof.en}"),
    ]
    if s.tsa:
        rows.append(("时间戳机构 / TSA", s.tsa))
    if s.seal_name or s.seal_id:
        rows.append(("电子印章 / Seal", f"{s.seal_name or '—'} ({s.seal_id or '?'})"))
    if s.seal_detail:
        rows.append(("印章检查 / Seal check", s.seal_detail))
    rows.append(("覆盖范围 / Coverage", f"{s.coverage.zh} / {s.coverage.en}"))
    rows.append(("签名后修改 / Changes", f"{s.modification.zh} / {s.modification.en}"))
    if s.failures:
        rows.append(("未通过的检查 / Failed checks", "\n".join(s.failures)))
    if s.reasons:
        rows.append(("原因代码 / Reasons", ", ".join(s.reasons)))
    _rows(pdf, rows, right_gap=seal_w + 2 if seal_w else 0.0)
    if s.seal_image:
        x = pdf.w - pdf.r_margin - seal_w
        pdf.image(io.BytesIO(s.seal_image), x=x, y=top + 1, w=seal_w)
        pdf.set_y(max(pdf.get_y(), top + seal_w + 3))
    if s.changes:
        _sub_title(
            pdf, Words("签名后的修改（允许清单的结论）", "Changes after signing (the allow-list's findings)")
        )
        for change in s.changes:
            _para(pdf, f"• {change}", size=8)
    _sub_title(pdf, Words("证书链", "Certificate chain"))
    if not s.certificates:
        _para(pdf, "证书不可读 / no readable certificate")
    for i, cert in enumerate(s.certificates, start=1):
        _rows(
            pdf,
            [
                (f"{i}. 主体 / Subject", cert.subject),
                ("颁发者 / Issuer", cert.issuer),
                ("有效期 / Validity", f"{cert.not_before} — {cert.not_after}"),
                ("序列号 / Serial", cert.serial),
            ],
            size=8,
        )
    _sub_title(pdf, Words("检查项", "Checks"))
    for mark, name, detail in s.checks:
        sign = {"✓": "[通过 pass]", "✗": "[失败 FAIL]", "!": "[提示 note]"}.get(mark, mark)
        _para(pdf, f"{sign} {name.zh} / {name.en}: {detail}", size=8)
    _sub_title(pdf, Words("盖章页面", "Sealed pages"))
    if not s.seal_places:
        _para(pdf, "不可见签名（页面上无印章） / invisible signature (no seal on any page)")
    else:
        _para(pdf, "；".join(s.seal_places), size=8)
    if s.thumbnails:
        _para(pdf, "红框为印章位置 / the seal is framed in red", size=8)
    _thumbnails(pdf, s)


def _thumbnails(pdf: Any, s: SignatureSection) -> None:
    per_row = 3
    gap = (pdf.epw - per_row * _THUMB_W) / (per_row - 1)
    for start in range(0, len(s.thumbnails), per_row):
        row = s.thumbnails[start : start + per_row]
        height = max(_THUMB_W * t.height_px / t.width_px for t in row)
        if pdf.get_y() + height + 8 > pdf.h - pdf.b_margin:
            pdf.add_page()
        y = pdf.get_y() + 1
        for column, thumb in enumerate(row):
            x = pdf.l_margin + column * (_THUMB_W + gap)
            pdf.image(io.BytesIO(thumb.png), x=x, y=y, w=_THUMB_W)
            pdf.set_xy(x, y + height + 0.5)
            pdf.set_font(FONT, size=8)
            pdf.cell(_THUMB_W, 4, f"第 {thumb.page} 页 / page {thumb.page}", align="C")
        pdf.set_xy(pdf.l_margin, y + height + 6)
    if s.thumbnails_left_out:
        n = s.thumbnails_left_out
        _para(pdf, f"另有 {n} 个盖章页面未显示 / {n} more sealed pages not shown", size=8)


def _heading(pdf: Any, title: Words, zh: float, en: float) -> None:
    pdf.set_font(FONT, size=zh)
    pdf.multi_cell(0, zh * 0.5, title.zh, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=en)
    pdf.multi_cell(0, en * 0.55, title.en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _verdict(pdf: Any, v: Verdict, *, big: bool = False) -> None:
    line, fill = COLOURS.get(v.indication, ((80, 80, 80), (240, 240, 240)))
    pdf.set_draw_color(*line)
    pdf.set_fill_color(*fill)
    pdf.set_line_width(0.6 if big else 0.4)
    code = v.indication + (f" / {v.sub_indication}" if v.sub_indication else "")
    pdf.set_font(FONT, size=15 if big else 11)
    text = f"{v.words.zh} / {v.words.en}  ({code})"
    pdf.multi_cell(
        0, 8 if big else 6, text, border="LTR", fill=True, new_x="LMARGIN", new_y="NEXT", padding=(1, 2)
    )
    pdf.set_font(FONT, size=9)
    explain = f"{v.explanation.zh}\n{v.explanation.en}"
    pdf.multi_cell(
        0,
        4.5,
        explain,
        border="LBR",
        fill=True,
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
        padding=(0, 2, 1, 2),
    )
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(2)


def _section_title(pdf: Any, title: Words) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, size=12)
    pdf.multi_cell(0, 6, visible(f"{title.zh}  {title.en}"), new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(1.5)


def _sub_title(pdf: Any, title: Words) -> None:
    pdf.ln(1)
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, 5, f"{title.zh} / {title.en}", new_x="LMARGIN", new_y="NEXT")


def _rows(pdf: Any, rows: list[tuple[str, str]], *, size: float = 9, right_gap: float = 0.0) -> None:
    """Label and value rows; values wrap (character by character when a word is too long)."""
    from fpdf.enums import WrapMode

    width = pdf.epw - right_gap
    rows = [(label, visible(value, newlines=True)) for label, value in rows]
    pdf.set_font(FONT, size=size)
    line = size * 0.45
    for label, value in rows:
        y = pdf.get_y()
        needed = max(
            len(pdf.multi_cell(_LABEL_W, line, label, dry_run=True, output="LINES")),
            len(
                pdf.multi_cell(
                    width - _LABEL_W, line, value, dry_run=True, output="LINES", wrapmode=WrapMode.CHAR
                )
            ),
        )
        if y + needed * line > pdf.h - pdf.b_margin:
            pdf.add_page()
            y = pdf.get_y()
        pdf.set_text_color(80, 80, 80)
        pdf.multi_cell(_LABEL_W, line, label, align="L", new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(
            width - _LABEL_W, line, value, align="L", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
        )
        pdf.set_y(max(pdf.get_y(), y + needed * line) + 0.8)


def _para(pdf: Any, text: str, *, size: float = 9) -> None:
    from fpdf.enums import WrapMode

    pdf.set_font(FONT, size=size)
    text = visible(text, newlines=True)
    pdf.multi_cell(0, size * 0.45, text, align="L", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.ln(0.6)
