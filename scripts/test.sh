#!/usr/bin/env bash
# Set everything up, then run the whole test suite (tests start the services they need).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
# One worker per core (pytest-xdist; the tests are independent and start their services on free ports).
# SEALKIT_TEST_WORKERS=0 runs them in this process; a -n given here wins (the last -n counts).
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${SEALKIT_TEST_WORKERS:-auto}" "$@"
