# bedside: every target sets up what it needs from a fresh clone (virtual env, pip packages,
# and the Debian packages for speech and sound when they are missing).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Two stamps: make demo needs bedside and what it runs on (a 50 MB virtual env); make test adds
# the test and dev tools (Piper, onnxruntime, numpy, a Piper voice for the tests: 390 MB more).
RUNTIME := $(VENV)/.installed-runtime
STAMP   := $(VENV)/.installed
# Debian packages, each as what shows it is installed (a command, or a file) and its name. The
# panel's font is DejaVu Sans (bedside/display/fonts.py says why): Debian and Raspberry Pi OS
# package it, and it is installed here like the rest, never fetched by bedside.
FONT   := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
DEB    := espeak-ng:espeak-ng aplay:alsa-utils sox:sox $(FONT):fonts-dejavu-core
# What only the tests use (the unit's checks, the suite at other times of day): never on a Pi.
TEST_DEB := systemd-analyze:systemd faketime:faketime
PREFIX ?= /opt/bedside
ETC    ?= /etc/bedside
UNITS  ?= /etc/systemd/system
BIN    ?= /usr/local/bin
# Where `make link` puts the bedside command: on the PATH of a Debian login shell (its
# ~/.profile adds ~/.local/bin when it exists), and the person's own, so no sudo.
LINK   ?= $(HOME)/.local/bin
# The pins, the I2C bus and the sound card belong to these groups on Raspberry Pi OS.
SERVICE_GROUPS := gpio i2c audio

.PHONY: test demo link bench soak lint format system-deps test-deps clean install install-files uninstall
.PHONY: install-packages test-systemd test-arm64 test-vm

# An editable install of this clone. setuptools reminds, in ten lines, that a folder named
# bedside in the working folder would shadow the package: bedside's children run with -I/-P
# for that, so the reminder is left out of what a newcomer reads first.
EDITABLE = PYTHONWARNINGS=ignore $(PY) -m pip install --quiet

$(RUNTIME): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "bedside needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(EDITABLE) -e .
	@touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(EDITABLE) -e '.[test,dev]'
	@touch $(STAMP)

# Debian packages, installed only when their command or file is missing (as root, or through sudo).
system-deps:
	@missing=""; for pair in $(DEB); do \
		shows=$${pair%%:*}; \
		case $$shows in /*) [ -e "$$shows" ] ;; *) command -v "$$shows" >/dev/null 2>&1 ;; esac || \
			missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The Debian packages bedside runs on, and those it is tested with.
test-deps:
	@$(MAKE) --no-print-directory system-deps DEB="$(DEB) $(TEST_DEB)"

# The layers (import-linter's contracts in pyproject.toml), the types (mypy, strict), the style,
# then the suite on four workers (pytest-xdist: it mostly waits on real processes, so two cores
# keep four busy; what times real processes keeps to lanes of its own: tests/conftest.py).
test: $(STAMP) test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 4

# The demo, then where the bedside command is (every other command of the README is one).
demo: $(RUNTIME) system-deps
	@$(VENV)/bin/bedside demo; status=$$?; \
	echo "The bedside command is $(abspath $(VENV))/bin/bedside (make link puts it on your PATH)"; \
	exit $$status

# bedside on the PATH: a link in $(LINK) to this clone's, never over a file that is not ours.
link: $(RUNTIME)
	@target="$(abspath $(VENV))/bin/bedside"; link="$(LINK)/bedside"; \
	if [ -e "$$link" ] || [ -L "$$link" ]; then \
		[ "$$(readlink "$$link")" = "$$target" ] || { \
			echo "$$link is there already and is not this clone's bedside: left as it is"; exit 1; }; \
	else mkdir -p "$(LINK)" && ln -s "$$target" "$$link"; fi; \
	echo "$$link -> $$target"; \
	case ":$$PATH:" in *":$(LINK):"*) ;; \
	*) echo "$(LINK) is not on your PATH yet: log in again (Debian's ~/.profile adds it when it exists)"; \
	   echo "or, in this shell: export PATH=\"$(LINK):\$$PATH\"";; esac

bench: $(STAMP) test-deps
	$(PY) bench/bench.py

# A long fault campaign: 200 cuts (kill -9, SIGTERM) of the real daemon at seeded random
# moments, each restart checked, then the daemon in real time with its devices failing.
# BEDSIDE_KILLS, BEDSIDE_SEED and BEDSIDE_SOAK_SECONDS change its size.
soak: $(STAMP) test-deps
	BEDSIDE_KILLS=$${BEDSIDE_KILLS:-200} BEDSIDE_SOAK_SECONDS=$${BEDSIDE_SOAK_SECONDS:-600} \
		$(PY) -m pytest -q -s tests/test_faults.py::test_kill_campaign_across_routines_steps_and_states tests/test_soak.py

lint format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# On the Pi, as root: a `bedside` user, a virtual env in $(PREFIX), the settings in $(ETC)
# (a file you have edited is never overwritten: the new default lands beside it as .dist),
# `bedside` on the PATH, and the systemd unit, enabled and (re)started. Groups missing from
# this system are made, so the service's user has them on any Debian (it takes them with User=).
install:
	@[ "$$(id -u)" = 0 ] || { echo "make install needs root: sudo make install"; exit 1; }
	$(MAKE) --no-print-directory install-files system-deps
	id -u bedside >/dev/null 2>&1 || useradd --system --home-dir /var/lib/bedside \
		--no-create-home --shell /usr/sbin/nologin bedside
	for group in $(SERVICE_GROUPS); do \
		getent group $$group >/dev/null || groupadd --system $$group; \
		usermod -a -G $$group bedside; done
	$(PYTHON) -m venv $(PREFIX)/venv
	$(PREFIX)/venv/bin/pip install --quiet --upgrade pip
	$(MAKE) --no-print-directory install-packages PI_PIP=$(PREFIX)/venv/bin/pip
	ln -sfn $(PREFIX)/venv/bin/bedside $(BIN)/bedside
	-install -d -o bedside -g bedside -m 0755 /var/cache/bedside && runuser -u bedside -- sh -c 'umask 0077 && CACHE_DIRECTORY=/var/cache/bedside exec $(PREFIX)/venv/bin/bedside voice render --config $(ETC)/bedside.toml' || echo "bedside: the voice will be rendered when the service starts"
	systemctl daemon-reload
	systemctl enable bedside
	systemctl reset-failed bedside
	systemctl restart bedside
	@echo "bedside is installed and running: journalctl -u bedside -f"

install-files:
	install -d $(DESTDIR)$(PREFIX) $(DESTDIR)$(ETC)/routines $(DESTDIR)$(UNITS)
	install -m 644 README.md $(DESTDIR)$(PREFIX)/README.md
	install -m 644 systemd/bedside.service $(DESTDIR)$(UNITS)/bedside.service
	@for file in config/bedside.toml config/routines/*.toml; do \
		target=$(DESTDIR)$(ETC)/$${file#config/}; \
		if [ ! -e "$$target" ]; then install -m 644 "$$file" "$$target"; \
		elif ! cmp -s "$$file" "$$target"; then \
			install -m 644 "$$file" "$$target.dist"; \
			echo "kept your $$target; the new default is $$target.dist"; \
		fi; \
	done

uninstall:
	@[ "$$(id -u)" = 0 ] || { echo "make uninstall needs root: sudo make uninstall"; exit 1; }
	-systemctl disable --now bedside
	rm -f $(UNITS)/bedside.service
	-systemctl daemon-reload
	rm -rf $(PREFIX)
	[ "$$(readlink $(BIN)/bedside)" != $(PREFIX)/venv/bin/bedside ] || rm -f $(BIN)/bedside
	-userdel bedside
	@echo "kept $(ETC) (your settings) and /var/lib/bedside (your history): remove them by hand if you wish"

# The unit under a real systemd: a Debian bookworm root filesystem (debootstrap, cached in
# $(CI_CACHE)) booted with systemd-nspawn, `make install` inside it, and the checks of
# tests/systemd/ against the running service. As root; about 4 minutes, 2 with the cache.
CI_CACHE ?= /var/cache/bedside-ci
test-systemd:
	@[ "$$(id -u)" = 0 ] || { echo "make test-systemd needs root: sudo make test-systemd"; exit 1; }
	@command -v debootstrap >/dev/null && command -v systemd-nspawn >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends debootstrap systemd-container >/dev/null; }
	BEDSIDE_CI_CACHE=$(CI_CACHE) tests/systemd/run.sh

# bedside and its [pi] extra into the virtual env of $(PI_PIP) (make install's, and test-arm64's
# with EXTRAS=pi,test). Where PyPI has no wheel that fits, pip builds from source, and says so
# here: lgpio (wheels for Python 3.11 and 3.12 only; for 3.13, Raspberry Pi OS trixie, it is
# built from the C sources it bundles, PYPI=1, its setup.py's switch; never PyPI's lgpio
# 0.0.0.2, an empty placeholder that pip would otherwise take where no real wheel fits), and
# spidev (an sdist only on PyPI; piwheels has wheels on Raspberry Pi OS). Building needs a
# compiler, swig and the Python headers, installed first when missing. The lgpio installed is
# checked to be the real library.
PI_PIP ?= $(VENV)/bin/pip
EXTRAS ?= pi
install-packages:
	@build=""; \
	$(PI_PIP) install --quiet --dry-run --only-binary lgpio,spidev '.[$(EXTRAS)]' >/dev/null 2>&1 || \
	for pkg in lgpio spidev; do \
		$(PI_PIP) install --quiet --dry-run --only-binary $$pkg '.[$(EXTRAS)]' >/dev/null 2>&1 || \
			build="$$build $$pkg"; \
	done; \
	if [ -n "$$build" ]; then \
		echo "no wheel for this machine:$$build; building from source"; \
		$(MAKE) --no-print-directory system-deps DEB="gcc:gcc swig:swig python3-config:python3-dev" || exit 1; \
	fi; \
	case "$$build" in *lgpio*) nobinary="--no-binary lgpio" ;; *) nobinary="" ;; esac; \
	PYPI=1 $(PI_PIP) install --quiet $$nobinary '.[$(EXTRAS)]'
	@$(dir $(PI_PIP))python -c 'import importlib.util as u, sys; from importlib.metadata import version as v; \
		found = u.find_spec("lgpio"); \
		sys.exit(0 if found is None or hasattr(__import__("lgpio"), "gpiochip_open") else \
			"lgpio " + v("lgpio") + " is installed but is not the real library")'

# The suite on arm64 Debian under qemu-user, as Raspberry Pi OS 64-bit: bookworm (Python 3.11)
# and trixie (Python 3.13). As root; the root filesystems are kept in /var/cache/bedside-arm64.
test-arm64:
	tests/arm64/run.sh

# The installed device on a real Linux kernel's devices: Debian's kernel booted in QEMU (TCG)
# with a simulated GPIO chip, I2C bus 1 and a loopback sound card, bedside installed there by
# `make install`, and the tests of tests/vm/guest run inside, a boot per group. As root; the
# image is cached in /var/cache/bedside-vm. docs/testing-vm.md says what runs and its figures.
test-vm:
	@[ "$$(id -u)" = 0 ] || { echo "make test-vm needs root: sudo make test-vm"; exit 1; }
	@command -v qemu-system-x86_64 >/dev/null && command -v qemu-img >/dev/null && \
		command -v mmdebstrap >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			qemu-system-x86 qemu-utils mmdebstrap >/dev/null; }
	tests/vm/run.sh
