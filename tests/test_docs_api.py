"""The example in docs/api.md runs as written."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_api_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_api"})  # noqa: S102 - our own documentation
    assert "TOTAL-PASSED 济南市示范中学合同专用章" in capsys.readouterr().out
