# Sourced by scripts/demo.sh and scripts/test.sh: makes .venv with Python 3.13 and the project in it.
# Usage: source scripts/bootstrap.sh [debian packages ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "Installing Debian packages: ${missing[*]}" >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    fi
}

find_python() {
    # .python-version says 3.13: pyenv's shim resolves python3.13 from it; otherwise the system's.
    for candidate in python3.13 "$HOME/.pyenv/shims/python3.13" /usr/bin/python3.13 /usr/local/bin/python3.13; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, ssl; assert sys.version_info >= (3, 13); ssl.SSLContext.set_psk_server_callback' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ "$#" -gt 0 ]; then apt_install "$@"; fi

PYTHON="$(find_python || true)"
if [ -z "$PYTHON" ]; then
    echo "Python 3.13 not found; trying the distribution's python3.13" >&2
    apt_install python3.13 python3.13-venv python3.13-dev || true
    PYTHON="$(find_python || true)"
fi
if [ -z "$PYTHON" ]; then
    echo "error: eid-broker needs Python >= 3.13 (TLS-PSK support in ssl). Install python3.13 or pyenv 3.13." >&2
    exit 1
fi

STAMP=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null; then
    rm -rf .venv
    "$PYTHON" -m venv .venv
fi
if [ ! -e "$STAMP" ]; then
    # pyscard has no wheels for Linux on PyPI: pip builds it from source against pcsc-lite, with swig and gcc.
    apt_install libpcsclite-dev swig gcc
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" >&2
    rm -f .venv/.installed-*
    touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
