"""Chinese identifier checks: the unified social credit code (GB 32100-2015) and administrative division
codes (GB/T 2260, province level), plus the phone, postcode and e-mail formats of the unit form."""

from __future__ import annotations

import re

from sealkit.errors import InvalidInput

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: The 34 province-level divisions (GB/T 2260): code prefix -> name.
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")
POSTCODE = re.compile(r"\d{6}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character of a unified social credit code whose first 17 characters are given."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None."""
    if len(code) != 18:
        return f"must have 18 characters, has {len(code)}"
    bad = sorted({c for c in code if c not in USCC_CHARSET})
    if bad:
        return (
            f"contains characters outside GB 32100-2015's set ({''.join(bad)}; I, O, Z, S, V are never used)"
        )
    if not code[2:8].isdigit():
        return "characters 3-8 must be the administrative division code (6 digits)"
    region = region_problem(code[2:8])
    if region:
        return f"characters 3-8: {region}"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]}, GB 32100-2015 gives {expected}"
    return None


def require_uscc(code: str, what: str) -> str:
    """``code`` (stripped, upper case) if it passes GB 32100-2015; else :class:`InvalidInput` naming
    ``what``."""
    value = (code or "").strip().upper()
    problem = uscc_problem(value)
    if problem:
        raise InvalidInput(f"{what} {code!r} is not a unified social credit code: {problem}")
    return value


def region_problem(code: str) -> str | None:
    """Why ``code`` is not an administrative division code, or None."""
    if not re.fullmatch(r"\d{6}", code):
        return "must be 6 digits"
    if code[:2] not in PROVINCES:
        return f"province prefix {code[:2]} is not one of the 34 province-level divisions"
    return None
