# Two entry points, as the README says: `make run` (the main job) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PYTHON := python3 python3-venv python3-pip ca-certificates
# fonts-crosextra-carlito: Calibri's metrics (the workbooks' default font), so LibreOffice lays
# out column widths as Excel does (tests/test_official_sheets.py checks the printed pages)
APT_PACKAGES := libreoffice-calc-nogui libreoffice-writer-nogui python3-uno poppler-utils fonts-noto-cjk fonts-crosextra-carlito nodejs npm gnumeric

.PHONY: run test venv test-deps python-deps system-deps clean addin addin-bundle

$(BIN)/python: | python-deps
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install -q -e .

# The main job: the master workbook (任務分解台賬) from the bundled 2020 普陀區 notice.
run: venv
	$(BIN)/putuo-xl build -o out/任務分解台賬.xlsx

# The desktop add-in, built here without Excel from xlwings' add-in template (docs/excel.md).
addin: venv
	$(BIN)/pip install -q -e ".[addin]"
	$(BIN)/putuo-xl addin -o out/法治政府.xlam

# The folder each PC installs the add-in from: the add-in, a wheelhouse for 64-bit Windows and
# Python 3.11 (downloaded from PyPI), install/uninstall scripts and 安裝說明.txt.
addin-bundle: venv
	$(BIN)/pip install -q -e ".[addin]"
	$(BIN)/putuo-xl addin --bundle out/法治政府加載項

# Python with its venv module (a minimal Debian lacks it). Installed with apt only when missing.
python-deps:
	@if ! command -v $(PY) >/dev/null 2>&1 || ! $(PY) -c 'import ensurepip, venv' 2>/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PYTHON); \
	fi

# LibreOffice (headless Calc) opens every generated workbook in the tests, and Writer converts
# the .docx we write (年度報告, 通報) to PDF (Calc alone cannot load a .docx); Node runs the
# add-in's real Office.js client code against the Excel double (tests/officejs). LibreOffice,
# Gnumeric (ssconvert: headless, no recommends needed) and SheetJS (under Node) are engines that
# must read our workbooks alike (tests/test_portability.py).
WRITER_LIB := /usr/lib/libreoffice/program/libswlo.so
system-deps: python-deps
	@if ! command -v soffice >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import uno' 2>/dev/null \
	    || ! test -e $(WRITER_LIB) \
	    || ! command -v pdftoppm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1 \
	    || ! command -v npm >/dev/null 2>&1 || ! command -v ssconvert >/dev/null 2>&1 \
	    || [ ! -e /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf ]; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

test-deps: system-deps $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	cd tests/officejs && npm ci --no-audit --no-fund --loglevel=error
	cd tools/sheetjs && npm ci --no-audit --no-fund --loglevel=error   # SheetJS, pinned, in the repo

test: test-deps
	XLWINGS_LICENSE_KEY=noncommercial $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out build *.egg-info
