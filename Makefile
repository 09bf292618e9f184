# Accord: two commands do everything on a fresh Debian/Ubuntu machine with Swift.
#   make run    install what is missing, build, start the embedded PostgreSQL, serve http://127.0.0.1:8080
#   make test   the same install, a throwaway PostgreSQL in a temporary folder, the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SWIFT      ?= swift
HOST       ?= 127.0.0.1
PORT       ?= 8080
BIN_DIR    ?= .build/debug
ACCORD      = $(BIN_DIR)/accord
# Debian packages: the libpq, zlib and libcurl headers to build, the server programs for the embedded cluster.
RUN_PACKAGES  = libpq-dev zlib1g-dev libcurl4-openssl-dev pkg-config postgresql
# The tests also check docker-compose.yml and drive a real browser through the pages.
# axe-core and the Nu Html Checker check every page; the checker runs on Java. aiosmtpd is the real SMTP server;
# Authlib and Flask make the real OpenID provider. HAProxy is the load balancer in front of three instances.
TEST_PACKAGES = $(RUN_PACKAGES) docker-compose chromium chromium-driver python3-selenium python3-venv curl default-jre-headless python3-aiosmtpd openssl python3-authlib python3-flask haproxy
# The connection variables that would point accord at another server; the embedded cluster ignores them here.
UNSET_PG = env -u DATABASE_URL -u PGHOST -u PGHOSTADDR -u PGPORT -u PGDATABASE -u PGUSER -u PGSERVICE

.PHONY: help run test unit format format-check soak bench build build-tests deps-run deps-test deps-bench clean

help:
	@echo "make run    build and serve Accord on http://$(HOST):$(PORT) with the embedded PostgreSQL"
	@echo "make test   run the whole test suite against a throwaway PostgreSQL"
	@echo "make format apply the house style (.swift-format); make test checks it"
	@echo "make unit   only the tests that need no database (workflow model, policies, hashing): seconds, for a fast loop"
	@echo "make soak   the long fault, race and fuzz runs, three instances behind HAProxy, PostgreSQL failover (minutes)"
	@echo "make bench  build in release mode and measure Accord against raw PostgreSQL and SHA-256 (bench/results.json)"

run: deps-run build
	$(UNSET_PG) $(ACCORD) db start
	$(UNSET_PG) $(ACCORD) serve --demo --host $(HOST) --port $(PORT)

test: deps-test format-check build-tests
	tmp=$$(mktemp -d /tmp/accord-make-test.XXXXXX); \
	cleanup() { $(UNSET_PG) ACCORD_HOME=$$tmp $(ACCORD) db stop >/dev/null 2>&1 || true; rm -rf "$$tmp"; }; \
	trap cleanup EXIT; \
	$(UNSET_PG) ACCORD_HOME=$$tmp $(ACCORD) db start; \
	url=$$($(UNSET_PG) ACCORD_HOME=$$tmp $(ACCORD) db url); \
	ACCORD_TEST_DATABASE_URL="$$url" ACCORD_TEST_STRICT=1 $(SWIFT) test --skip-build; \
	$(UNSET_PG) Tests/browser/run.sh $(ACCORD)
	Tests/fuzz/webhooks_check.sh $(ACCORD)
	Tests/scim/scim_check.sh $(ACCORD)
	Tests/mcp/mcp_check.sh $(ACCORD)
	Tests/oscal/oscal_check.sh $(ACCORD)
	Tests/fuzz/api_fuzz.sh $(ACCORD) 10 219453184448351853365556136910139954127

# The house style (.swift-format, Hummingbird's): `make format` applies it, `make test` checks it.
FORMATTED = Sources Tests Plugins Package.swift
format:
	$(SWIFT) format format -i -r --parallel $(FORMATTED)

format-check:
	$(SWIFT) format lint --strict -r --parallel $(FORMATTED)

# The tests that need no database: the pure model in AccordCore.
unit:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter 'AccordCoreTests|SourceHabitTests'

# The long variants: faults with more kills and restarts, three instances behind HAProxy with more rounds,
# PostgreSQL failover to a streaming standby, more fuzz cases, schemathesis with more examples.
soak: deps-test build-tests
	tmp=$$(mktemp -d /tmp/accord-make-soak.XXXXXX); \
	cleanup() { $(UNSET_PG) ACCORD_HOME=$$tmp $(ACCORD) db stop >/dev/null 2>&1 || true; rm -rf "$$tmp"; }; \
	trap cleanup EXIT; \
	$(UNSET_PG) ACCORD_HOME=$$tmp $(ACCORD) db start; \
	url=$$($(UNSET_PG) ACCORD_HOME=$$tmp $(ACCORD) db url); \
	ACCORD_SOAK=1 ACCORD_TEST_DATABASE_URL="$$url" $(SWIFT) test --skip-build --filter 'FaultTests|InstanceTests|FailoverTests|RaceTests|FuzzTests|SecurityTests|IdempotencyRaceTests'
	Tests/fuzz/api_fuzz.sh $(ACCORD) 200

# Release build; a throwaway cluster; figures beside their baselines measured in the same run.
bench: deps-bench
	$(SWIFT) build -c release --product accord
	$(SWIFT) build -c release --product accord-bench
	tmp=$$(mktemp -d /tmp/accord-make-bench.XXXXXX); \
	cleanup() { $(UNSET_PG) ACCORD_HOME=$$tmp .build/release/accord db stop >/dev/null 2>&1 || true; rm -rf "$$tmp"; }; \
	trap cleanup EXIT; \
	$(UNSET_PG) ACCORD_HOME=$$tmp .build/release/accord db start; \
	url=$$($(UNSET_PG) ACCORD_HOME=$$tmp .build/release/accord db url); \
	ACCORD_HOME=$$tmp .build/release/accord-bench --database "$$url" --output bench/results.json $(BENCH_ARGS)

build:
	$(SWIFT) build --product accord

build-tests:
	$(SWIFT) build --build-tests

deps-run:
	@PACKAGES="$(RUN_PACKAGES)" .ci/install-packages

deps-test:
	@PACKAGES="$(TEST_PACKAGES)" .ci/install-packages

deps-bench:
	@PACKAGES="$(RUN_PACKAGES) wrk" .ci/install-packages

clean:
	rm -rf .build
