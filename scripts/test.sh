#!/usr/bin/env bash
# Set everything up, then run the whole test suite (tests start the services they need).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
