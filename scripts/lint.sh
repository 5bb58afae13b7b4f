#!/usr/bin/env bash
# Lint, format check and type check, as CI runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src cli tests benchmarks fixtures
.venv/bin/ruff format --check src cli tests benchmarks fixtures
.venv/bin/mypy src cli
# The public modules that are strict-clean stay so (integrators type-check against them). Not yet strict:
# the CLI's command modules.
.venv/bin/mypy --strict --follow-imports=silent \
  src/sealkit/exit_codes.py \
  src/sealkit/__init__.py \
  src/sealkit/certs.py \
  src/sealkit/config.py \
  src/sealkit/dev/__init__.py \
  src/sealkit/envelope/__init__.py \
  src/sealkit/envelope/model.py \
  src/sealkit/envelope/writer.py \
  src/sealkit/errors.py \
  src/sealkit/fonts/__init__.py \
  src/sealkit/pdf/__init__.py \
  src/sealkit/pdf/filing.py \
  src/sealkit/pdf/placement.py \
  src/sealkit/pdf/report.py \
  src/sealkit/pdf/verify.py \
  src/sealkit/report/*.py \
  src/sealkit/seal/__init__.py \
  src/sealkit/seal/audit.py \
  src/sealkit/seal/custody.py \
  src/sealkit/seal/grants.py \
  src/sealkit/seal/opening.py \
  src/sealkit/seal/roles.py \
  src/sealkit/seal/uses.py \
  src/sealkit/seal/form.py \
  src/sealkit/seal/images.py \
  src/sealkit/seal/lifecycle.py \
  src/sealkit/seal/parse.py \
  src/sealkit/seal/revocation.py \
  src/sealkit/seal/verify.py \
  src/sealkit/sm2/__init__.py \
  src/sealkit/sm2/backend.py \
  src/sealkit/sm2/signature.py \
  src/sealkit/sm2/symmetric.py \
  src/sealkit/timefmt.py \
  src/sealkit/trust/__init__.py \
  src/sealkit/trust/signing.py \
  src/sealkit/ukey/__init__.py \
  src/sealkit/ukey/base.py \
  src/sealkit/ukey/keyref.py \
  src/sealkit/ukey/keystore.py \
  src/sealkit/ukey/opener.py \
  src/sealkit/ukey/pins.py \
  src/sealkit/ukey/requests.py \
  src/sealkit/ukey/software.py \
  src/sealkit/ofd/__init__.py \
  src/sealkit/trust/verify.py \
  src/sealkit/envelope/ciphers.py \
  src/sealkit/envelope/reader.py \
  src/sealkit/pdf/appearance.py \
  src/sealkit/pdf/fields.py \
  src/sealkit/pdf/sign.py \
  src/sealkit/seal/binding.py \
  src/sealkit/seal/make.py \
  src/sealkit/seal/revlist.py \
  src/sealkit/sm2/encryption.py \
  src/sealkit/sm2/keys.py \
  src/sealkit/trust/ltv.py \
  src/sealkit/trust/timestamps.py \
  src/sealkit/ukey/p11admin.py \
  src/sealkit/ukey/selftest.py \
  src/sealkit/validation/*.py \
  src/sealkit/batch.py \
  src/sealkit/flows.py \
  src/sealkit/service/tls.py \
  src/sealkit/service/retention.py
