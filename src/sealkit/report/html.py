"""The report as one self-contained HTML page (images inline as data: URIs, no script, no external link).

Every piece of text comes from the verified file or its certificates, which an attacker writes: all of it
goes through :func:`html.escape` (quotes included) and nothing is ever placed in an attribute unescaped, so a
certificate named ``<script>`` prints as text. The page declares a Content-Security-Policy that forbids
scripts anyway. An HTML report is not signed; the PDF report is the one to file as evidence.
"""

from __future__ import annotations

import base64
from html import escape

from sealkit.report.model import ReportDocument, SignatureSection, Verdict
from sealkit.report.words import Words, visible

_STYLE = """
body{font-family:"Noto Serif CJK SC","AR PL UMing CN","SimSun",serif;max-width:960px;margin:2em auto;
color:#111;line-height:1.45;padding:0 1em}
h1{font-size:1.5em;border-bottom:2px solid #333;padding-bottom:.3em}
h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top;word-break:break-all}
th{background:#f2f2f2;width:12em;font-weight:normal}
.verdict{padding:.7em 1em;font-size:1.2em;border:2px solid}
.TOTAL-PASSED{border-color:#1a7f37;background:#e6f4ea}
.TOTAL-FAILED{border-color:#b00020;background:#fde7e9}
.INDETERMINATE{border-color:#b58100;background:#fff5d6}
.mono{font-family:monospace}
.thumbs img{width:200px;margin:.3em;border:1px solid #999}
.seal img{max-width:120px;max-height:120px}
"""


def render_html(document: ReportDocument) -> bytes:
    """The HTML page of ``document`` as UTF-8 bytes."""
    d = document
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">",
        f"<title>{_t(d.title.zh)} — {_t(d.file_name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_t(d.title.zh)}<br><small>{_t(d.title.en)}</small></h1>",
        _verdict_block(d.verdict, big=True),
        "<h2>文件 / File</h2>",
        _table(
            [
                ("文件名 / File name", _t(d.file_name)),
                ("格式 / Format", _t(d.file_format)),
                ("大小 / Size", f"{d.size:,} bytes"),
                ("SHA-256", f'<span class="mono">{_t(d.sha256)}</span>'),
                ("SM3", f'<span class="mono">{_t(d.sm3)}</span>'),
                ("验证时间 / Verified at", _t(d.verified_at)),
                ("验证程序 / Verifier", _t(d.generator)),
            ]
        ),
    ]
    if d.notes:
        parts.append("<ul>" + "".join(f"<li>{_both(n)}</li>" for n in d.notes) + "</ul>")
    if d.unsigned_fields:
        names = "、".join(_t(f) for f in d.unsigned_fields)
        parts.append(f"<p>未签名的签名域 / Unsigned signature fields: {names}</p>")
    for number, section in enumerate(d.signatures, start=1):
        parts.append(_signature(number, section))
    if not d.signatures:
        parts.append("<p>文件中没有签名 / The file carries no signature.</p>")
    parts.append(
        "<p><small>本 HTML 报告未签名；可作为证据归档的是签名的 PDF 报告。 / This HTML report is not signed; "
        "the signed PDF report is the one to file as evidence.</small></p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


def _signature(number: int, s: SignatureSection) -> str:
    rows = [
        ("签名域 / Field", _t(s.field)),
        ("签名者 / Signer", _t(s.signer)),
        ("单位 / Unit", _t(s.unit or "—")),
        ("统一社会信用代码 / USCC", _t(s.uscc or "—")),
        ("算法 / Algorithm", _t(s.algorithm or "—")),
        ("签名时间 / Signing time", _t(s.signing_time or "—") + "<br>" + _both(s.time_proof)),
    ]
    if s.tsa:
        rows.append(("时间戳机构 / TSA", _t(s.tsa)))
    if s.seal_name or s.seal_id or s.seal_image:
        image = f'<div class="seal">{_img(s.seal_image, "seal")}</div>' if s.seal_image else ""
        rows.append(("电子印章 / Seal", f"{image}{_t(s.seal_name or '—')} ({_t(s.seal_id or '?')})"))
    if s.seal_detail:
        rows.append(("印章检查 / Seal check", _t(s.seal_detail)))
    rows.append(("覆盖范围 / Coverage", _both(s.coverage)))
    rows.append(("签名后修改 / Changes", _both(s.modification) + _list(s.changes)))
    if s.failures:
        rows.append(("未通过的检查 / Failed checks", "<br>".join(_t(f) for f in s.failures)))
    if s.reasons:
        rows.append(("原因代码 / Reasons", _t(", ".join(s.reasons))))
    chain = "".join(
        f"<tr><td>{i}</td><td>{_t(c.subject)}</td><td>{_t(c.issuer)}</td>"
        f"<td>{_t(c.not_before)}<br>{_t(c.not_after)}</td><td class=mono>{_t(c.serial)}</td></tr>"
        for i, c in enumerate(s.certificates, start=1)
    )
    checks = "".join(
        f"<tr><td>{_t(mark)}</td><td>{_both(name)}</td><td>{_t(detail)}</td></tr>"
        for mark, name, detail in s.checks
    )
    thumbs = "".join(
        f'<figure style="display:inline-block">{_img(t.png, f"page {t.page}")}'
        f"<figcaption>第 {t.page} 页 / page {t.page}</figcaption></figure>"
        for t in s.thumbnails
    )
    if s.thumbnails_left_out:
        thumbs += (
            f"<p>另有 {s.thumbnails_left_out} 页未显示 / {s.thumbnails_left_out} more pages not shown</p>"
        )
    places = _list(s.seal_places) if s.seal_places else "<p>不可见签名 / invisible signature</p>"
    return "\n".join(
        [
            f"<h2>签名 {number} / Signature {number}: {_t(s.field)}</h2>",
            _verdict_block(s.verdict),
            _table(rows),
            "<h3>证书链 / Certificate chain</h3>",
            "<table><tr><th>#</th><th>主体 / Subject</th><th>颁发者 / Issuer</th>"
            "<th>有效期 / Validity</th><th>序列号 / Serial</th></tr>" + chain + "</table>"
            if chain
            else "<p>证书不可读 / no readable certificate</p>",
            "<h3>检查项 / Checks</h3>",
            "<table>" + checks + "</table>",
            "<h3>盖章页面 / Sealed pages</h3>",
            places,
            f'<div class="thumbs">{thumbs}</div>',
        ]
    )


def _verdict_block(v: Verdict, *, big: bool = False) -> str:
    code = _t(v.indication + (f" / {v.sub_indication}" if v.sub_indication else ""))
    tag = "strong" if big else "span"
    return (
        f'<div class="verdict {_t(v.indication)}"><{tag}>{_t(v.words.zh)} / {_t(v.words.en)}</{tag}> '
        f"<small>({code})</small><br>{_both(v.explanation, '<br>')}</div>"
    )


def _table(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{_t(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_t(i)}</li>" for i in items) + "</ul>" if items else ""


def _both(w: Words, sep: str = " / ") -> str:
    return f"{_t(w.zh)}{sep}{_t(w.en)}"


def _img(png: bytes | None, alt: str) -> str:
    data = base64.b64encode(png or b"").decode("ascii")
    return f'<img alt="{_t(alt)}" src="data:image/png;base64,{data}">'


def _t(text: str) -> str:
    return escape(visible(text), quote=True)
