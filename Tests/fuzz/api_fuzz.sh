#!/usr/bin/env bash
# Property-based fuzzing of the JSON API from its own OpenAPI document, with schemathesis (PyPI),
# authenticated, all checks. Usage: Tests/fuzz/api_fuzz.sh ACCORD_BINARY [MAX_EXAMPLES_PER_OPERATION [SEED]]
# With a SEED the run is reproducible (make test passes the seed of the CI run that found the page
# overflow, so it keeps being checked); without one every run explores anew (make soak).
# Prints schemathesis' summary; exits non-zero when any check fails (a 5xx, a response that breaks
# the document, an endpoint usable without authentication, …). Two checks are left out, on purpose:
# positive_data_acceptance (a schema-valid request may still break a rule the schema cannot state,
# e.g. a wrong password or a task in the wrong state: 401/409/422 are the right answers) and
# unsupported_method (the router answers 404, not 405, to methods no route has; nothing is exposed).
set -euo pipefail
accord=$(realpath "$1")
examples=${2:-20}
seed=${3:-}
venv="$PWD/.build/fuzz-venv"
if [ ! -x "$venv/bin/st" ]; then
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
# The OpenAPI document is also checked by a maintained validator, not only by our own tests.
"$venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null || "$venv/bin/pip" install --quiet 'openapi-spec-validator>=0.7,<1'
# And /metrics by the Prometheus project's own Python client's parser of the text exposition format.
"$venv/bin/python" -c 'import prometheus_client' 2>/dev/null || "$venv/bin/pip" install --quiet 'prometheus-client>=0.20,<1'

home=$(mktemp -d /tmp/accord-fuzz.XXXXXX)
chmod 755 "$home"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    env ACCORD_HOME="$home" "$accord" db stop >/dev/null 2>&1 || true
    rm -rf "$home"
}
trap cleanup EXIT
export ACCORD_HOME="$home"
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE
"$accord" db start >/dev/null
port=$((21000 + RANDOM % 4000))
"$accord" serve --demo --port "$port" --no-scheduler >"$home/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/api/openapi.yaml" > "$home/openapi.yaml"
"$venv/bin/python" - "$home/openapi.yaml" <<'PY'
import sys, yaml
from openapi_spec_validator import validate
document = yaml.safe_load(open(sys.argv[1]))
validate(document)
print("api fuzz: the OpenAPI document validates (openapi-spec-validator, OpenAPI", document["openapi"] + ")")
PY
token=$(ACCORD_USER=ada "$accord" token create --name fuzz --admin-override "api fuzz run" | grep -o 'acc_[A-Za-z0-9_-]*' | head -1)
[ -n "$token" ] || { echo "api fuzz: could not create a token" >&2; exit 1; }
status=0
# From the throwaway folder, so schemathesis' cache (.schemathesis/) goes away with it.
# Revoking one's own token by number would, with the small numbers schemathesis tries first, revoke the
# run's own token and leave every later request a 401: that operation runs last, in a pass of its own.
own_revoke='/api/v1/me/tokens/{token}/revoke'
(cd "$home" && "$venv/bin/st" run "http://127.0.0.1:$port/api/openapi.yaml" --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $token" --checks all --exclude-checks positive_data_acceptance,unsupported_method \
    --exclude-path "$own_revoke" \
    --max-examples "$examples" ${seed:+--seed "$seed"} --request-timeout 10 --no-color) || status=$?
(cd "$home" && "$venv/bin/st" run "http://127.0.0.1:$port/api/openapi.yaml" --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $token" --checks all --exclude-checks positive_data_acceptance,unsupported_method \
    --include-path "$own_revoke" \
    --max-examples "$examples" ${seed:+--seed "$seed"} --request-timeout 10 --no-color) || status=$?
# The SCIM service, from its own document, with a provisioning token: what an identity provider's client sends.
scim_token=$(ACCORD_USER=ada "$accord" token create --scim --name fuzz-scim --admin-override "scim fuzz run" | grep -o 'acc_[A-Za-z0-9_-]*' | head -1)
(cd "$home" && "$venv/bin/st" run "http://127.0.0.1:$port/api/scim-openapi.yaml" --url "http://127.0.0.1:$port/scim/v2" \
    -H "Authorization: Bearer $scim_token" --checks all --exclude-checks positive_data_acceptance,unsupported_method \
    --max-examples "$examples" ${seed:+--seed "$seed"} --request-timeout 10 --no-color) || status=$?
curl -fs "http://127.0.0.1:$port/metrics" > "$home/metrics.txt"
"$venv/bin/python" - "$home/metrics.txt" <<'PY' || status=1
import sys
from prometheus_client.parser import text_string_to_metric_families
families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
requests = families["accord_http_requests"]
assert requests.type == "counter" and requests.samples, "no request counter"
assert families["accord_http_request_duration_seconds"].type == "histogram"
assert {"route", "method", "status"} <= set(requests.samples[0].labels), requests.samples[0].labels
total = sum(s.value for s in requests.samples)
print(f"api fuzz: /metrics parses (prometheus_client): {len(families)} families, {int(total)} requests counted")
PY
if grep -q "unexpected error" "$home/server.log"; then
    echo "api fuzz: the server logged unexpected errors:" >&2
    grep "unexpected error" "$home/server.log" | head -20 >&2
    status=1
fi
exit $status
