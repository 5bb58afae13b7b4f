"""The unit form (附件3 of the procurement notice) as a typed dataclass, loaded from TOML, YAML or JSON.

Layout (see ``docs/examples/unit.toml``)::

    [unit]      name, code, competent_department, region_code, full_name, address, uscc, nature,
                fund_office, industry, is_research_institute, is_university, is_hospital, postcode, email,
                legal_representative (optional: the name on the legal representative's square seal)
    [filler]    name, phone
    [contacts.contact] / [contacts.handler] / [contacts.principal]
                联系人 / 经办人 / 负责人: name, landline, mobile
    [seals]     legal_rep_imprint, unit_imprint (optional image paths, relative to the form),
                ukey = "reused" or "new"

Every problem is a :class:`~sealkit.errors.FormError` naming the field (``unit.uscc``) and why.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sealkit.errors import FormError
from sealkit.seal import codes

CONTACT_ROLES = {"contact": "联系人", "handler": "经办人", "principal": "负责人"}
UKEY_CHOICES = ("reused", "new")


@dataclass(frozen=True)
class Contact:
    """联系人 / 经办人 / 负责人."""

    name: str
    mobile: str
    landline: str | None = None


@dataclass(frozen=True)
class UnitForm:
    """The unit form (附件3), validated."""

    name: str  # 单位名称
    code: str  # 单位编码
    competent_department: str  # 主管部门
    region_code: str  # 行政区划代码
    full_name: str  # 单位全称
    address: str  # 地址
    uscc: str  # 统一社会信用代码
    nature: str  # 单位性质
    fund_office: str  # 资金管理处室
    industry: str  # 所属行业
    is_research_institute: bool  # 是否科研院所
    is_university: bool  # 是否高校
    is_hospital: bool  # 是否医院
    postcode: str  # 邮编
    email: str  # 电子邮箱
    filler_name: str  # 填表人
    filler_phone: str  # 填表人电话
    contacts: dict[str, Contact]  # contact / handler / principal
    ukey: str  # "reused" or "new"
    legal_representative: str | None = None  # 法定代表人 (name on the square seal)
    legal_rep_imprint: Path | None = None  # 法人方章 image
    unit_imprint: Path | None = None  # 单位章 or 合同章 image

    @property
    def province(self) -> str:
        return codes.PROVINCES[self.region_code[:2]]


def load_form(path: str | os.PathLike[str]) -> UnitForm:
    """Load and validate a unit form (``.toml``, ``.yaml``/``.yml`` or ``.json``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormError(f"unit form {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormError(f"unit form {path} cannot be read: {exc}") from None
    data = _parse(text, path)
    return form_from_dict(data, base=path.parent)


def _parse(text: str, path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise FormError(f"unit form {path}: use a .toml, .yaml or .json file")
    except FormError:
        raise
    except Exception as exc:  # noqa: BLE001 - every parser's own error becomes one line
        raise FormError(f"unit form {path} is not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise FormError(f"unit form {path} must be a mapping of sections")
    return data


class _Reader:
    """Reads fields of one section, naming ``section.field`` in every error."""

    def __init__(self, data: Any, section: str) -> None:
        if not isinstance(data, dict):
            raise FormError(f"{section}: required section is missing or not a table")
        self.data: dict[str, Any] = data
        self.section = section

    def text(self, key: str, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise FormError(f"{self.section}.{key}: required field is missing")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise FormError(f"{self.section}.{key}: must be text")
        return value.strip()

    def req(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise FormError(f"{self.section}.{key}: must be true or false")
        return value

    def check(self, key: str, value: str | None, problem: str | None) -> None:
        if value is not None and problem:
            raise FormError(f"{self.section}.{key}: {value!r} {problem}")


def _pattern_problem(pattern: Any, value: str, what: str) -> str | None:
    return None if pattern.fullmatch(value) else f"is not a valid {what}"


def form_from_dict(data: dict[str, Any], base: Path | None = None) -> UnitForm:
    """Validate an already parsed form; relative image paths are resolved against ``base``."""
    unit = _Reader(data.get("unit"), "unit")
    uscc = unit.req("uscc").upper()
    unit.check("uscc", uscc, codes.uscc_problem(uscc))
    region = unit.req("region_code")
    unit.check("region_code", region, codes.region_problem(region))
    postcode = unit.req("postcode")
    unit.check("postcode", postcode, _pattern_problem(codes.POSTCODE, postcode, "postcode (6 digits)"))
    email = unit.req("email")
    unit.check("email", email, _pattern_problem(codes.EMAIL, email, "e-mail address"))

    filler = _Reader(data.get("filler"), "filler")
    phone = filler.req("phone")
    if not (codes.MOBILE.fullmatch(phone) or codes.LANDLINE.fullmatch(phone)):
        filler.check(
            "phone", phone, "is neither a mobile (1[3-9] and 9 digits) nor a landline (0xx-xxxxxxxx)"
        )

    contacts_data = data.get("contacts")
    if not isinstance(contacts_data, dict):
        raise FormError("contacts: required section is missing (contact, handler, principal)")
    contacts = {role: _contact(contacts_data.get(role), f"contacts.{role}") for role in CONTACT_ROLES}

    seals = _Reader(data.get("seals", {}), "seals")
    ukey = seals.req("ukey")
    if ukey not in UKEY_CHOICES:
        raise FormError(f"seals.ukey: {ukey!r} must be 'reused' or 'new'")
    return UnitForm(
        name=unit.req("name"),
        code=unit.req("code"),
        competent_department=unit.req("competent_department"),
        region_code=region,
        full_name=unit.req("full_name"),
        address=unit.req("address"),
        uscc=uscc,
        nature=unit.req("nature"),
        fund_office=unit.req("fund_office"),
        industry=unit.req("industry"),
        is_research_institute=unit.flag("is_research_institute"),
        is_university=unit.flag("is_university"),
        is_hospital=unit.flag("is_hospital"),
        postcode=postcode,
        email=email,
        filler_name=filler.req("name"),
        filler_phone=phone,
        contacts=contacts,
        ukey=ukey,
        legal_representative=unit.text("legal_representative", required=False),
        legal_rep_imprint=_image(seals, "legal_rep_imprint", base),
        unit_imprint=_image(seals, "unit_imprint", base),
    )


def _contact(data: Any, section: str) -> Contact:
    reader = _Reader(data, section)
    mobile = reader.req("mobile")
    reader.check(
        "mobile", mobile, _pattern_problem(codes.MOBILE, mobile, "mobile number (1[3-9] and 9 digits)")
    )
    landline = reader.text("landline", required=False)
    reader.check(
        "landline", landline, _pattern_problem(codes.LANDLINE, landline or "", "landline (0xx-xxxxxxxx)")
    )
    return Contact(name=reader.req("name"), mobile=mobile, landline=landline)


def _image(reader: _Reader, key: str, base: Path | None) -> Path | None:
    value = reader.text(key, required=False)
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise FormError(f"{reader.section}.{key}: image {path} does not exist")
    return path
