# The README's two commands: `make demo` and `make test`. Both set up everything they need on a fresh
# Debian 12 machine as root: system packages, a virtualenv with the project, the lab's guest kernel.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_CONFIG ?= /var/lib/virt-rebalance-lab/demo/cluster.toml

APT_PACKAGES := libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 libvirt-dev \
	pkg-config busybox-static cpio iproute2 qemu-utils gcc python3-dev python3-venv chromium sqlite3

.PHONY: setup system venv lint typecheck unit test demo lab-down clean

setup: system venv

# System packages (needs root); skipped when every package is already installed.
system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make: run as root to install: $$missing" >&2; exit 1; fi; \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@getent group kvm >/dev/null || groupadd -r kvm
	@id libvirt-qemu >/dev/null 2>&1 || useradd -r -g kvm libvirt-qemu

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check planner collectors executor virt_rebalance benchmarks tests
	$(BIN)/ruff format --check planner collectors executor virt_rebalance benchmarks tests

typecheck: venv
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q -m "not lab"

test: setup lint typecheck
	$(BIN)/pytest -q -ra

# The demo: a skewed lab; the dry-run report of a rebalance (and its HTML form); then exactly that plan
# carried out; then the nightly job, which finds nothing left to do (exit 3).
DEMO_PLAN ?= /var/lib/virt-rebalance-lab/demo/demo-plan.json
demo: setup
	$(BIN)/virt-rebalance lab up --name demo --hosts 4 --guests 12 --skewed
	$(BIN)/virt-rebalance lab status --name demo
	$(BIN)/virt-rebalance plan --config $(LAB_CONFIG) --format json -o $(DEMO_PLAN)
	$(BIN)/virt-rebalance plan --config $(LAB_CONFIG) --plan-file $(DEMO_PLAN) --format text
	$(BIN)/virt-rebalance plan --config $(LAB_CONFIG) --plan-file $(DEMO_PLAN) --format html -o $(DEMO_PLAN:.json=.html)
	$(BIN)/virt-rebalance apply --config $(LAB_CONFIG) $(DEMO_PLAN) || [ $$? -eq 3 ]
	$(BIN)/virt-rebalance run --config $(LAB_CONFIG) || [ $$? -eq 3 ]

lab-down: venv
	$(BIN)/virt-rebalance lab down --name demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
