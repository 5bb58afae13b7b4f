"""Write realistic sample 政府采购合同 (government procurement contracts) for tests, fixtures and the demo.

The contract has the parts a real one has: number and project, the two parties, a goods table, the total in
figures and in capital numerals (大写), numbered terms, and on the last page the signature blocks
"采购人（甲方）（盖章）：" and "供应商（乙方）（盖章）：" where seals are placed by keyword. Text is embedded
with the project's CJK font (:func:`sealkit.fonts.cjk_font_path`) through fpdf2, so pdftotext, pypdf and
sealkit's keyword placement all find the Chinese text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sealkit.atomic import atomic_output
from sealkit.errors import InvalidInput

PURCHASER = "某市公共资源交易中心"
SUPPLIER = "某某信息技术有限公司"

PURCHASER_BLOCK = "采购人（甲方）（盖章）："
SUPPLIER_BLOCK = "供应商（乙方）（盖章）："

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


@dataclass(frozen=True)
class GoodsLine:
    """One row of the goods table."""

    name: str
    spec: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


DEFAULT_GOODS = (
    GoodsLine("台式计算机", "国产CPU 8核/16GB/512GB SSD", 40, Decimal("5860.00")),
    GoodsLine("激光打印机", "A4 黑白 双面 网络", 10, Decimal("2350.00")),
    GoodsLine("UKey 数字证书介质", "SM2/SM3/SM4 国密", 60, Decimal("128.50")),
    GoodsLine("电子签章系统软件", "GB/T 38540 兼容 永久授权", 1, Decimal("86000.00")),
)

_TERMS = (
    (
        "合同标的",
        "乙方按本合同附件所列品目、规格和数量向甲方提供货物及相关服务，货物应为全新、未使用过的合格产品。",
    ),
    (
        "合同价款",
        "本合同总价款已包含货物、包装、运输、保险、安装、调试、培训及税费等一切费用，合同履行期间不作调整。",
    ),
    ("交付", "乙方应在合同签订之日起三十日内将货物送达甲方指定地点，并负责卸货、安装和调试。"),
    (
        "验收",
        "甲方在货物安装调试完毕后十个工作日内组织验收，验收合格后签署验收报告；验收不合格的，乙方应在七日内更换。",
    ),
    (
        "付款方式",
        "验收合格且甲方收到乙方合法有效发票后十五个工作日内，甲方支付合同总价款的百分之九十五，其余百分之五作为质量保证金。",
    ),
    (
        "质量保证",
        "货物质量保证期为验收合格之日起三年。质保期内出现质量问题的，乙方应在接到通知后二十四小时内响应，四十八小时内修复。",
    ),
    ("知识产权", "乙方保证甲方在使用货物或其任何部分时不受第三方提出侵犯专利权、商标权或著作权的指控。"),
    (
        "保密",
        "双方对在履行本合同过程中知悉的对方商业秘密和政府工作信息负有保密义务，该义务在合同终止后继续有效。",
    ),
    (
        "违约责任",
        "乙方逾期交货的，每逾期一日按合同总价款的千分之三向甲方支付违约金；甲方逾期付款的，按同样标准承担违约责任。",
    ),
    (
        "不可抗力",
        "因不可抗力不能履行合同的，受影响一方应及时通知对方，并在十五日内提供证明，双方协商延期履行或解除合同。",
    ),
    ("争议解决", "因本合同引起的争议，双方应协商解决；协商不成的，提交甲方所在地人民法院诉讼解决。"),
    (
        "合同生效",
        "本合同自双方加盖电子签章之日起生效。本合同以电子文件形式签署，电子签章与手写签名或盖章具有同等法律效力。",
    ),
    (
        "合同文件",
        "招标文件、投标文件、中标通知书及本合同附件均为本合同不可分割的组成部分，与本合同具有同等法律效力。",
    ),
    ("其他", "本合同未尽事宜，依照《中华人民共和国政府采购法》《中华人民共和国民法典》及相关规定执行。"),
)


def rmb_upper(amount: Decimal | int | str) -> str:
    """An amount in yuan in capital numerals (大写): ``Decimal("1005.20")`` → 壹仟零伍元贰角整."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise InvalidInput("amount must not be negative")
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = _integer_upper(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text


def _integer_upper(number: int) -> str:
    groups: list[int] = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    text, need_zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(text)
            continue
        if need_zero or (text and group < 1000):
            text += "零"
        text += _group_upper(group) + _BIG_UNITS[index]
        need_zero = False
    return text


def _group_upper(group: int) -> str:
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def write_sample_contract(
    path: str | os.PathLike[str],
    *,
    pages: int = 3,
    purchaser: str = PURCHASER,
    supplier: str = SUPPLIER,
    contract_no: str | None = None,
    goods: tuple[GoodsLine, ...] = DEFAULT_GOODS,
    date: dt.date | None = None,
) -> Path:
    """Write a ``pages``-page 政府采购合同 of ``purchaser`` (甲方) and ``supplier`` (乙方) to ``path``."""
    if pages < 1:
        raise InvalidInput("a contract has at least one page")
    from fpdf import FPDF

    from sealkit.fonts import cjk_font_path

    date = date or dt.date.today()
    serial = int(hashlib.sha256(f"{purchaser}|{supplier}".encode()).hexdigest()[:8], 16) % 100000
    contract_no = contract_no or f"ZFCG-{date:%Y}-{serial:05d}"
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    pdf.add_font("uming", fname=str(cjk_font_path()))
    pdf.set_creator("sealkit sample contract")
    pdf.set_title(f"政府采购合同 {contract_no}")
    pdf.set_creation_date(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC))

    def page_footer() -> None:
        pdf.set_font("uming", size=9)
        pdf.set_xy(20, 282)
        pdf.cell(170, 5, f"合同编号：{contract_no}    第 {pdf.page_no()} 页 共 {pages} 页", align="C")

    pdf.add_page()
    _first_page(pdf, contract_no, purchaser, supplier, goods, date)
    terms = list(enumerate(_TERMS, start=1))
    middle = max(pages - 2, 0)
    per_page = -(-len(terms) // (middle + 1)) if pages > 1 else len(terms)
    chunks = [terms[i : i + per_page] for i in range(0, len(terms), per_page)] or [[]]
    # pages 2..N-1 carry the terms; the last page carries what is left and the signature blocks.
    while len(chunks) < middle + 1:
        chunks.append([])
    for chunk in chunks:
        if pages > 1:
            page_footer()
            pdf.add_page()
        _terms(pdf, chunk, compact=pages == 1)
    _signature_blocks(pdf, purchaser, supplier, date)
    page_footer()
    target = Path(path)
    with atomic_output(target) as handle:
        handle.write(bytes(pdf.output()))
    return target


def _first_page(pdf, contract_no, purchaser, supplier, goods, date) -> None:  # type: ignore[no-untyped-def]
    pdf.set_font("uming", size=20)
    pdf.cell(170, 12, "政府采购合同", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("uming", size=10.5)
    pdf.cell(
        170,
        7,
        f"合同编号：{contract_no}        签订日期：{date:%Y年%m月%d日}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    for line in (
        f"采购人（甲方）：{purchaser}",
        "地址：某市某区政务服务中心大楼八层        联系人：王某某  电话：010-6688XXXX",
        f"供应商（乙方）：{supplier}",
        "统一社会信用代码：91110108MA01XXXXXX    地址：某市高新技术产业开发区软件园二期",
        "采购项目：2024年度办公设备及电子签章系统采购项目    采购方式：公开招标",
    ):
        pdf.multi_cell(170, 6.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(
        170,
        6.5,
        "根据《中华人民共和国政府采购法》及该项目招标结果，经甲乙双方协商一致，签订本合同。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font("uming", size=12)
    pdf.cell(170, 8, "一、货物清单", new_x="LMARGIN", new_y="NEXT")
    from fpdf.fonts import FontFace

    pdf.set_font("uming", size=9.5)
    total = sum((line.amount for line in goods), Decimal(0))
    with pdf.table(
        col_widths=(11, 30, 49, 14, 28, 38),
        text_align=("CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=7,
        headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235)),
    ) as table:
        table.row(("序号", "品目名称", "规格型号", "数量", "单价（元）", "金额（元）"))
        for number, line in enumerate(goods, start=1):
            table.row(
                (
                    str(number),
                    line.name,
                    line.spec,
                    str(line.quantity),
                    f"{line.unit_price:,.2f}",
                    f"{line.amount:,.2f}",
                )
            )
        table.row(("", "合计", "", "", "", f"{total:,.2f}"))
    pdf.ln(3)
    pdf.set_font("uming", size=10.5)
    pdf.multi_cell(
        170, 6.5, f"合同总价款：人民币{rmb_upper(total)}（¥{total:,.2f}）。", new_x="LMARGIN", new_y="NEXT"
    )


def _terms(pdf, chunk, *, compact: bool) -> None:  # type: ignore[no-untyped-def]
    size = 9 if compact else 10.5
    for number, (title, text) in chunk:
        pdf.set_font("uming", size=size + 1)
        pdf.cell(170, size * 0.75, f"第{_ordinal(number)}条  {title}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("uming", size=size)
        pdf.multi_cell(170, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5 if compact else 3)


def _ordinal(number: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (numbers below 100, as in 第十二条)."""
    digits = "零一二三四五六七八九"
    tens, units = divmod(number, 10)
    text = ("" if tens == 1 else digits[tens]) + "十" if tens else ""
    return text + (digits[units] if units or not tens else "")


def _signature_blocks(pdf, purchaser, supplier, date) -> None:  # type: ignore[no-untyped-def]
    pdf.set_font("uming", size=11)
    top = max(pdf.get_y() + 6, 200.0)
    for column, (block, name) in enumerate(((PURCHASER_BLOCK, purchaser), (SUPPLIER_BLOCK, supplier))):
        x = 20 + column * 88
        pdf.set_xy(x, top)
        pdf.cell(82, 8, block)
        pdf.set_xy(x, top + 9)
        pdf.cell(82, 7, name)
        pdf.set_xy(x, top + 40)
        pdf.cell(82, 7, "法定代表人或授权代表（签字）：")
        pdf.set_xy(x, top + 50)
        pdf.cell(82, 7, f"日期：{date:%Y年%m月%d日}")


def blank_pdf() -> bytes:
    """A small one-page PDF (fast to sign and to hash)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Government procurement contract - test copy")
    return bytes(pdf.output())
