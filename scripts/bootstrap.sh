#!/usr/bin/env bash
# Set up everything sealkit needs on a fresh Debian machine, idempotently:
#   - the Debian packages (installed when run as root, otherwise named in a clear message),
#   - a virtual environment in .venv with sealkit (editable) and its test dependencies.
# Usage: scripts/bootstrap.sh [demo|test]   (demo needs fewer packages than the test suite)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-test}"

demo_packages=(python3-venv fonts-arphic-uming fonts-noto-cjk)
test_packages=("${demo_packages[@]}" gcc libc6-dev libssl-dev libp11-kit-dev softhsm2 opensc poppler-utils
               libnss3-tools postgresql openssl qpdf)
if [ "$purpose" = demo ]; then packages=("${demo_packages[@]}"); else packages=("${test_packages[@]}"); fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: sealkit needs Python 3.11 or newer ($python is older or missing)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.sealkit-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)-$purpose"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing sealkit into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -U pip >/dev/null
  if [ "$purpose" = demo ]; then extra=""; else extra="[test]"; fi
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" 2>&1 \
    | grep -v -e "^WARNING: Location" -e "^$" >&2 || true
  .venv/bin/python -c "import sealkit, sealkit_cli" || { echo "bootstrap: pip install failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
