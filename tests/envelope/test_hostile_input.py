"""Hostile envelopes (issue 10, item 15): deep BER nesting, oversized elements, fuzzed files.

Every one ends in one of sealkit's own errors, with a one-line message, nothing written and flat memory:
no RecursionError, no ValueError/AttributeError from a parser, no gigabytes for a SignedData that carries
100 elements of 4 MiB each. The attack files are built here; the fuzzer has a fixed seed.
"""

from __future__ import annotations

import hashlib
import os
import random

import pytest
from asn1crypto import cms, core

from sealkit.envelope import decrypt_file, encrypt_file, inspect
from sealkit.envelope.ciphers import CIPHERS, StreamEncryptor, new_parameters
from sealkit.envelope.recipients import wrap_key
from sealkit.envelope.signing import build_wrapper
from sealkit.envelope.tlv import MAX_DEPTH, der_header, der_wrap
from sealkit.errors import DamagedEnvelope, SealkitError
from tests.envelope.test_memory import LIMIT_KIB, measured_run

DEPTH = 5000
OID_ENVELOPED = cms.ContentType("enveloped_data").dump()
OID_SIGNED = cms.ContentType("signed_data").dump()
OID_DATA = cms.ContentType("data").dump()
EOC = b"\x00\x00"


def _fails_cleanly(path, key, out_dir, **kw):
    """Both inspect and decrypt_file end in a SealkitError with one line, leaving nothing behind."""
    before = sorted(p.name for p in out_dir.iterdir())
    errors = []
    for call in (lambda: inspect(path), lambda: decrypt_file(path, out_dir / "opened.pdf", key, **kw)):
        with pytest.raises(SealkitError) as caught:
            call()
        message = str(caught.value)
        assert message and "\n" not in message and "Traceback" not in message
        errors.append(caught.value)
    assert sorted(p.name for p in out_dir.iterdir()) == before
    return errors


def _indefinite_nest(tag: int, depth: int, inner: bytes = b"\x05\x00") -> bytes:
    return bytes([tag, 0x80]) * depth + inner + EOC * depth


def _definite_nest(tag: int, depth: int) -> bytes:
    data = b"\x05\x00"
    for _ in range(depth):
        data = der_wrap(tag, data)
    return data


def _enveloped(body: bytes) -> bytes:
    """An indefinite-length ContentInfo(EnvelopedData) whose EnvelopedData contents are ``body``."""
    return b"\x30\x80" + OID_ENVELOPED + b"\xa0\x80\x30\x80" + body + EOC * 3


@pytest.mark.parametrize(
    "where",
    ["originator-info", "recipient-infos-ber", "recipient-infos-der", "encrypted-content"],
)
def test_5000_deep_nesting_is_one_line(rsa_pki, out_dir, where):
    version = b"\x02\x01\x00"
    eci_head = b"\x30\x80" + OID_DATA + new_parameters(CIPHERS["aes-256-cbc"]).algorithm_identifier().dump()
    good_recipients = cms.RecipientInfos([wrap_key(rsa_pki.cert("bidder-enc"), os.urandom(32))]).dump()
    body = {
        "originator-info": version + _indefinite_nest(0xA0, DEPTH),
        "recipient-infos-ber": version + b"\x31\x80" + _indefinite_nest(0x30, DEPTH) + EOC,
        "recipient-infos-der": version + der_wrap(0x31, _definite_nest(0x30, DEPTH)),
        "encrypted-content": version
        + good_recipients
        + eci_head
        + _indefinite_nest(0xA0, 1, b"")[:2]
        + _indefinite_nest(0x24, DEPTH, b"\x04\x01x")
        + EOC
        + EOC,
    }[where]
    env = out_dir / "deep.p7m"
    env.write_bytes(_enveloped(body))
    for error in _fails_cleanly(env, rsa_pki.key("bidder-enc"), out_dir):
        assert isinstance(error, DamagedEnvelope)
        assert "nested too deeply" in str(error)


def _signed_data_envelope(rsa_pki, out_dir, plaintext: bytes):
    """A real AES-GCM envelope to bidder-enc whose plaintext is ``plaintext``, labelled signedData."""
    source = out_dir / "inner.der"
    source.write_bytes(plaintext)
    data_env = out_dir / "data.p7m"
    encrypt_file(source, data_env, [rsa_pki.cert("bidder-enc")])
    info = cms.ContentInfo.load(data_env.read_bytes())
    info["content"]["auth_encrypted_content_info"]["content_type"] = "signed_data"
    env = out_dir / "signed.p7m"
    env.write_bytes(info.dump(force=True))
    source.unlink()
    data_env.unlink()
    return env


def _signed_data_prefix(content: bytes = b"bid") -> bytes:
    """BER ContentInfo(SignedData) up to and including its (closed) encapContentInfo."""
    digests = der_wrap(
        0x31, der_wrap(0x30, core.ObjectIdentifier("2.16.840.1.101.3.4.2.1").dump(), b"\x05\x00")
    )
    eci = b"\x30\x80" + OID_DATA + b"\xa0\x80" + der_header(0x04, len(content)) + content + EOC * 2
    return b"\x30\x80" + OID_SIGNED + b"\xa0\x80\x30\x80\x02\x01\x01" + digests + eci


@pytest.mark.parametrize("where", ["digest-algorithms", "certificates", "signer-infos", "content"])
def test_5000_deep_nesting_inside_the_signed_bid(rsa_pki, out_dir, where):
    if where == "digest-algorithms":
        inner = (
            b"\x30\x80" + OID_SIGNED + b"\xa0\x80\x30\x80\x02\x01\x01\x31\x80" + _indefinite_nest(0x30, DEPTH)
        )
    elif where == "certificates":
        inner = _signed_data_prefix() + b"\xa0\x80" + _indefinite_nest(0x30, DEPTH) + EOC
    elif where == "signer-infos":  # definite lengths: the depth is checked before asn1crypto parses it
        inner = _signed_data_prefix() + der_wrap(0x31, _definite_nest(0x30, DEPTH)) + EOC * 3
    else:
        inner = (
            b"\x30\x80" + OID_SIGNED + b"\xa0\x80\x30\x80\x02\x01\x01\x31\x00"
            + b"\x30\x80" + OID_DATA + b"\xa0\x80" + _indefinite_nest(0x24, DEPTH, b"\x04\x01x")
        )  # fmt: skip
    env = _signed_data_envelope(rsa_pki, out_dir, inner)
    key = rsa_pki.key("bidder-enc")
    with pytest.raises(DamagedEnvelope, match="nested too deeply") as caught:
        decrypt_file(env, out_dir / "opened.pdf", key)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in out_dir.iterdir()) == ["signed.p7m"]


def test_cli_says_one_line_for_deep_nesting(rsa_pki, out_dir, capsys):
    from sealkit_cli.main import run

    env = out_dir / "deep.p7m"
    env.write_bytes(_enveloped(b"\x02\x01\x00" + _indefinite_nest(0xA0, DEPTH)))
    for args in (
        ["bid", "info", env],
        ["bid", "decrypt", env, "-o", out_dir / "p", "--key", rsa_pki.ids["bidder-enc"].keyref],
    ):
        code = run(list(map(str, args)))
        _, err = capsys.readouterr()
        assert code == 8 and err.startswith("sealkit: ") and err.count("\n") == 1, err
        assert "nested too deeply" in err


def test_nesting_up_to_the_limit_is_fine():
    """The honest twin: a structure nested MAX_DEPTH levels parses."""
    from sealkit.envelope.tlv import check_nesting

    check_nesting(_definite_nest(0x30, MAX_DEPTH), "test")
    check_nesting(_indefinite_nest(0x30, MAX_DEPTH), "test")
    with pytest.raises(DamagedEnvelope, match="nested too deeply"):
        check_nesting(_definite_nest(0x30, MAX_DEPTH + 1), "test")


def test_element_count_and_stray_end_of_contents_are_bounded():
    """4 MiB of two-byte elements would be two million headers: the count is capped; and zeros (end-of-
    contents outside an indefinite element) are malformed, not two million empty elements."""
    from sealkit.envelope.tlv import MAX_ELEMENTS, check_nesting

    check_nesting(b"\x05\x00" * 1000, "test")
    with pytest.raises(DamagedEnvelope, match="too many elements"):
        check_nesting(b"\x05\x00" * (MAX_ELEMENTS + 1), "test")
    with pytest.raises(DamagedEnvelope, match="misplaced end-of-contents"):
        check_nesting(bytes(4096), "test")


# --- flat memory ------------------------------------------------------------------------------------------

ELEMENTS, ELEMENT = 100, (4 << 20) - 64


def _filler(tag: int) -> bytes:
    """An element of ELEMENT bytes of content: one OCTET STRING of zeros inside ``tag``."""
    inner = ELEMENT - len(der_header(0x04, ELEMENT))
    return der_header(tag, ELEMENT) + der_header(0x04, inner) + bytes(inner)


def _sparse_cbc_envelope(path, recipient, plaintext_head: bytes, plaintext_length: int) -> None:
    """An AES-256-CBC EnvelopedData (inner type signedData) whose plaintext is ``plaintext_length`` long but
    of which only ``plaintext_head`` is really encrypted: the rest of the file is a hole (zeros on disk,
    no space used). The reader fails inside the head, so it never gets to the hole."""
    params = new_parameters(CIPHERS["aes-256-cbc"])
    cek = os.urandom(32)
    recipients = cms.RecipientInfos([wrap_key(recipient, cek)]).dump()
    ct_length = params.ciphertext_length(plaintext_length)
    eci_body = OID_SIGNED + params.algorithm_identifier().dump() + der_header(0x80, ct_length)
    eci = der_header(0x30, len(eci_body) + ct_length) + eci_body
    version = b"\x02\x01\x00"
    env_len = len(version) + len(recipients) + len(eci) + ct_length
    env = der_header(0x30, env_len) + version + recipients + eci
    explicit = der_header(0xA0, len(der_header(0x30, env_len)) + env_len)
    body_len = len(OID_ENVELOPED) + len(explicit) + len(der_header(0x30, env_len)) + env_len
    header = der_header(0x30, body_len) + OID_ENVELOPED + explicit + env
    encryptor = StreamEncryptor(params, cek)
    head = plaintext_head[: len(plaintext_head) // 16 * 16]
    out = bytearray(len(head) + 32)
    n = encryptor.update_into(head, out)
    with open(path, "wb") as f:
        f.write(header)
        f.write(out[:n])
        f.truncate(len(header) + ct_length)


@pytest.mark.parametrize("layout", ["siblings", "certificates", "signer-infos"])
def test_100_elements_of_4_mib_take_no_memory(rsa_pki, out_dir, layout):
    """The inner SignedData of 100 × 4 MiB elements (1.6 GiB before) is refused within one element's worth
    of memory, in a child process measuring its own peak RSS."""
    element = _filler(0xA0 if layout != "signer-infos" else 0x31)
    if layout == "certificates":  # one [0] certificates holding 100 elements of 4 MiB
        head = _signed_data_prefix() + b"\xa0\x80" + _filler(0x30) * 3
    elif layout == "signer-infos":  # [0] of 4 MiB, then a signerInfos SET of 4 MiB: over the 4 MiB budget
        head = _signed_data_prefix() + _filler(0xA0) + element
    else:  # the elements as SignedData children one after another
        head = _signed_data_prefix() + element * 3
    total = len(_signed_data_prefix()) + ELEMENTS * len(element)
    env = out_dir / "big.p7m"
    _sparse_cbc_envelope(env, rsa_pki.cert("bidder-enc"), head, max(total, len(head) + 16))
    assert env.stat().st_size > 390 << 20 and env.stat().st_blocks * 512 < 64 << 20  # sparse
    run, peak = measured_run(
        "bid", "decrypt", env, "-o", out_dir / "p", "--key", rsa_pki.ids["bidder-enc"].keyref, "--quiet"
    )
    assert run.returncode == 8, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("sealkit: ")
    assert "oversized" in run.stderr or "signer infos" in run.stderr, run.stderr
    assert peak < LIMIT_KIB, f"peak RSS {peak / 1024:.0f} MiB"
    assert sorted(p.name for p in out_dir.iterdir()) == ["big.p7m"]


def test_huge_lengths_are_refused_before_reading(rsa_pki, out_dir):
    key = rsa_pki.key("bidder-enc")
    for body in (
        b"\x02\x01\x00\x31\x88" + b"\xff" * 8,  # recipient infos of 2^64 - 1 bytes
        b"\x02\x01\x00\xa0\x84\x7f\xff\xff\xff",  # originator info of 2 GiB
        b"\x02\x89" + b"\x01" * 9,  # a length of 9 octets
    ):
        env = out_dir / "huge.p7m"
        env.write_bytes(_enveloped(body))
        for error in _fails_cleanly(env, key, out_dir):
            assert isinstance(error, DamagedEnvelope)
        env.unlink()


# --- fuzzing ----------------------------------------------------------------------------------------------

SEED = 20261203
MUTANTS = 240
INNER_MUTANTS = 150


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # truncation
        return bytes(buf[: rng.randrange(len(buf))])
    if kind == 1:  # flipped bytes
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == 2:  # a wrong tag: some header-looking byte in the structure replaced
        at = rng.randrange(min(len(buf), 4096))
        buf[at] = rng.choice(
            [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x24, 0x30, 0x31, 0x80, 0xA0, 0xA1, 0xBF, 0xFF]
        )
    elif kind == 3:  # a huge or indefinite length where a length was
        at = rng.randrange(1, min(len(buf), 4096))
        buf[at : at + 1] = rng.choice(
            [b"\x80", b"\x84\xff\xff\xff\xff", b"\x88" + bytes([0xFF]) * 8, b"\x89"]
        )
    elif kind == 4:  # inserted garbage
        at = rng.randrange(len(buf))
        buf[at:at] = os.urandom(rng.randint(1, 64))
    else:  # a duplicated slice of the structure
        at = rng.randrange(min(len(buf), 4096))
        buf[at:at] = buf[at : at + rng.randint(1, 200)]
    return bytes(buf)


@pytest.fixture(scope="module")
def seeds(rsa_pki, sm2_pki, tmp_path_factory):
    """Valid envelopes of every shape: GCM and CBC (RSA, signed), GM/T 0010 SM2 (signed, both profiles)."""
    folder = tmp_path_factory.mktemp("seeds")
    bid = folder / "bid.pdf"
    bid.write_bytes(b"%PDF-1.7 " + os.urandom(3000))
    made = []
    for name, recipients, signer, kw in (
        ("gcm", [rsa_pki.cert("bidder-enc")], rsa_pki.key("bidder-sign"), {}),
        ("cbc", [rsa_pki.cert("bidder-enc")], rsa_pki.key("bidder-sign"), {"content_cipher": "aes-256-cbc"}),
        ("gm", [sm2_pki.cert("sm2-bidder-enc")], sm2_pki.key("sm2-bidder-sign"), {}),
        ("gmssl", [sm2_pki.cert("sm2-bidder-enc")], sm2_pki.key("sm2-bidder-sign"), {"profile": "gmssl"}),
    ):
        path = folder / f"{name}.p7m"
        encrypt_file(bid, path, recipients, signer=signer, **kw)
        made.append((name, path.read_bytes()))
    return bid.read_bytes(), made


def test_fuzzed_envelopes_end_in_sealkit_errors(seeds, rsa_pki, sm2_pki, out_dir):
    plaintext, made = seeds
    keys = {"gcm": rsa_pki.key("bidder-enc"), "cbc": rsa_pki.key("bidder-enc")}
    keys["gm"] = keys["gmssl"] = sm2_pki.key("sm2-bidder-enc")
    trust = {"gcm": [rsa_pki.root], "cbc": [rsa_pki.root], "gm": [sm2_pki.root], "gmssl": [sm2_pki.root]}
    rng = random.Random(SEED)
    outcomes: dict[str, int] = {}
    env, plain = out_dir / "fuzz.p7m", out_dir / "fuzz.out"
    for i in range(MUTANTS):
        name, data = made[i % len(made)]
        env.write_bytes(_mutate(data, rng))
        for call in (
            lambda: inspect(env),
            lambda: decrypt_file(env, plain, keys[name], trust=trust[name]),  # noqa: B023
        ):
            try:
                call()
                outcome = "ok"
            except SealkitError as exc:
                message = str(exc)
                assert message and "\n" not in message, (i, message)
                outcome = type(exc).__name__
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if plain.exists():  # opened: then it must be the signed bid, untouched
            assert plain.read_bytes() == plaintext, f"mutant {i} opened to other content"
            plain.unlink()
        assert sorted(p.name for p in out_dir.iterdir()) == ["fuzz.p7m"], f"mutant {i} left a file"
    assert outcomes.get("DamagedEnvelope", 0) > MUTANTS // 2, outcomes


def test_fuzzed_inner_signed_data_ends_in_sealkit_errors(rsa_pki, out_dir):
    """The SignedData inside the envelope is parsed from decrypted plaintext, where the envelope's own
    integrity does not help: mutate a valid one, envelope each mutant (AES-GCM, labelled signedData, as a
    bidder can), and open it with trust anchors. (The reader before this change let a ValueError out here.)"""
    content = os.urandom(500)
    signer = rsa_pki.key("bidder-sign")
    wrapper = build_wrapper(
        hashlib.sha256(content).digest(), len(content), signer, signer.certificate(), gm=False
    )
    plaintext = wrapper.prefix + content + wrapper.suffix
    key = rsa_pki.key("bidder-enc")
    rng = random.Random(SEED + 1)
    outcomes: dict[str, int] = {}
    plain = out_dir / "opened"
    for i in range(INNER_MUTANTS):
        env = _signed_data_envelope(rsa_pki, out_dir, _mutate(plaintext, rng))
        try:
            decrypt_file(env, plain, key, trust=[rsa_pki.root])
            outcome = "ok"
            assert plain.read_bytes() == content, f"mutant {i} opened to other content"
            plain.unlink()
        except SealkitError as exc:
            assert "\n" not in str(exc), (i, str(exc))
            outcome = type(exc).__name__
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        assert sorted(p.name for p in out_dir.iterdir()) == ["signed.p7m"], f"mutant {i} left a file"
    assert outcomes.get("VerificationFailed", 0) > 0 and outcomes.get("DamagedEnvelope", 0) > 0, outcomes
