#!/usr/bin/env bash
# The whole test suite. Installs what the tests need (Debian packages, Python packages, axe-core) and
# starts the services itself (PostgreSQL, SMTP, pcscd with vpcd, Chromium, AusweisApp) from pytest fixtures.
source "$(dirname "$0")/bootstrap.sh" \
    postgresql pcscd vsmartcard-vpcd pcsc-tools openpace chromium ausweisapp2 ca-certificates
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
mkdir -p .cache/npm
if [ ! -f .cache/npm/node_modules/axe-core/axe.min.js ]; then
    npm install --silent --no-audit --no-fund --prefix .cache/npm axe-core@4 >&2
fi
export AXE_CORE_JS="$ROOT/.cache/npm/node_modules/axe-core/axe.min.js"
# pytest exits 5 when it collected nothing; set -e turns that into a failure.
exec python -m pytest "$@"
