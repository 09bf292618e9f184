#!/usr/bin/env bash
# Accord's /scim/v2 checked by a SCIM compliance tester (PyPI scim2-tester, with scim2-client over httpx2)
# in a venv under .build, plus deactivation's effects: see scim_check.py. Usage: Tests/scim/scim_check.sh ACCORD_BINARY
set -euo pipefail
accord=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
venv="$PWD/.build/scim-venv"
if ! "$venv/bin/python" -c 'import scim2_tester, scim2_client.engines.httpx2' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'scim2-tester==0.5.2' 'scim2-client[httpx2]==0.13.2'
fi
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE
exec "$venv/bin/python" "$here/scim_check.py" "$accord"
