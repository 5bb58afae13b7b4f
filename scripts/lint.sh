#!/usr/bin/env bash
# Lint, format check and type check, as CI runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src cli tests benchmarks fixtures
.venv/bin/ruff format --check src cli tests benchmarks fixtures
.venv/bin/mypy src cli
