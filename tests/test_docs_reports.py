"""The library example in docs/reports.md runs as written and prints what the document says it prints."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "reports.md"


def test_reports_example_runs(capsys):
    text = DOC.read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_reports"})  # noqa: S102 - our own documentation
    assert capsys.readouterr().out.splitlines() == ["TOTAL-PASSED True B-T", "TOTAL-PASSED entire-file True"]
