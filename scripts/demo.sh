#!/usr/bin/env bash
# The broker demo: SQLite in ./.eid-broker, a local SMTP server for the mails, a demo citizen.
source "$(dirname "$0")/bootstrap.sh"
exec eid-broker --data-dir "${EID_BROKER_HOME:-$ROOT/.eid-broker}" demo "$@"
