# Two entry points, as the README says: `make run` (the main job) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libreoffice-calc-nogui python3-uno poppler-utils fonts-noto-cjk

.PHONY: run test venv test-deps system-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install -q -e .

# The main job: the master workbook (任務分解台賬) from the bundled 2020 普陀區 notice.
run: venv
	$(BIN)/putuo-xl build -o out/任務分解台賬.xlsx

# LibreOffice (headless Calc) opens every generated workbook in the tests.
system-deps:
	@if ! command -v soffice >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import uno' 2>/dev/null \
	    || ! command -v pdftoppm >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

test-deps: $(BIN)/python system-deps
	$(BIN)/pip install -q -e ".[test]"

test: test-deps
	XLWINGS_LICENSE_KEY=noncommercial $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out build *.egg-info
