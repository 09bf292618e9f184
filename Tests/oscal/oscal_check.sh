#!/usr/bin/env bash
# `accord export PROGRAM --oscal` checked against NIST's published OSCAL schema by compliance-trestle
# (PyPI, maintained by the OSCAL Compass project) in a venv under .build: see oscal_check.py.
# Usage: Tests/oscal/oscal_check.sh ACCORD_BINARY
set -euo pipefail
accord=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
venv="$PWD/.build/oscal-venv"
if ! "$venv/bin/trestle" version >/dev/null 2>&1; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'compliance-trestle>=3.4,<6'
fi
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE
exec "$venv/bin/python" "$here/oscal_check.py" "$accord" "$venv/bin/trestle"
