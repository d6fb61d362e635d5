"""`putuo-xl addin --bundle DIR`: the install folder for the offices' PCs, built once per run
(pip downloads the Windows wheels from PyPI; pip's cache makes later runs quick).

There is no PowerShell on this machine (none from Debian, PyPI or npm that runs offline), so the
scripts are checked with tree-sitter's PowerShell grammar (a parser from PyPI), for the cmdlets
they call, their encoding, and against the folder they sit in; what only Windows can show is in
docs/addin-windows-checklist.md."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell

from putuo_xl.excel import bundle as B
from putuo_xl.excel import xlam as X

ROOT = Path(__file__).resolve().parents[1]
PY = "3.11"
# Cmdlets of Windows PowerShell 5.1 the scripts may call (besides their own functions).
PS51_CMDLETS = {
    "Copy-Item", "ForEach-Object", "Get-ChildItem", "Get-Command", "Get-ItemProperty", "Get-Process",
    "Join-Path", "New-Item", "New-ItemProperty", "New-Object", "Out-Host", "Out-Null", "Remove-Item",
    "Remove-ItemProperty", "Select-Object", "Set-StrictMode", "Sort-Object", "Start-Process", "Test-Path",
    "Unblock-File", "Where-Object", "Write-Host"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "法治政府加載項"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "addin", "--bundle", str(out),
                        "--python-version", PY], capture_output=True, text=True, encoding="utf-8")
    assert r.returncode == 0, r.stderr
    print(f"\nbundle built in {time.monotonic() - t0:.1f} s:\n{r.stderr}")
    return out


def wheelhouse(bundle: Path) -> Path:
    return bundle / f"wheelhouse-py{PY}-win_amd64"


def ps_parse(path: Path):
    raw = path.read_bytes()
    assert raw.startswith(B.BOM)
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(raw[len(B.BOM):])


def nodes(node, kinds):
    if node.type in kinds:
        yield node
    for c in node.children:
        yield from nodes(c, kinds)


def test_the_folder_holds_what_an_office_needs(bundle):
    names = {p.name for p in bundle.iterdir()}
    assert names == {"法治政府.xlam", f"wheelhouse-py{PY}-win_amd64", "install.ps1", "uninstall.ps1",
                     "安裝.cmd", "卸載.cmd", "安裝說明.txt"}
    wheels = sorted(p.name for p in wheelhouse(bundle).iterdir())
    assert any(w.startswith("putuo_xl-0.1.0-py3-none-any") for w in wheels)
    assert any(w.startswith("xlwings-0.37.8-cp311-cp311-win_amd64") for w in wheels)
    assert any(w.startswith("pywin32-") for w in wheels)          # Windows-only: pip on Linux skips it
    for w in wheels:
        assert w.endswith(("-py3-none-any.whl", "-py2.py3-none-any.whl", "-cp311-cp311-win_amd64.whl",
                           "-cp311-abi3-win_amd64.whl")), w
    # the add-in is the one `putuo-xl addin -o` builds
    assert (bundle / "法治政府.xlam").read_bytes() == X.build_addin(bundle / ".check.xlam").path.read_bytes()
    (bundle / ".check.xlam").unlink()
    # putuo-xl's own wheel carries the add-in sources and the installer templates
    wheel = next(wheelhouse(bundle).glob("putuo_xl-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        assert {"putuo_xl/data/macros/xlwings.bas", "putuo_xl/data/installer/install.ps1",
                "putuo_xl/excel/vba/ovba.py"} <= set(z.namelist())


def test_wheelhouse_installs_offline_for_windows(bundle, tmp_path):
    wh = wheelhouse(bundle)
    report = tmp_path / "report.json"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--isolated", "--no-index", "--find-links", str(wh),
                        "--platform", "win_amd64", "--python-version", PY, "--implementation", "cp",
                        "--abi", "cp311", "--only-binary=:all:", "--target", str(tmp_path / "target"),
                        "--dry-run", "--report", str(report), "putuo-xl"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}
    assert got["putuo-xl"] == "0.1.0" and got["xlwings"] == "0.37.8"
    assert {"pandas", "numpy", "lxml", "openpyxl", "python-calamine", "xlsxwriter"} <= set(got)
    # pip evaluated the markers as Linux would; as Windows evaluates them nothing is missing
    assert B.unmet_requirements(wh, ["putuo-xl"], PY) == []
    # and that check sees a missing Windows-only wheel
    partial = tmp_path / "partial"
    shutil.copytree(wh, partial, ignore=shutil.ignore_patterns("pywin32-*"))
    assert B.unmet_requirements(partial, ["putuo-xl"], PY) == ["pywin32>=224"]


def test_scripts_are_utf8_with_bom_and_crlf(bundle):
    for name in ("install.ps1", "uninstall.ps1", "安裝說明.txt"):
        raw = (bundle / name).read_bytes()
        assert raw.startswith(B.BOM), name                    # PowerShell 5.1 reads BOM-less files as ANSI
        text = raw[3:].decode("utf-8")
        assert "\n" not in text.replace("\r\n", ""), name
        assert "@@" not in text, name
        assert re.search(r"[\u4e00-\u9fff]", text), name
    for name in ("安裝.cmd", "卸載.cmd"):
        raw = (bundle / name).read_bytes()
        raw.decode("ascii")                                   # cmd.exe reads a batch file in the OEM code page
        assert b"\n" not in raw.replace(b"\r\n", b"")
        target = "install.ps1" if name == "安裝.cmd" else "uninstall.ps1"
        assert f'-ExecutionPolicy Bypass -File "%~dp0{target}" %*'.encode() in raw


@pytest.mark.parametrize("name", ["install.ps1", "uninstall.ps1"])
def test_powershell_scripts_parse_and_call_only_what_exists(bundle, name):
    tree = ps_parse(bundle / name)
    errors = [(n.type, n.start_point, n.text[:60]) for n in nodes(tree.root_node, {"ERROR"})]
    assert not tree.root_node.has_error and not errors, errors
    defined = {n.text.decode() for n in nodes(tree.root_node, {"function_name"})}
    called = {n.text.decode() for n in nodes(tree.root_node, {"command_name"})}
    assert called - defined - PS51_CMDLETS == set()
    text = (bundle / name).read_text("utf-8-sig")
    code = "\n".join(line.split("#")[0] for line in text.splitlines())
    for ps7_only in ("&&", "||", "??", "?.", "$PSStyle", "-Parallel"):
        assert ps7_only not in code, ps7_only


def test_a_syntax_error_is_seen(tmp_path):
    broken = tmp_path / "b.ps1"
    good = (B.installer_dir() / "install.ps1").read_text("utf-8")
    broken.write_bytes(B.BOM + good.replace("if ($null -eq $py) {", "if ($null -eq $py", 1).encode())
    assert ps_parse(broken).root_node.has_error


def test_install_script_agrees_with_the_folder_and_the_addin(bundle, tmp_path):
    text = (bundle / "install.ps1").read_text("utf-8-sig")
    value = {k: re.search(rf"^\${k} = '([^']*)'", text, re.M).group(1)
             for k in ("PythonVersion", "AddinName", "WheelhouseName", "XlwingsDll")}
    assert value["PythonVersion"] == PY
    assert (bundle / value["AddinName"]).is_file() and (bundle / value["WheelhouseName"]).is_dir()
    # the DLL the script checks for is the one the xlwings wheel puts in the environment's root,
    # and the one the add-in's VBA loads from there (LoadLibrary of ParentFolder(ParentFolder(pythonw)))
    xlwings_whl = next((bundle / value["WheelhouseName"]).glob("xlwings-*.whl"))
    assert f"xlwings-0.37.8.data/data/{value['XlwingsDll']}" in zipfile.ZipFile(xlwings_whl).namelist()
    vba = (ROOT / "putuo_xl" / "data" / "macros" / "xlwings.bas").read_text("utf-8")
    assert f'Const XLPyDLLName As String = "{value["XlwingsDll"]}"' in vba
    assert "ParentFolder(ParentFolder(PYTHON_WIN)) + \"\\\" + XLPyDLLName" in vba
    # the uninstaller removes the same file
    assert f"$AddinName = '{value['AddinName']}'" in (bundle / "uninstall.ps1").read_text("utf-8-sig")
    # the script's configure call, run here with the same arguments, writes the interpreter
    call = re.search(r"Invoke-Tool \$VenvPython @\(('-m', 'putuo_xl', 'addin', [^)]*)\)", text).group(1)
    args = [a.strip().strip("'") for a in call.split(",")]
    assert args == ["-m", "putuo_xl", "addin", "--configure", "$Target", "--interpreter", "$VenvPythonw"]
    target = tmp_path / value["AddinName"]
    shutil.copy(bundle / value["AddinName"], target)
    pythonw = "C:\\Users\\王五\\AppData\\Local\\putuo-xl\\venv\\Scripts\\pythonw.exe"
    r = subprocess.run([sys.executable, *[{"$Target": str(target), "$VenvPythonw": pythonw}.get(a, a) for a in args]],
                       capture_output=True, text=True, encoding="utf-8")
    assert r.returncode == 0, r.stderr
    assert X.read_config(target)["Interpreter_Win"] == pythonw
    # the script installs putuo-xl by the name pip resolves from the wheelhouse, offline
    assert "'--no-index', '--find-links', $Wheelhouse" in text and "'putuo-xl')" in text
    # registration and trust: per user (HKCU), Excel's OPEN list, add-in folder
    assert "HKCU:\\Software\\Microsoft\\Office\\$v\\Excel\\Options" in text
    assert "'/R \"' + $Target + '\"'" in text
    assert "Join-Path $env:APPDATA 'Microsoft\\AddIns'" in text
    assert "Get-ChildItem -LiteralPath $Here -Recurse -File | Unblock-File" in text


def test_notes_tell_an_official_what_to_do(bundle):
    notes = (bundle / "安裝說明.txt").read_text("utf-8-sig")
    for needed in ("Python 3.11(64 位)", "python-3.11.9-amd64.exe", "解除鎖定", "Unblock-File", "受信任位置",
                   "宏", "雙擊「安裝.cmd」", "「卸載.cmd」", "禁用項目", "法治政府.xlam", f"wheelhouse-py{PY}-win_amd64",
                   "%APPDATA%\\Microsoft\\AddIns\\", "xlwings 0.37.8"):
        assert needed in notes, needed
    assert "安装" not in notes                                   # the bundled notice is traditional


def test_simplified_scripts(tmp_path):
    values = {"PYTHON_VERSION": PY, "ADDIN_FILE": "法治政府.xlam", "ADDIN_TITLE": "法治政府",
              "WHEELHOUSE": "wheelhouse-py3.11-win_amd64", "XLWINGS_DLL": "xlwings64-0.37.8.dll",
              "VERSION": "0.1.0", "XLWINGS_VERSION": "0.37.8", "PYTHON_EXAMPLE": "3.11.9"}
    written = {p.name for p in B.write_scripts(tmp_path, values, "simplified")}
    assert written == {"install.ps1", "uninstall.ps1", "安装.cmd", "卸载.cmd", "安装说明.txt"}
    notes = (tmp_path / "安装说明.txt").read_text("utf-8-sig")
    assert "双击「安装.cmd」" in notes and "安裝" not in notes
    text = (tmp_path / "install.ps1").read_text("utf-8-sig")
    assert "安装没有完成" in text and "「卸载.cmd」" in text
    assert not ps_parse(tmp_path / "install.ps1").root_node.has_error
    with pytest.raises(B.PutuoError, match="單引號"):
        B.write_scripts(tmp_path, {**values, "ADDIN_FILE": "it's.xlam"}, "traditional")


def test_python_version_is_checked(tmp_path):
    with pytest.raises(B.InputError, match="3.11 或更新"):
        B.make_bundle(tmp_path / "x", python_version="3.9")
