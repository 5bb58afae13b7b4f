"""The CLI's contract with its users: version, help, one-line errors, exit codes."""

import json
import subprocess
import sys

import pytest
from sealkit_cli.main import COMMANDS, run

from sealkit import __version__
from sealkit.errors import InvalidInput, SealkitError
from sealkit.exit_codes import exit_code_for


def sealkit(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", *args], capture_output=True, text=True, **kwargs
    )


def test_version_is_the_package_version():
    result = sealkit("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_help_lists_every_command_without_importing_them():
    result = sealkit("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error():
    result = sealkit("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no-such-command" in result.stderr


@pytest.mark.parametrize("error", [InvalidInput("bad\nthing"), SealkitError("x")])
def test_sealkit_errors_become_one_line_and_their_exit_code(monkeypatch, capsys, error):
    import sealkit_cli.main as main

    def boom(**kwargs):
        raise error

    monkeypatch.setattr(main.cli, "main", boom)
    code = run(["anything"])
    captured = capsys.readouterr()
    assert code == exit_code_for(error)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sealkit: ")


def test_json_errors_are_machine_readable(monkeypatch, capsys):
    import sealkit_cli.main as main

    def boom(**kwargs):
        raise InvalidInput("no such file")

    monkeypatch.setattr(main.cli, "main", boom)
    code = run(["verify", "x.pdf", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2
    assert out["error"] == {"type": "InvalidInput", "message": "no such file", "exit_code": 2}


def test_unexpected_exceptions_never_print_a_traceback(monkeypatch, capsys):
    import sealkit_cli.main as main

    def boom(**kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("SEALKIT_DEBUG", raising=False)
    monkeypatch.setattr(main.cli, "main", boom)
    assert run(["x"]) == main.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ZeroDivisionError" in err


def test_the_exit_code_table_in_the_docs_is_the_clis():
    import re
    from pathlib import Path

    from sealkit.exit_codes import EXIT_CODES

    text = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = {}
    for line in text.splitlines():
        match = re.match(r"^\| (\d+) \| [^|]* \| (.*) \|$", line)
        if match:
            for name in re.findall(r"`(\w+)`", match.group(2).split("(")[0] + " " + match.group(2)):
                documented.setdefault(name, int(match.group(1)))
    for cls, code in EXIT_CODES.items():
        assert documented.get(cls.__name__) == code, cls.__name__
