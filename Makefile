# bedside: every target sets up what it needs from a fresh clone (virtual env, pip packages,
# and the Debian packages for speech and sound when they are missing).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEB    := espeak-ng:espeak-ng aplay:alsa-utils sox:sox systemd-analyze:systemd
PREFIX ?= /opt/bedside
ETC    ?= /etc/bedside
UNITS  ?= /etc/systemd/system

.PHONY: test demo bench lint format system-deps clean install install-files uninstall

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "bedside needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

# Debian packages, installed only when their command is missing (as root, or through sudo).
system-deps:
	@missing=""; for pair in $(DEB); do \
		command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test: $(STAMP) system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

demo: $(STAMP) system-deps
	$(VENV)/bin/bedside demo

bench: $(STAMP) system-deps
	$(PY) bench/bench.py

lint format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# On the Pi, as root: a `bedside` user, a virtual env in $(PREFIX), the settings in $(ETC)
# (a file you have edited is never overwritten: the new default lands beside it as .dist),
# and the systemd unit, enabled and started.
install: install-files
	@[ "$$(id -u)" = 0 ] || { echo "make install needs root: sudo make install"; exit 1; }
	$(MAKE) --no-print-directory system-deps
	id -u bedside >/dev/null 2>&1 || useradd --system --home-dir /var/lib/bedside \
		--no-create-home --shell /usr/sbin/nologin bedside
	for group in gpio i2c audio; do \
		getent group $$group >/dev/null && usermod -a -G $$group bedside || true; done
	$(PYTHON) -m venv $(PREFIX)/venv
	$(PREFIX)/venv/bin/pip install --quiet --upgrade pip
	$(PREFIX)/venv/bin/pip install --quiet '.[pi]'
	-install -d -o bedside -g bedside -m 0755 /var/cache/bedside && runuser -u bedside -- sh -c 'umask 0077 && CACHE_DIRECTORY=/var/cache/bedside exec $(PREFIX)/venv/bin/bedside voice render --config $(ETC)/bedside.toml' || echo "bedside: the voice will be rendered when the service starts"
	systemctl daemon-reload
	systemctl enable --now bedside
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
	-userdel bedside
	@echo "kept $(ETC) (your settings) and /var/lib/bedside (your history): remove them by hand if you wish"
