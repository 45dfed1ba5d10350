# piranha-web: `make run` serves the tool on :3636; `make test` runs what CI runs.
# Every step prints a "==> step" banner, and a failing step is named before make stops.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# The prerequisites of `test` are ordered steps (system packages, venv, lint).
.NOTPARALLEL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT := 3636
START := $(shell date +%s)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# An install stamp is named after a hash of the requirements files, so editing them
# (or switching branches) reinstalls, and an unchanged venv is left alone.
reqhash = $(shell cat $(1) | sha256sum | cut -c1-16)
RUN_STAMP := $(VENV)/.installed-run-$(call reqhash,requirements.txt)
DEV_STAMP := $(VENV)/.installed-dev-$(call reqhash,requirements.txt requirements-dev.txt)

# What the e2e tests and the reference runtime need from Debian (sudo: the test
# that the shipped sudoers rule parses, with visudo).
APT_PACKAGES := chromium openssh-server nftables iproute2 sudo strace

# $(call step,TITLE,COMMAND): print a banner, run COMMAND, name the step if it fails.
step = printf '\n==> %s\n' '$(1)'; $(2) || { printf '\n*** make $@: step "%s" failed\n' '$(1)' >&2; exit 1; }

.PHONY: help venv venv-dev apt lint test run clean

help:
	@echo "make run    set everything up, then serve piranha-web on http://0.0.0.0:$(PORT)/"
	@echo "make test   what CI runs: lint, type checks, Django checks, tests with coverage"
	@echo "make venv   create $(VENV) and install requirements.txt (only when changed)"
	@echo "make apt    install the Debian packages the tests need, when missing ($(APT_PACKAGES))"
	@echo "make lint   ruff format --check, ruff check, mypy"
	@echo "make clean  remove $(VENV) and tool caches (keeps var/, which holds your data)"

$(PY):
	@$(call step,create $(VENV),$(PYTHON) -m venv $(VENV))

$(RUN_STAMP): | $(PY)
	@$(call step,pip install -r requirements.txt,$(PY) -m pip install -q -r requirements.txt)
	@rm -f $(VENV)/.installed-run-* && touch $@

$(DEV_STAMP): | $(PY)
	@$(call step,pip install -r requirements-dev.txt,$(PY) -m pip install -q -r requirements-dev.txt)
	@rm -f $(VENV)/.installed-dev-* && touch $@

venv: $(RUN_STAMP)

venv-dev: $(DEV_STAMP)

apt:
	@printf '\n==> system packages: %s\n' '$(APT_PACKAGES)'
	@missing=""; \
	for f in /usr/bin/chromium /usr/sbin/sshd /usr/sbin/nft /usr/bin/sudo /usr/bin/strace; do \
	    [ -x "$$f" ] || missing="$$missing $$f"; \
	done; \
	[ -x /usr/sbin/ip ] || command -v ip >/dev/null || missing="$$missing ip"; \
	if [ -z "$$missing" ]; then \
	    echo "all present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	    echo "missing:$$missing; installing"; \
	    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	        --no-install-recommends $(APT_PACKAGES); } \
	    || { printf '\n*** make $@: step "apt-get install" failed\n' >&2; exit 1; }; \
	else \
	    echo "missing:$$missing"; \
	    echo "as root, run: apt-get install --no-install-recommends $(APT_PACKAGES)"; \
	    echo "continuing: the tests that need them will be skipped or fail"; \
	fi

lint: venv-dev
	@$(call step,ruff format --check .,$(VENV)/bin/ruff format --check .)
	@$(call step,ruff check .,$(VENV)/bin/ruff check .)
	@$(call step,mypy,$(VENV)/bin/mypy)

test: apt lint
	@$(call step,manage.py check,$(PY) manage.py check)
	@$(call step,manage.py makemigrations --check --dry-run,$(PY) manage.py makemigrations --check --dry-run)
	@printf '\n==> pytest with coverage\n'
	@rc=0; $(PY) -m pytest --cov --cov-report=term || rc=$$?; \
	if [ $$rc -eq 5 ]; then \
	    printf '\n*** make $@: step "pytest" collected no tests (exit 5); a run must test something\n' >&2; exit 1; \
	elif [ $$rc -ne 0 ]; then \
	    printf '\n*** make $@: step "pytest" failed (exit %s)\n' $$rc >&2; exit 1; \
	fi
	@printf '\n==> make test: all steps passed in %ss\n' $$(( $$(date +%s) - $(START) ))

run: venv
	@$(call step,manage.py migrate,$(PY) manage.py migrate --noinput)
	@$(call step,manage.py collectstatic,$(PY) manage.py collectstatic --noinput)
	@$(call step,ensure the user piranha exists,$(PY) manage.py piranha_passwd --generate --if-missing)
	@printf '\n==> gunicorn on http://0.0.0.0:$(PORT)/ (Ctrl-C stops it)\n'
	@exec $(VENV)/bin/gunicorn piranha_web.wsgi:application -b 0.0.0.0:$(PORT) \
	    --no-control-socket -w 2

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache htmlcov .coverage
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
