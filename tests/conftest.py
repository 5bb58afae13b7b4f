"""Test-wide settings: every test gets its own SEALKIT_HOME and no stray configuration."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_sealkit_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("sealkit-home")
    monkeypatch.setenv("SEALKIT_HOME", str(home))
    monkeypatch.delenv("SEALKIT_CONFIG", raising=False)
    monkeypatch.delenv("SEALKIT_KEY", raising=False)
    monkeypatch.delenv("SEALKIT_PIN", raising=False)
    monkeypatch.delenv("SEALKIT_REGISTRY", raising=False)
    monkeypatch.delenv("SEALKIT_TSA", raising=False)
    return home
