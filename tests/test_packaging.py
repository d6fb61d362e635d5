"""A real, non-editable `pip install` of this checkout into a fresh virtual environment: the files
beside the code (styles template, add-in macros, server project) come along as package data."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _sources(dest: Path) -> Path:
    """The committed and staged files of this checkout (what a clone has), symlinks as links."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src, dst = ROOT / f, dest / f
        if not src.exists() and not src.is_symlink():
            continue               # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, putuo-xl, site-packages) of a venv with putuo-xl installed from a copy of the
    checkout (pip builds a wheel; no -e). Its dependencies are this test run's own, reached
    through a .pth line, so nothing but putuo-xl itself is installed."""
    d = tmp_path_factory.mktemp("pkg")
    src = _sources(d / "src")
    env_dir = d / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig;print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_putuo_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    p = subprocess.run([py, "-m", "pip", "install", "-v", "--no-deps", str(src)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    # the data folders are listed as (namespace) packages: no "Package would be ignored" banners
    assert "would be ignored" not in p.stdout + p.stderr
    return py, env_dir / "bin" / "putuo-xl", site


def run(exe, *args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_package_data_is_installed(installed, tmp_path):
    py, _, site = installed
    data = site / "putuo_xl" / "data"
    for f in ("workbook_templates/styles.xlsx", "macros/customUI.xml", "macros/RibbonPutuo.bas",
              "macros/xlwings.bas", "server/custom_scripts/__init__.py",
              "server/templates/manifest.xml", "server/static/js/ribbon.js", "server/.env.example",
              "config.yaml", "notice_2020_putuo.txt"):
        assert (data / f).is_file(), f
    p = run(py, "-c", "import putuo_xl, putuo_xl.workbook.styles as s, putuo_xl.excel.serve as v;"
            "print(putuo_xl.__file__); print(s.load_styles().source); print(v.default_project_dir())",
            cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    module, styles, server = p.stdout.split("\n")[:3]
    assert module.startswith(str(site))                         # not this checkout
    assert styles == str(data / "workbook_templates" / "styles.xlsx")
    assert server == str(data / "server")


def test_installed_build_uses_the_styles_template(installed, tmp_path):
    """Restyle the installed template (the title font size) and build: the master has it."""
    from openpyxl import load_workbook
    from openpyxl.styles import Font
    py, exe, site = installed
    tpl = site / "putuo_xl" / "data" / "workbook_templates" / "styles.xlsx"
    wb = load_workbook(tpl)
    ws = wb.worksheets[0]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "title")
    old = row[2].font
    row[2].font = Font(name=old.name, sz=23, b=old.b, color=old.color, charset=old.charset)
    wb.save(tpl)
    p = run(exe, "build", "-o", "m.xlsx", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert load_workbook(tmp_path / "m.xlsx")["說明"]["A1"].font.sz == 23


def test_installed_addin_finds_its_macros(installed, tmp_path):
    py, exe, site = installed
    p = run(exe, "addin", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert str(site / "putuo_xl" / "data" / "macros") in p.stderr
    # --xlam without oletools (the `addin` extra): a Chinese message, not a traceback
    xlam = tmp_path / "putuo.xlam"
    with zipfile.ZipFile(xlam, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    code = ("import sys; sys.modules['oletools'] = None; sys.modules['oletools.olevba'] = None;"
            "from putuo_xl.cli import main; sys.argv = ['putuo-xl', 'addin', '--xlam', 'putuo.xlam'];"
            "main()")
    p = run(py, "-c", code, cwd=tmp_path)
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert "oletools" in p.stderr and 'pip install "putuo-xl[addin]"' in p.stderr
