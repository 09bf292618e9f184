#!/usr/bin/env bash
# Webhook deliveries verified by the Standard Webhooks reference library (PyPI standardwebhooks) in a venv
# under .build: see webhooks_check.py. Usage: Tests/fuzz/webhooks_check.sh ACCORD_BINARY
set -euo pipefail
accord=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
venv="$PWD/.build/webhooks-venv"
if ! "$venv/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'standardwebhooks==1.1.0'
fi
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE
exec "$venv/bin/python" "$here/webhooks_check.py" "$accord"
