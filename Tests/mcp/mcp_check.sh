#!/usr/bin/env bash
# `accord mcp` checked with the official Python MCP client (PyPI mcp) in a venv under .build: see
# mcp_check.py. Usage: Tests/mcp/mcp_check.sh ACCORD_BINARY
set -euo pipefail
accord=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
venv="$PWD/.build/mcp-venv"
if ! "$venv/bin/python" -c 'import mcp.client.stdio' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'mcp>=1.9,<2'
fi
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE
exec "$venv/bin/python" "$here/mcp_check.py" "$accord"
