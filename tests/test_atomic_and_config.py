"""Outputs are all-or-nothing; the configuration file and its overrides."""

import os
import stat

import pytest

from sealkit.atomic import atomic_output, write_atomic
from sealkit.config import load_config
from sealkit.errors import ConfigError, InvalidInput


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    dest = tmp_path / "out.pdf"
    with pytest.raises(RuntimeError), atomic_output(dest) as handle:
        handle.write(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_replaces_only_when_complete(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with atomic_output(dest, mode=0o600) as handle:
        handle.write(b"new")
        assert dest.read_bytes() == b"old"
    assert dest.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_output_refuses_to_overwrite_its_input(tmp_path):
    src = tmp_path / "in.pdf"
    src.write_bytes(b"input")
    with pytest.raises(InvalidInput, match="input"):
        write_atomic(src, b"x", protect=(src,))
    assert src.read_bytes() == b"input"


def test_atomic_output_into_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        write_atomic(tmp_path / "nope" / "x", b"x")


def test_config_file_and_environment_overrides(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    cfg_file = tmp_path / "sealkit.toml"
    cfg_file.write_text(
        'home = "h"\n[sign]\nkey = "file:k.pem"\n[trust]\nanchors = ["ca.pem"]\n[tsa]\nurl = "http://t/"\n'
    )
    cfg = load_config(cfg_file, env={})
    assert cfg.default_key == "file:k.pem"
    assert cfg.trust_anchors == [tmp_path / "ca.pem"]
    assert cfg.home == tmp_path / "h"
    assert cfg.registry_url == f"sqlite:///{tmp_path / 'h' / 'registry.sqlite3'}"
    env_cfg = load_config(cfg_file, env={"SEALKIT_TSA": "http://other/", "SEALKIT_HOME": str(tmp_path)})
    assert env_cfg.tsa_url == "http://other/"
    assert env_cfg.home == tmp_path


def test_bad_config_is_a_one_line_config_error(tmp_path):
    bad = tmp_path / "sealkit.toml"
    bad.write_text("[sign\nkey=")
    with pytest.raises(ConfigError) as info:
        load_config(bad, env={})
    assert "\n" not in str(info.value)


def test_missing_config_named_by_env_is_an_error(tmp_path):
    from sealkit.config import find_config_file

    with pytest.raises(ConfigError):
        find_config_file({"SEALKIT_CONFIG": str(tmp_path / "missing.toml")})
