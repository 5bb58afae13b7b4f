"""Unverified plaintext never outlives the process, SIGKILL included (issue 10, item 15).

A child opens a big bid and is SIGKILLed while the plaintext is being written, before the GCM tag is
checked: the plaintext must exist then (in a file without a name, held open by the child) and nothing may be
left afterwards. Both ways of writing are covered: O_TMPFILE (linked into place only after the checks) and
the portable fallback (a temporary file unlinked as soon as it is made, copied into place after the checks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sealkit.envelope import decrypt_file, encrypt_file, plainfile
from sealkit.errors import DamagedEnvelope

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux /proc")

SIZE = 24 << 20

#: Opens argv[1] into argv[2] with the key file argv[3]; after 8 MiB of ciphertext, says so and waits.
_CHILD = """
import sys, time
from sealkit.envelope import decrypt_file, plainfile
from sealkit.ukey import open_key

plainfile.USE_O_TMPFILE = sys.argv[4] == "o_tmpfile"

def progress(done, total):
    if done >= 8 << 20:
        print("writing", flush=True)
        time.sleep(120)

with open_key(sys.argv[3]) as key:
    decrypt_file(sys.argv[1], sys.argv[2], key, progress=progress)
"""


@pytest.fixture(scope="module")
def big_envelope(rsa_pki, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kill")
    bid = folder / "big.bin"
    bid.write_bytes(os.urandom(1 << 20) * (SIZE >> 20))
    env = folder / "big.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])  # AES-GCM: the tag is checked at the very end
    bid.unlink()
    return env


def _open_files_in(pid: int, folder: Path) -> list[tuple[str, int]]:
    """(link target, size) of the child's open files in ``folder``."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            size = os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            found.append((target, size))
    return found


@pytest.mark.parametrize("mode", ["o_tmpfile", "fallback"])
def test_sigkill_while_decrypting_leaves_nothing(big_envelope, rsa_pki, tmp_path, mode):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            big_envelope,
            out_dir / "bid.pdf",
            rsa_pki.ids["bidder-enc"].keyref,
            mode,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "writing", child.stderr.read()
        held = _open_files_in(child.pid, out_dir)
        assert held, "the child holds no plaintext file in the output directory"
        (target, size), *_ = held
        assert target.endswith("(deleted)") and size >= 4 << 20, held  # unverified bytes, and no name
        assert os.listdir(out_dir) == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert os.listdir(out_dir) == [], "unverified plaintext survived the process"


@pytest.mark.parametrize("mode", [True, False], ids=["o_tmpfile", "fallback"])
def test_both_ways_give_the_file_its_name_after_the_checks(rsa_pki, bid, out_dir, monkeypatch, mode):
    """The honest twin: the same code paths, not interrupted, give the bid (mode 0600), replacing an
    existing file, and a failed check leaves neither a file nor a changed destination."""
    monkeypatch.setattr(plainfile, "USE_O_TMPFILE", mode)
    if mode:  # the O_TMPFILE file itself must get the name (linkat), not a copy of it

        def no_copy(*args):
            raise AssertionError("the O_TMPFILE file was copied, not linked into place")

        monkeypatch.setattr(plainfile, "_copy_into_place", no_copy)
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])
    target = out_dir / "opened.pdf"
    target.write_bytes(b"old")
    decrypt_file(env, target, rsa_pki.key("bidder-enc"))
    assert target.read_bytes() == bid.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o600
    data = bytearray(env.read_bytes())
    data[-1] ^= 1  # the GCM tag
    env.write_bytes(bytes(data))
    target.write_bytes(b"old")
    with pytest.raises(DamagedEnvelope, match="GCM tag"):
        decrypt_file(env, target, rsa_pki.key("bidder-enc"))
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in out_dir.iterdir()) == ["bid.p7m", "opened.pdf"]
