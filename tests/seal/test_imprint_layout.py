"""Seal imprint layouts, measured: glyph boxes never touch each other, the border or the star, for every kind
and every name length 1-30; the rendered ink splits into one group of components per glyph; the serial never
meets the purpose line; short names spread, long names condense; square grids read right to left."""

import io
import math

import pytest
from PIL import Image, ImageDraw

from sealkit.errors import InvalidInput
from sealkit.seal import render_seal
from sealkit.seal.images import KINDS, SEAL_RED, image_size_mm, px
from sealkit.seal.imprint.geometry import Box, Region, box_distance
from sealkit.seal.imprint.layout import (
    GAP,
    MARGIN,
    grid_columns,
    layout_problems,
    layout_seal,
    name_span,
)
from sealkit.seal.imprint.layout import (
    KINDS as LAYOUT_KINDS,
)

LONG = "中国人民解放军联勤保障部队第九六〇医院采购中心山东省济南市示范"
SERIAL = "3701020012345"
USCC = "91350100M000100Y43"
GALLERY_LENGTHS = (2, 3, 4, 6, 7, 10, 12, 17, 23)


def test_geometry_measures_what_it_claims():
    a = Box(0, 0, 2, 2)
    assert box_distance(a, Box(3, 0, 2, 2)) == pytest.approx(1.0)
    assert box_distance(a, Box(1.5, 0, 2, 2)) == 0.0  # overlapping
    assert box_distance(a, Box(0, 1 + math.sqrt(2) + 0.2, 2, 2, 45)) == pytest.approx(0.2, abs=1e-6)
    ellipse = Region("ellipse", 19, 14)
    assert ellipse.clearance((0, 0)) == pytest.approx(14)
    assert ellipse.clearance((19, 0)) == pytest.approx(0, abs=1e-9)
    assert ellipse.clearance((0, -13)) == pytest.approx(1)
    assert ellipse.clearance((20, 0)) < 0


@pytest.mark.parametrize("kind", sorted(LAYOUT_KINDS))
@pytest.mark.parametrize("serial", [None, SERIAL])
def test_no_glyph_touches_another_the_border_or_the_star_for_lengths_1_to_30(kind, serial):
    for n in range(1, 31):
        try:
            layout = layout_seal(kind, LONG[:n], serial=serial, taxpayer=USCC)
        except InvalidInput as exc:
            assert kind == "legal-rep" and not 2 <= n <= 4, (kind, n, exc)  # a person's name: 2 to 4
            continue
        assert layout_problems(layout) == [], (kind, n)
        region = layout.region
        boxes = [g.box for g in layout.glyphs]
        assert min(region.box_clearance(b) for b in boxes) >= MARGIN - 1e-6
        assert all(box_distance(p, q) >= GAP - 1e-6 for i, p in enumerate(boxes) for q in boxes[i + 1 :])
        assert "".join(g.char for g in layout.glyphs if g.role in ("name", "grid")).startswith(LONG[:n])


def test_layout_problems_catches_a_collision():
    layout = layout_seal("contract", "济南示范有限公司", serial=SERIAL)
    moved = list(layout.glyphs)
    first, second = moved[0], moved[1]
    moved[1] = type(second)(second.char, first.box, second.role, second.face)  # put 南 on top of 济
    broken = type(layout)(layout.kind, layout.width, layout.height, layout.shape, layout.border, layout.star,
                          tuple(moved))  # fmt: skip
    assert any("apart" in p for p in layout_problems(broken))


def _span(layout):
    angles = [g.box.angle for g in layout.glyphs if g.role == "name"]
    return max(angles) - min(angles)


def test_short_names_spread_and_long_names_condense():
    short = layout_seal("contract", "ABC公司")
    assert _span(short) > 150  # spread over the upper arc, not bunched at the top (defect 4)
    assert name_span(5, 270) == 200 and name_span(23, 270) == 270
    long = layout_seal("official", LONG[:23])
    glyph = next(g for g in long.glyphs if g.role == "name")
    assert glyph.box.w / glyph.box.h < 0.8  # condensed, not overlapping (defect 3)
    assert _span(long) > 240
    widths = [g.box.w for g in long.glyphs if g.role == "name"]
    assert max(widths) - min(widths) < 1e-9  # evenly sized
    angles = [g.box.angle for g in long.glyphs if g.role == "name"]
    steps = [b - a for a, b in zip(angles, angles[1:], strict=False)]
    assert max(steps) - min(steps) < 0.5  # evenly spaced, read clockwise from the left
    assert all(s > 0 for s in steps)


@pytest.mark.parametrize("n", range(1, 31))
def test_serial_never_meets_the_purpose_line(n):
    layout = layout_seal("contract", LONG[:n], serial=SERIAL)
    serial = [g.box for g in layout.glyphs if g.role == "serial"]
    purpose = [g.box for g in layout.glyphs if g.role == "purpose"]
    assert "".join(g.char for g in layout.glyphs if g.role == "purpose") == "合同专用章"
    assert len(serial) == 13
    assert min(box_distance(s, p) for s in serial for p in purpose) > 1.0  # defect 2
    assert min(s.cy for s in serial) > max(p.cy for p in purpose)  # the serial is below, on the lower arc


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("张明", ["张", "明"]),
        ("张明华", ["张明", "华"]),
        ("张明华印", ["张明", "华印"]),
        ("一二三四五六", ["一二", "三四", "五六"]),
        ("一二三四五六七", ["一二三", "四五", "六七"]),
        ("山东省示范数据财务专用章", ["山东省", "示范数", "据财务", "专用章"]),
    ],
)
def test_square_grid_columns(text, columns):
    assert grid_columns(text) == columns


@pytest.mark.parametrize(("n", "purpose"), [(n, "") for n in range(2, 31)] + [(6, None), (12, None)])
def test_square_glyphs_are_never_streaks(n, purpose):
    """Defect 1: the finance square squashed 11 and 17 characters (6 and 12 with 财务专用章) into streaks."""
    layout = layout_seal("finance", LONG[:n], purpose=purpose)
    aspects = [g.box.w / g.box.h for g in layout.glyphs]
    assert min(aspects) > 0.3 and max(aspects) < 1.6, (n, min(aspects), max(aspects))
    first = layout.glyphs[0].box
    assert first.cx > 0 and first.cy <= 0  # reading starts at the top right


def test_legal_rep_adds_yin():
    assert [g.char for g in layout_seal("legal-rep", "张三").glyphs] == list("张三之印")
    assert [g.char for g in layout_seal("legal-rep", "张明华").glyphs] == list("张明华印")


def test_invoice_oval_carries_the_taxpayer_number():
    layout = layout_seal("invoice", "济南示范有限公司", taxpayer=USCC)
    assert (layout.width, layout.height) == (40, 30)
    assert "".join(g.char for g in layout.glyphs if g.role == "number") == USCC
    assert "".join(g.char for g in layout.glyphs if g.role == "purpose") == "发票专用章"
    with pytest.raises(InvalidInput, match="taxpayer"):
        layout_seal("invoice", "济南示范有限公司")


def test_sizes_follow_practice():
    sizes = {k: layout_seal(k, "济南示范有限公司", taxpayer=USCC) for k in LAYOUT_KINDS if k != "legal-rep"}
    assert {k: (v.width, v.height) for k, v in sizes.items()} == {
        "official": (42, 42), "contract": (40, 40), "finance": (22, 22), "finance-round": (38, 38),
        "invoice": (40, 30), "oval": (45, 30),
    }  # fmt: skip
    assert layout_seal("legal-rep", "张明华").width == 20
    assert layout_seal("contract", "济南示范有限公司", size=(45, 45)).width == 45
    with pytest.raises(InvalidInput, match="38 to 45 mm"):
        layout_seal("contract", "济南示范有限公司", size=(50, 50))


# --- the rendered picture ---


def _components(mask: Image.Image) -> list[list[int]]:
    """4-connected components of the non-zero pixels (flat indices)."""
    w, h = mask.size
    data = bytearray(mask.tobytes())
    out = []
    for start in range(w * h):
        if not data[start]:
            continue
        data[start] = 0
        stack, comp = [start], []
        while stack:
            i = stack.pop()
            comp.append(i)
            x = i % w
            for j in (i - w, i + w, i - 1 if x else -1, i + 1 if x < w - 1 else -1):
                if 0 <= j < w * h and data[j]:
                    data[j] = 0
                    stack.append(j)
        out.append(comp)
    return out


@pytest.mark.parametrize(
    ("kind", "name", "options"),
    [
        ("official", LONG[:23], {}),
        ("contract", "ABC公司", {"serial": SERIAL}),
        ("contract", LONG[:17], {"serial": SERIAL}),
        ("finance", LONG[:12], {}),
        ("invoice", LONG[:10], {"taxpayer": USCC}),
        ("legal-rep", "张明华", {}),
    ],
)
def test_rendered_ink_has_one_component_group_per_glyph(kind, name, options):
    """Every connected patch of ink lies in exactly one glyph box (or is the border or the star): glyphs
    never run into each other or into the ring, and every glyph has ink."""
    image = render_seal(kind, name, **options)
    layout = layout_seal(kind, name, **options)
    scale = 300 / 25.4  # px per mm at half resolution
    alpha = Image.open(io.BytesIO(image.png)).getchannel("A")
    alpha = alpha.resize((alpha.width // 2, alpha.height // 2), Image.Resampling.BOX)
    mask = alpha.point(lambda v: 255 if v > 96 else 0)
    labels = Image.new("L", mask.size, 250)  # the border and all outside it
    draw = ImageDraw.Draw(labels)
    cx, cy = mask.width / 2, mask.height / 2
    w, h = mask.size
    if layout.shape == "square":
        inset = layout.border * scale + 1.5
        draw.rectangle((inset, inset, w - 1 - inset, h - 1 - inset), fill=0)
    else:
        inset = layout.border * scale + 1.5
        draw.ellipse((inset, inset, w - 1 - inset, h - 1 - inset), fill=0)
    if layout.star:
        r = layout.star.radius * scale + 1.5
        sx, sy = cx + layout.star.cx * scale, cy + layout.star.cy * scale
        draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=251)
    for index, glyph in enumerate(layout.glyphs):
        grown = Box(glyph.box.cx, glyph.box.cy, glyph.box.w + 0.12, glyph.box.h + 0.12, glyph.box.angle)
        draw.polygon([(cx + x * scale, cy + y * scale) for x, y in grown.corners()], fill=index + 1)
    label_bytes = labels.tobytes()
    inked = set()
    for comp in _components(mask):
        found = {label_bytes[i] for i in comp}
        where = [(i % w, i // w) for i in comp if label_bytes[i] == 0][:5]
        assert len(found) == 1 and 0 not in found, f"a patch of ink spans {sorted(found)} at {where}"
        inked |= found
    assert inked >= set(range(1, len(layout.glyphs) + 1))  # every glyph has ink of its own
    assert 250 in inked


def test_rendering_is_deterministic_and_sized_in_mm():
    a = render_seal("invoice", "济南示范有限公司", taxpayer=USCC, serial=SERIAL, ink_texture=True)
    b = render_seal("invoice", "济南示范有限公司", taxpayer=USCC, serial=SERIAL, ink_texture=True)
    assert a.png == b.png
    assert image_size_mm(a.png) == pytest.approx((40, 30), abs=0.05)
    assert a.png != render_seal("invoice", "济南示范有限公司", taxpayer=USCC, serial=SERIAL).png
    image = Image.open(io.BytesIO(render_seal("oval", "济南示范有限公司", purpose="业务专用章").png))
    assert image.size == (px(45), px(30))


def test_ink_colours():
    blue = Image.open(io.BytesIO(render_seal("legal-rep", "张明华", ink="blue").png))
    red = Image.open(io.BytesIO(render_seal("legal-rep", "张明华", ink="#E60012").png))
    assert red.getpixel((2, 2))[:3] == SEAL_RED
    assert blue.getpixel((2, 2))[:3] != SEAL_RED
    with pytest.raises(InvalidInput, match="#RRGGBB"):
        render_seal("legal-rep", "张明华", ink="reddish")


def test_every_public_kind_renders():
    for kind in KINDS:
        name = "张明华" if kind == "legal-rep" else "济南示范有限公司"
        seal = render_seal(kind, name, taxpayer=USCC if kind == "invoice" else None)
        assert image_size_mm(seal.png) == pytest.approx((seal.width_mm, seal.height_mm), abs=0.05)


def test_cli_image_flags(tmp_path, capsys):
    import json

    from sealkit_cli.main import run

    out = tmp_path / "invoice.png"
    args = ["seal", "image", "--kind", "invoice", "--name", "济南示范有限公司", "--taxpayer", USCC]
    code = run([*args, "--ink", "blue", "--ink-texture", "--size", "40x30", "-o", str(out), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["height_mm"] == 30
    assert image_size_mm(out.read_bytes()) == pytest.approx((40, 30), abs=0.05)
    code = run(
        ["seal", "image", "--kind", "contract", "--name", "济南示范有限公司", "--size", "50", "-o", str(out)]
    )
    err = capsys.readouterr().err
    assert code != 0 and "38 to 45 mm" in err and "Traceback" not in err
    code = run(
        ["seal", "image", "--kind", "oval", "--name", "x", "--size", "big", "-o", str(tmp_path / "o.png")]
    )
    assert code != 0 and "45x30" in capsys.readouterr().err and not (tmp_path / "o.png").exists()
