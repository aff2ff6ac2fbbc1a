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

.PHONY: setup system venv lint typecheck unit test units-verify demo lab-down clean install

# Installs `packages` with apt when one is missing (needs root).
define apt_ensure
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make: run as root to install: $$missing" >&2; exit 1; fi; \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

setup: system venv

# System packages (needs root); skipped when every package is already installed.
system:
	$(call apt_ensure,$(APT_PACKAGES))
	@getent group kvm >/dev/null || groupadd -r kvm
	@id libvirt-qemu >/dev/null 2>&1 || useradd -r -g kvm libvirt-qemu

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check planner collectors executor files virt_rebalance benchmarks tests
	$(BIN)/ruff format --check planner collectors executor files virt_rebalance benchmarks tests

typecheck: venv
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q -m "not lab"

test: setup lint typecheck units-verify
	$(BIN)/pytest -q -ra

# The shipped systemd units: `systemd-analyze verify` on them (with an ExecStart that exists) and their
# exposure score; the unit tests do the same on the units `make install` writes.
UNITS := $(wildcard virt_rebalance/examples/systemd/*)
units-verify:
	$(call apt_ensure,systemd)
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && mkdir -p $$tmp/bin && ln -s /bin/true $$tmp/bin/virt-rebalance \
		&& for u in $(UNITS); do sed 's|/opt/virt-rebalance/bin|'$$tmp/bin'|' $$u > $$tmp/$$(basename $$u); done \
		&& systemd-analyze verify $$tmp/*.service $$tmp/*.timer \
		&& for s in $$tmp/*.service; do systemd-analyze security --offline=true --threshold=30 $$s | tail -1; done

# Install on a real host (as root): the tool in its own virtualenv under PREFIX, the command on PATH, a
# starting config unless one exists (HOSTS=a,b,c URI='qemu+ssh://root@{host}/system' to fill in the
# hosts), and the systemd units (not enabled: check the config first). DESTDIR stages it for a package
# (the virtualenv then only runs once moved to PREFIX).
PREFIX ?= /opt/virt-rebalance
BINDIR ?= /usr/local/bin
CONFDIR ?= /etc/virt-rebalance
UNITDIR ?= /etc/systemd/system
PACKAGE ?= .
PIP_INSTALL_FLAGS ?=
PIP ?= $(DESTDIR)$(PREFIX)/bin/python -m pip
INSTALL_PACKAGES := python3-venv python3-dev gcc pkg-config libvirt-dev openssh-client systemd
HOSTS ?=
URI ?=
install:
	$(call apt_ensure,$(INSTALL_PACKAGES))
	test -x $(DESTDIR)$(PREFIX)/bin/python || $(PYTHON) -m venv $(DESTDIR)$(PREFIX)
	$(PIP) install -q --upgrade $(PIP_INSTALL_FLAGS) $(PACKAGE)
	install -d $(DESTDIR)$(BINDIR)
	ln -sfn $(PREFIX)/bin/virt-rebalance $(DESTDIR)$(BINDIR)/virt-rebalance
	install -d -m 0750 $(DESTDIR)$(CONFDIR)
	test -e $(DESTDIR)$(CONFDIR)/cluster.toml || $(DESTDIR)$(PREFIX)/bin/virt-rebalance config init \
		-o $(DESTDIR)$(CONFDIR)/cluster.toml $(if $(HOSTS),--hosts '$(HOSTS)') $(if $(URI),--uri '$(URI)')
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed -e 's|/opt/virt-rebalance/bin|$(PREFIX)/bin|' -e 's|/etc/virt-rebalance/|$(CONFDIR)/|' $$u \
			> $(DESTDIR)$(UNITDIR)/$$(basename $$u) && chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done
	[ -n "$(DESTDIR)" ] || systemd-analyze verify $(addprefix $(UNITDIR)/,$(notdir $(UNITS)))
	[ -n "$(DESTDIR)" ] || [ ! -d /run/systemd/system ] || [ "$(UNITDIR)" != /etc/systemd/system ] \
		|| systemctl daemon-reload
	@echo "installed. Next: edit $(CONFDIR)/cluster.toml, then"
	@echo "  virt-rebalance config check --config $(CONFDIR)/cluster.toml"
	@echo "  systemctl enable --now virt-rebalance-collect.timer virt-rebalance.timer"

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
