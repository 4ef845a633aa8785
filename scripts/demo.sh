#!/usr/bin/env bash
# The broker demo: SQLite in ./.eid-broker, a local SMTP server for the mails, a demo citizen.
# Arguments go to `eid-broker demo` (e.g. --port 8080 --http), not to bootstrap.sh, which would read a
# sourced script's inherited arguments as Debian packages.
demo_args=("$@")
set --
source "$(dirname "$0")/bootstrap.sh"
exec eid-broker --data-dir "${EID_BROKER_HOME:-$ROOT/.eid-broker}" demo "${demo_args[@]}"
