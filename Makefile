# One command each: set-up is part of run and test, so a fresh clone needs nothing by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Some machines set PYTHONDONTWRITEBYTECODE; then every test worker, and every app process a test starts, compiles
# desktop/ and the tests from source again (collection alone: 11 s against 4 s with cached bytecode).
unexport PYTHONDONTWRITEBYTECODE
# The shared libraries Qt loads, DejaVu for the PDFs, poppler-utils for the tests; binutils (nm, strip) and gcc
# (the English-only ICU data library) for make package.
QT_LIBS := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
           libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 \
           libxcb-render-util0 libxcb-image0 fonts-dejavu-core poppler-utils binutils gcc

# The suite on every core (pytest-xdist); TEST_WORKERS=0 runs it in this one process, e.g. to use pdb.
TEST_WORKERS ?= auto
PYTEST := QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(TEST_WORKERS)
# make test-dates: the suite with the machine's clock moved (libfaketime), to show nothing depends on the month.
TEST_DATES ?= 2027-04-01 08:30:00|2028-02-29 17:00:00

.PHONY: run test test-dates lint format screenshots screenshots-large bench package syslibs faketime clean

run: $(STAMP)
	$(PY) -m desktop gui

RUFF_PATHS := desktop tests benchmarks packaging tools

test: $(STAMP)
	$(VENV)/bin/ruff check $(RUFF_PATHS)
	$(VENV)/bin/ruff format --check $(RUFF_PATHS)
	$(PYTEST)

# The venv is made first with the real clock (certificates, file times); only the suite runs on the faked days.
test-dates: $(STAMP) faketime
	@days='$(TEST_DATES)'; IFS='|'; for day in $$days; do \
	  echo "== the suite on $$day"; \
	  faketime "$$day" env $(PYTEST) || exit 1; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check $(RUFF_PATHS)
	$(VENV)/bin/ruff format --check $(RUFF_PATHS)

# Apply the house format and the linter's safe fixes.
format: $(STAMP)
	$(VENV)/bin/ruff format $(RUFF_PATHS)
	$(VENV)/bin/ruff check --fix $(RUFF_PATHS)

screenshots: $(STAMP)
	rm -rf screenshots
	QT_QPA_PLATFORM=offscreen $(PY) -m tools.screenshots.shoot screenshots
	@# The user guide's pictures: each docs/images/NAME.png the guide links to is screenshots/NN-NAME.png.
	mkdir -p docs/images
	for name in $$(grep -oh 'images/[a-z0-9-]*\.png' docs/*.md | sort -u | cut -d/ -f2); do \
	  cp screenshots/[0-9][0-9]-$$name docs/images/$$name || exit 1; done

# Every screen at a 20 pt font, then at a scale factor of 2 (another process: Qt reads it at start), 1400×900:
# look for a cut-off button bar. Written to screenshots/ (not kept in git).
screenshots-large: $(STAMP)
	rm -rf screenshots/large-font screenshots/scale-2
	QT_QPA_PLATFORM=offscreen $(PY) -m tools.screenshots.large_text --points 20 screenshots/large-font
	QT_QPA_PLATFORM=offscreen QT_SCALE_FACTOR=2 $(PY) -m tools.screenshots.large_text screenshots/scale-2

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# The installer folder for this platform (PyInstaller, packaging/locality-desk-<platform>.spec) into dist/.
package: $(STAMP)
	$(PY) packaging/build.py

# Debian: install the shared libraries Qt's xcb/offscreen plugins load, only when one is missing.
syslibs:
	@if command -v dpkg-query >/dev/null 2>&1; then \
	  missing=""; for p in $(QT_LIBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing system packages:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	  fi; \
	fi

# libfaketime for make test-dates, installed the way syslibs installs Qt's libraries (only when missing).
faketime:
	@$(MAKE) --no-print-directory syslibs QT_LIBS=faketime

# The venv is rebuilt when pyproject.toml changes (stale) or is missing.
$(STAMP): pyproject.toml | syslibs
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# uv installs the same packages in a third of pip's time (parallel downloads); pip when uv cannot be had.
	$(PY) -m pip install -q uv && $(VENV)/bin/uv pip install -q --python $(PY) -e ".[test,package]" \
	  || $(PY) -m pip install -q -e ".[test,package]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) screenshots .pytest_cache build dist
