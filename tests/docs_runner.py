"""Run the examples of one Markdown document in order, in the current directory, as a reader would.

``python docs_runner.py DOC.md`` runs every ```python, ```sh and ```console block of DOC.md top to bottom:
python blocks share one namespace (a later block continues an earlier one), shell blocks run in bash with
``-euo pipefail`` and the variables they export carry on to later blocks. In a console block each ``$ `` line
(with its ``\\`` continuation lines) is a command and the lines after it are its output (not checked); a
command ending in ``# exit N`` must exit with N. A block right after the comment
``<!-- docs-test: not run: REASON -->`` is skipped, and the reason printed. Exit status 0 if all ran.

This file is run by the installed package's interpreter (tests/test_docs_tour.py) and imports nothing of
sealkit or the tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FENCE = re.compile(
    r"(<!-- docs-test: not run: (?P<reason>.*?) -->\n)?```(?P<lang>python|sh|console)\n(?P<code>.*?)```", re.S
)


def blocks(text: str) -> list[dict[str, str | int]]:
    """The runnable blocks of ``text``: language, code, line number, and the reason when marked not run."""
    return [
        {
            "lang": m["lang"],
            "code": m["code"],
            "line": text[: m.start("code")].count("\n"),
            "skip": m["reason"] or "",
        }
        for m in FENCE.finditer(text)
    ]


def console_script(code: str) -> str:
    """A bash script running the ``$`` commands of a console transcript, checking ``# exit N``."""
    commands: list[str] = []
    lines = code.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("$ "):
            continue
        command = line[2:]
        while command.rstrip().endswith("\\") and i < len(lines):
            command += "\n" + lines[i]
            i += 1
        expected = re.search(r"#\s*exit (\d+)\s*$", command)
        if expected and expected[1] != "0":
            code = expected[1]
            check = f'[ "$rc" -eq {code} ] || {{ echo "expected exit {code}, got $rc" >&2; exit 1; }}'
            commands.append(f"set +e\n{command}\nrc=$?\nset -e\n{check}")
        else:
            commands.append(command)
    return "\n".join(commands) + "\n"


def run_shell(script: str) -> None:
    """Run ``script`` in bash; the environment it exports carries on to later blocks."""
    with tempfile.NamedTemporaryFile(suffix=".env", delete=False) as dump:
        env_file = dump.name
    try:
        done = subprocess.run(
            [
                "bash",
                "-euo",
                "pipefail",
                "-c",
                f"{script}\n{sys.executable} -c "
                f"'import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], \"w\"))' {env_file}\n",
            ],
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"the shell block failed with exit status {done.returncode}")
        env = json.loads(Path(env_file).read_text(encoding="utf-8"))
        os.environ.clear()
        os.environ.update(env)
    finally:
        os.unlink(env_file)


def main(doc: str) -> int:
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in blocks(Path(doc).read_text(encoding="utf-8")):
        where = f"{Path(doc).name}:{block['line']}"
        if block["skip"]:
            print(f"docs-test: not run: {where} ({block['lang']}): {block['skip']}", flush=True)
            continue
        print(f"docs-test: running {where} ({block['lang']})", flush=True)
        code = str(block["code"])
        try:
            if block["lang"] == "python":
                padded = "\n" * int(block["line"]) + code  # tracebacks name the line in the document
                exec(compile(padded, doc, "exec"), namespace)  # noqa: S102 - our own documentation
            elif block["lang"] == "sh":
                run_shell(code)
            else:
                run_shell(console_script(code))
        except SystemExit as exc:
            print(f"docs-test: FAILED {where}: {exc}", file=sys.stderr, flush=True)
            return 1
        except BaseException:
            import traceback

            traceback.print_exc()
            print(f"docs-test: FAILED {where}", file=sys.stderr, flush=True)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
