"""The unit form (附件3) with its precise errors, and seal images checked by pixel statistics."""

import copy
import io
import json
import math
import tomllib

import pytest
import yaml
from PIL import Image, ImageDraw

from sealkit.errors import ConfigError, FormError, InvalidInput
from sealkit.seal import form_from_dict, image_size_mm, imprint_from_scan, load_form, render_seal
from sealkit.seal.codes import uscc_check_char, uscc_problem
from sealkit.seal.images import SEAL_RED, px

from .conftest import EXAMPLE_FORM

BASE = tomllib.loads(EXAMPLE_FORM.read_text(encoding="utf-8"))


def with_change(section, key, value):
    data = copy.deepcopy(BASE)
    target = data
    for part in section.split("."):
        target = target[part]
    if value is None:
        del target[key]
    else:
        target[key] = value
    return data


def test_example_form_loads():
    form = load_form(EXAMPLE_FORM)
    assert form.uscc == "12370102MB00000014" and form.province == "山东省"
    assert form.contacts["principal"].name == "张明华" and form.contacts["principal"].landline is None
    assert form.is_research_institute and form.ukey == "new"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_yaml_and_json_forms(tmp_path, suffix):
    path = tmp_path / f"unit{suffix}"
    text = (
        yaml.safe_dump(BASE, allow_unicode=True)
        if suffix == ".yaml"
        else json.dumps(BASE, ensure_ascii=False)
    )
    path.write_text(text, encoding="utf-8")
    assert load_form(path) == load_form(EXAMPLE_FORM)


def test_uscc_check_character_known_code():
    assert uscc_problem("91350100M000100Y43") is None  # a published code
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("unit", "uscc", "12370102MB00000015", "check character is 5, GB 32100-2015 gives 4"),
        ("unit", "uscc", "12370102MB0000001", "must have 18 characters"),
        ("unit", "uscc", "12370102MI00000014", "outside GB 32100-2015's set (I"),
        ("unit", "uscc", "12990102MB00000014", "province prefix 99"),
        ("unit", "region_code", "990102", "province prefix 99"),
        ("unit", "region_code", "37010", "must be 6 digits"),
        ("unit", "postcode", "25000", "postcode"),
        ("unit", "email", "office@", "e-mail"),
        ("unit", "name", None, "unit.name: required field is missing"),
        ("unit", "is_hospital", "no", "unit.is_hospital: must be true or false"),
        ("filler", "phone", "12345", "filler.phone"),
        ("contacts.handler", "mobile", "12900000001", "contacts.handler.mobile"),
        ("contacts.contact", "landline", "531-888", "contacts.contact.landline"),
        ("seals", "ukey", "maybe", "seals.ukey"),
        ("seals", "unit_imprint", "missing.png", "seals.unit_imprint: image"),
    ],
)
def test_form_errors_name_the_field(section, key, value, message):
    with pytest.raises(FormError) as info:
        form_from_dict(with_change(section, key, value))
    assert message in info.value.message


def test_missing_section_and_bad_file(tmp_path):
    data = copy.deepcopy(BASE)
    del data["contacts"]["principal"]
    with pytest.raises(FormError, match="contacts.principal"):
        form_from_dict(data)
    bad = tmp_path / "unit.toml"
    bad.write_text("[unit\nname=", encoding="utf-8")
    with pytest.raises(FormError, match="not valid TOML"):
        load_form(bad)
    with pytest.raises(FormError, match="does not exist"):
        load_form(tmp_path / "absent.toml")


# --- images ---


def _image(png):
    return Image.open(io.BytesIO(png))


def _alpha(png):
    return _image(png).getchannel("A")


@pytest.mark.parametrize(
    ("kind", "name", "shape", "size_mm"),
    [
        ("official", "山东省示范数据研究院", None, 42),
        ("contract", "济南示范有限公司", None, 40),
        ("legal-rep", "张明华", None, 20),
        ("finance", "山东省示范数据研究院", None, 22),
        ("finance", "山东省示范数据研究院", "round", 38),
    ],
)
def test_rendered_seal_size_colour_and_transparency(kind, name, shape, size_mm):
    seal = render_seal(kind, name, shape=shape)
    image = _image(seal.png)
    assert image.mode == "RGBA" and image.size == (px(size_mm), px(size_mm))
    assert round(image.info["dpi"][0]) == 600
    assert image_size_mm(seal.png) == pytest.approx((size_mm, size_mm), abs=0.05)
    alpha = image.getchannel("A")
    assert alpha.getbbox() == (0, 0, image.width, image.height)  # ink reaches the edges: bbox = size in mm
    raw = image.tobytes()
    inked = [raw[i : i + 3] for i in range(0, len(raw), 4) if raw[i + 3] > 0]
    assert set(inked) == {bytes(SEAL_RED)}  # pure seal red, nothing else
    ratio = len(inked) / (image.width * image.height)
    assert 0.08 < ratio < 0.5
    round_seal = kind in ("official", "contract") or shape == "round"
    corner = alpha.crop((0, 0, px(size_mm) // 8, px(size_mm) // 8))
    assert (corner.getbbox() is None) == round_seal  # outside the circle is transparent


def test_round_seal_ring_and_symmetric_star():
    seal = render_seal("official", "山东省示范数据研究院")
    alpha = _alpha(seal.png)
    w = alpha.width
    r = w / 2
    ring = [
        alpha.getpixel(
            (
                round(r + (r - px(0.6)) * math.cos(t / 36 * math.pi)),
                round(r + (r - px(0.6)) * math.sin(t / 36 * math.pi)),
            )
        )
        for t in range(72)
    ]
    assert min(ring) == 255  # a closed ring 0.6 mm inside the edge
    star = alpha.crop((round(r - px(7)), round(r - px(7)), round(r + px(7)), round(r + px(7))))
    mirrored = star.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    differing = sum(1 for a, b in zip(star.tobytes(), mirrored.tobytes(), strict=True) if abs(a - b) > 64)
    assert differing / (star.width * star.height) < 0.01  # the star is left-right symmetric
    assert star.getpixel((star.width // 2, star.height // 2)) == 255  # filled centre
    assert sum(1 for v in star.tobytes() if v > 128) / (star.width * star.height) > 0.2


def test_rendering_is_deterministic_and_depends_on_the_text():
    a = render_seal("contract", "济南示范有限公司").png
    assert a == render_seal("contract", "济南示范有限公司").png
    assert a != render_seal("contract", "青岛示范有限公司").png


def test_bad_inputs_and_font(tmp_path):
    with pytest.raises(InvalidInput, match="2 to 4"):
        render_seal("legal-rep", "张")
    with pytest.raises(InvalidInput, match="unknown seal kind"):
        render_seal("hexagon", "x")
    with pytest.raises(ConfigError, match="does not exist"):
        render_seal("official", "单位", font=str(tmp_path / "none.ttc"))


def test_imprint_from_scan(tmp_path):
    scan = Image.new("RGB", (800, 600), (250, 250, 248))  # off-white paper
    draw = ImageDraw.Draw(scan)
    draw.ellipse((200, 100, 600, 500), outline=(200, 30, 40), width=20)
    buffer = io.BytesIO()
    scan.save(buffer, format="JPEG", quality=95)
    original = buffer.getvalue()
    cleaned = imprint_from_scan(original, 40)
    image = _image(cleaned.png)
    assert image.size == (px(40), px(40))  # cropped to the circle, scaled to 40 mm
    alpha = image.getchannel("A")
    assert alpha.getpixel((image.width // 2, image.height // 2)) == 0  # paper became transparent
    assert alpha.getpixel((5, image.height // 2)) > 200  # the ring is ink
    assert buffer.getvalue() == original
    with pytest.raises(InvalidInput, match="blank"):
        blank = io.BytesIO()
        Image.new("RGB", (50, 50), "white").save(blank, format="PNG")
        imprint_from_scan(blank.getvalue(), 40)
    with pytest.raises(InvalidInput, match="not a readable image"):
        imprint_from_scan(b"not an image", 40)
