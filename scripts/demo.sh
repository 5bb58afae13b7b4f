#!/usr/bin/env bash
# The main job: set everything up, then run the whole contract flow on software keys and SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh demo
exec .venv/bin/sealkit demo "$@"
