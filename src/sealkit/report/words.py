"""The verification result in plain words, in Chinese and English, for people who read the report.

One table per thing the report explains: the indication (验证通过 / Verification passed …), each ETSI EN
319 102-1 sub-indication, the document-level reasons, the coverage and modification classes and the names
of the checks. Everything is a :class:`Words` pair so that the HTML and the PDF print the same sentences.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    """One statement in Chinese and in English."""

    zh: str
    en: str

    def both(self, sep: str = " / ") -> str:
        return f"{self.zh}{sep}{self.en}"


INDICATIONS: dict[str, Words] = {
    "TOTAL-PASSED": Words("验证通过", "Verification passed"),
    "TOTAL-FAILED": Words("验证失败", "Verification failed"),
    "INDETERMINATE": Words("不确定", "Indeterminate"),
}

#: What a sub-indication means, in a sentence a clerk can repeat.
SUB_INDICATIONS: dict[str, Words] = {
    "FORMAT_FAILURE": Words(
        "签名的格式或其覆盖的字节范围不符合要求，签名无法确认所签内容。",
        "The signature's format, or the bytes it covers, is not acceptable: it cannot vouch for the content.",
    ),
    "HASH_FAILURE": Words(
        "文件在签名后被修改（或摘要不符），所签内容与现有内容不一致。",
        "The document was changed after signing (or its digest does not match): what was signed is not "
        "what is there now.",
    ),
    "SIG_CRYPTO_FAILURE": Words(
        "签名值（或签名中的电子印章）未通过密码学验证。",
        "The signature value (or the electronic seal in the signature) does not verify.",
    ),
    "EXPIRED": Words(
        "签名者证书在签名时已过期。", "The signer's certificate had expired when the document was signed."
    ),
    "NOT_YET_VALID": Words(
        "签名者证书在签名时尚未生效。",
        "The signer's certificate was not yet valid when the document was signed.",
    ),
    "REVOKED": Words(
        "签名者证书在签名前已被吊销。", "The signer's certificate was revoked before the document was signed."
    ),
    "NO_CERTIFICATE_CHAIN_FOUND": Words(
        "签名者证书无法链接到受信任的根证书，无法确认签名者身份。",
        "The signer's certificate does not chain to a trusted root: the signer's identity is not confirmed.",
    ),
    "REVOKED_NO_POE": Words(
        "签名者证书已被吊销，且没有时间戳证明签名发生在吊销之前。",
        "The signer's certificate is revoked and no timestamp proves the signature was made before that.",
    ),
    "OUT_OF_BOUNDS_NO_POE": Words(
        "证书（或印章）已不在有效期内，且没有时间戳证明签名发生在有效期内。",
        "The certificate (or seal) is outside its validity period and no timestamp proves the signature was "
        "made within it.",
    ),
    "SIG_CONSTRAINTS_FAILURE": Words(
        "签名不符合对其的要求：所显示的印章图像不是签名中电子印章的图像，"
        "或签名域要求加盖（指定单位的）电子印章而签名未加盖。",
        "The signature does not meet what is required of it: the seal picture shown is not the picture of "
        "the electronic seal in the signature, or the field requires a (given unit's) electronic seal that "
        "the signature does not carry.",
    ),
    "CRYPTO_CONSTRAINTS_FAILURE": Words(
        "所用算法或密钥长度已不被认为安全。", "The algorithm or key size used is no longer considered secure."
    ),
    "CHAIN_CONSTRAINTS_FAILURE": Words(
        "证书链不满足约束条件（用途、策略或名称限制）。",
        "The certificate chain does not meet its constraints (key usage, policy or name constraints).",
    ),
    "TRY_LATER": Words(
        "暂时无法获取吊销状态，请稍后重新验证。",
        "The revocation status could not be obtained now: verify again later.",
    ),
}

SIGNATURE_PASSED = Words(
    "该签名完整、有效，签名者证书链接到受信任的根证书，签名后的修改均在允许范围内。",
    "This signature is intact and valid, its signer chains to a trusted root, and every change after it "
    "is one that is allowed.",
)
NO_SUB_INDICATION = Words("未能得出确定结论。", "No definite conclusion could be reached.")
PASSED_EXPLAINED = Words(
    "所有签名均完整、有效，签名者证书链接到受信任的根证书，签名后的修改均在允许范围内。",
    "Every signature is intact and valid, its signer chains to a trusted root, and every change after "
    "signing is one that is allowed.",
)

DOCUMENT_REASONS: dict[str, Words] = {
    "document.no-signatures": Words("文件中没有任何签名。", "The file carries no signature."),
    "modification.unaccounted-bytes": Words(
        "最后一个版本之后附加了无法解释的字节。", "Bytes were appended after the last revision."
    ),
    "format.unreadable-pdf": Words("文件无法作为 PDF 读取。", "The file cannot be read as a PDF."),
    "format.too-many-fields": Words("表单字段过多，无法验证。", "The form has too many fields to verify."),
}

COVERAGE: dict[str, Words] = {
    "entire-file": Words("覆盖整个文件", "covers the entire file"),
    "entire-revision": Words(
        "覆盖签名时的完整版本（其后有增量更新）", "covers the whole revision it signed (later updates follow)"
    ),
    "partial": Words("仅覆盖部分内容", "covers only part of the file"),
    "unclear": Words("覆盖范围不明", "coverage unclear"),
}

MODIFICATIONS: dict[str, Words] = {
    "none": Words("签名后未作任何修改", "no change after signing"),
    "lta-updates": Words(
        "签名后仅添加了长期验证数据或文档时间戳",
        "only long-term validation data or document timestamps added",
    ),
    "form-filling": Words("签名后仅填写表单或添加后续签名", "only form filling or later signatures"),
    "annotations": Words("签名后添加了批注", "annotations added after signing"),
    "other": Words("签名后有其他修改", "other changes after signing"),
}

CHECKS: dict[str, Words] = {
    "byte-range": Words("签名字节范围", "byte range"),
    "coverage": Words("覆盖范围", "coverage"),
    "format": Words("签名格式", "format"),
    "timestamp": Words("时间戳", "timestamp"),
    "integrity": Words("完整性", "integrity"),
    "signature": Words("签名值", "signature value"),
    "chain": Words("证书链", "certificate chain"),
    "revocation": Words("吊销状态", "revocation status"),
    "later-signature": Words("后续签名", "later signature"),
    "metadata": Words("文档信息", "document information"),
    "seal-overlap": Words("印章遮盖", "seal overlap"),
    "modification": Words("签名后修改", "changes after signing"),
    "seal-image": Words("印章图像", "seal image"),
    "seal": Words("电子印章", "electronic seal"),
    "seal-required": Words("须加盖电子印章", "electronic seal required"),
}

#: The checks that say what changed after a signature and where (the allow-list's findings).
MODIFICATION_CHECKS = ("modification", "later-signature", "metadata", "seal-overlap", "unregistered-objects")

MARKS = {"pass": "✓", "fail": "✗", "warning": "!"}

TIME_PROVEN = Words("由时间戳证明", "proven by a timestamp")
TIME_CLAIMED = Words("仅为签名者声称的时间，未经证明", "claimed time only, not proven")
TIME_UNKNOWN = Words("无签名时间", "no signing time")
TIMESTAMP_UNTRUSTED = Words(
    "时间戳存在但未通过验证，不能证明时间", "a timestamp is present but does not verify"
)
INVISIBLE = Words("不可见签名（无印章图像）", "invisible signature (no seal on any page)")


def indication_words(indication: str) -> Words:
    return INDICATIONS.get(indication, Words(indication, indication))


def explanation(indication: str, sub_indication: str | None, *, document: bool = True) -> Words:
    """Why the indication is what it is, in a sentence (about the document, or one signature)."""
    if indication == "TOTAL-PASSED":
        return PASSED_EXPLAINED if document else SIGNATURE_PASSED
    if sub_indication is None:
        return NO_SUB_INDICATION
    return SUB_INDICATIONS.get(sub_indication, Words(sub_indication, sub_indication))


def check_name(name: str) -> Words:
    return CHECKS.get(name, Words(name, name))


def visible(text: str, *, newlines: bool = False) -> str:
    """``text`` with control and format characters (NUL, bidi overrides such as U+202E, zero-width marks)
    written as ``\\uXXXX``: names from a file must not reorder or hide what the report says around them."""
    out = []
    for char in str(text):
        if char == "\n" and newlines:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)
