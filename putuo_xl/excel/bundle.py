"""`putuo-xl addin --bundle DIR`: the folder an office hands to each PC.

    法治政府.xlam                       the add-in (putuo_xl.excel.xlam)
    wheelhouse-py3.11-win_amd64/       putuo-xl's wheel, built here, and every wheel it needs on
                                       64-bit Windows with that Python (pip download)
    install.ps1, 安裝.cmd              per-user install, offline (the .cmd runs the .ps1)
    uninstall.ps1, 卸載.cmd
    安裝說明.txt                        for the official, in the notice's script

pip resolves dependencies with the markers of the machine it runs on (Linux here), whatever
--platform says, so a Windows-only dependency (pywin32 for xlwings) would be missing: the
wheelhouse is checked against the requirements as Windows evaluates them and what is missing
is downloaded too. Scripts are written with CRLF line ends; the PowerShell scripts and the text
with a UTF-8 byte order mark (Windows PowerShell 5.1 reads a script without one as ANSI).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from putuo_xl.errors import InputError, PutuoError

DEFAULT_PYTHON = "3.11"
PLATFORM = "win_amd64"
ADDIN_FILE = "法治政府.xlam"
BOM = b"\xef\xbb\xbf"
# Python for Windows installers python.org still offers for each version (the notes' example)
PYTHON_EXAMPLE = {"3.11": "3.11.9", "3.12": "3.12.10", "3.13": "3.13.9"}
_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")


@dataclass
class Bundle:
    path: Path
    addin: Path
    wheelhouse: Path
    wheels: list[str]
    files: list[str]
    python_version: str
    seconds_download: float = 0.0
    added_for_windows: list[str] = field(default_factory=list)

    @property
    def wheelhouse_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.wheelhouse.iterdir())


def installer_dir() -> Path:
    from putuo_xl.resources import PACKAGE_DATA
    return PACKAGE_DATA / "installer"


def wheelhouse_name(python_version: str) -> str:
    return f"wheelhouse-py{python_version}-{PLATFORM}"


def source_root() -> Path:
    """The source checkout putuo-xl runs from (its wheel is built from it)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "setup.cfg").is_file() or not (root / "pyproject.toml").is_file():
        raise PutuoError("打包需要 putuo-xl 的源代碼文件夾(含 setup.cfg 和 pyproject.toml):"
                         "請在倉庫中運行 putuo-xl addin --bundle。")
    return root


# -- requirements as Windows sees them ---------------------------------------------------------
def windows_environment(python_version: str) -> dict[str, str]:
    """The marker environment of CPython `python_version` on 64-bit Windows."""
    return {"implementation_name": "cpython", "implementation_version": f"{python_version}.0",
            "os_name": "nt", "platform_machine": "AMD64", "platform_release": "10",
            "platform_system": "Windows", "platform_version": "10.0.19045",
            "python_full_version": f"{python_version}.0", "platform_python_implementation": "CPython",
            "python_version": python_version, "sys_platform": "win32"}


def _metadata(wheel: Path):
    from email.parser import BytesParser
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        return BytesParser().parsebytes(z.read(name))


def unmet_requirements(wheelhouse: Path, roots: list[str], python_version: str) -> list[str]:
    """Requirements, from `roots` down, that no wheel in `wheelhouse` satisfies when the
    markers are evaluated as on Windows (as requirement strings for pip)."""
    try:
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
        from packaging.version import Version
    except ImportError:
        raise PutuoError("核對安裝包需要 packaging 程序包:請運行 pip install \"putuo-xl[addin]\"。") from None

    env = windows_environment(python_version)
    wheels = {}
    for w in wheelhouse.glob("*.whl"):
        meta = _metadata(w)
        wheels[canonicalize_name(meta["Name"])] = (Version(meta["Version"]), meta.get_all("Requires-Dist") or [])
    unmet, seen = [], set()
    todo = [(Requirement(r), "") for r in roots]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate(dict(env, extra=extra)):
            continue
        name = canonicalize_name(req.name)
        have = wheels.get(name)
        if have is None or not req.specifier.contains(have[0], prereleases=True):
            unmet.append(str(Requirement(f"{req.name}{req.specifier}")))
            continue
        for x in [""] + sorted(req.extras):
            if (name, x) in seen:
                continue
            seen.add((name, x))
            todo += [(Requirement(r), x) for r in have[1]]
    return sorted(set(unmet))


# -- building and downloading ------------------------------------------------------------------
def _pip(args: list[str], what: str) -> None:
    r = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-8:])
        raise PutuoError(f"{what}失敗(pip 返回 {r.returncode}):\n{tail}")


def build_wheel(dest: Path) -> Path:
    """putuo-xl's wheel from a clean copy of the sources (never from a stale build/ folder)."""
    root = source_root()
    with tempfile.TemporaryDirectory(prefix="putuo-xl-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("setup.cfg", "pyproject.toml", "README.md"):
            shutil.copy2(root / name, src / name)
        shutil.copytree(root / "putuo_xl", src / "putuo_xl",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _pip(["wheel", "--no-deps", "--quiet", "-w", str(dest), str(src)], "生成 putuo-xl 的安裝包")
    wheels = sorted(dest.glob("putuo_xl-*.whl"))
    if not wheels:
        raise PutuoError("pip 沒有生成 putuo-xl 的安裝包(.whl)。")
    return wheels[-1]


def download_wheels(requirements: list[str], dest: Path, python_version: str) -> None:
    abi = "cp" + python_version.replace(".", "")
    _pip(["download", "--quiet", "--only-binary=:all:", "--platform", PLATFORM,
          "--python-version", python_version, "--implementation", "cp", "--abi", abi,
          "-d", str(dest), *requirements],
         f"下載 Windows 64 位、Python {python_version} 用的程序包(需要能訪問 PyPI)")


def fill_wheelhouse(dest: Path, python_version: str) -> tuple[list[str], float]:
    """putuo-xl's wheel and its dependencies for Windows in `dest`; returns what was added
    because of Windows-only markers, and the seconds spent downloading."""
    wheel = build_wheel(dest)
    t0 = time.monotonic()
    download_wheels([str(wheel)], dest, python_version)
    added: list[str] = []
    for _round in range(5):
        missing = unmet_requirements(dest, ["putuo-xl"], python_version)
        if not missing:
            return added, time.monotonic() - t0
        added += missing
        download_wheels(missing, dest, python_version)
    raise PutuoError(f"Windows 上需要的程序包仍不齊全:{', '.join(missing)}。")


# -- the scripts ---------------------------------------------------------------------------------
def render(template: str, values: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in values:
            raise KeyError(f"no value for @@{m.group(1)}@@")
        return values[m.group(1)]
    return _PLACEHOLDER.sub(sub, template)


def windows_text(text: str, bom: bool) -> bytes:
    """CRLF line ends, UTF-8, with a byte order mark when `bom`."""
    body = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    return (BOM if bom else b"") + body


def _xlwings_dll(wheelhouse: Path) -> str:
    for w in wheelhouse.glob("xlwings-*.whl"):
        with zipfile.ZipFile(w) as z:
            for n in z.namelist():
                m = re.fullmatch(r"xlwings-[^/]+\.data/data/(xlwings64-[^/]+\.dll)", n)
                if m:
                    return m.group(1)
    raise PutuoError("wheelhouse 中的 xlwings 安裝包裏沒有 xlwings64-*.dll。")


def _in_script(text: str, script: str) -> str:
    """Our traditional wording in `script`; punctuation untouched (there is code inside)."""
    from putuo_xl.text import SIMPLIFIED, to_simplified
    return to_simplified(text) if script == SIMPLIFIED else text


def script_names(script: str) -> dict[str, str]:
    return {"INSTALL_CMD": _in_script("安裝.cmd", script), "UNINSTALL_CMD": _in_script("卸載.cmd", script),
            "NOTES": _in_script("安裝說明.txt", script)}


def write_scripts(folder: Path, values: dict[str, str], script: str) -> list[Path]:
    """The install and uninstall scripts, their .cmd launchers and the notes, in `folder`."""
    values = {**values, **script_names(script)}
    if any("'" in v for v in values.values()):
        raise PutuoError("安裝腳本中的名稱不能含有單引號。")
    outputs = {"install.ps1": ("install.ps1", True), "uninstall.ps1": ("uninstall.ps1", True),
               values["INSTALL_CMD"]: ("install.cmd", False), values["UNINSTALL_CMD"]: ("uninstall.cmd", False),
               values["NOTES"]: ("install-notes.txt", True)}
    written = []
    for out, (template, bom) in outputs.items():
        text = render(installer_dir().joinpath(template).read_text("utf-8"), values)
        (folder / out).write_bytes(windows_text(_in_script(text, script), bom))
        written.append(folder / out)
    return written


def make_bundle(dest: str | Path, python_version: str = DEFAULT_PYTHON, script: str = "traditional",
                codepage: int | None = None) -> Bundle:
    """Write the install folder `dest`. Files of ours from an earlier run are replaced, anything
    else (a Python installer the office put there) is left as it is."""
    import xlwings

    from putuo_xl import __version__
    from putuo_xl.excel.addin import addin as check_and_build
    from putuo_xl.excel.xlam import ADDIN_TITLE

    if not re.fullmatch(r"3\.1[1-9]", python_version):
        raise InputError(f"Python 版本「{python_version}」不對:putuo-xl 需要 3.11 或更新,寫成 3.11、3.12 這樣。")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InputError("安裝文件夾的位置上已經有一個同名文件。", file=str(dest))
    dest.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".putuo-xl-bundle-", dir=dest))
    try:
        built = check_and_build(output=stage / ADDIN_FILE, codepage=codepage, script=script)
        if not built.check.ok or built.written is None:
            raise PutuoError("加載項沒有通過檢查:" + ";".join(built.check.problems))
        wh = stage / wheelhouse_name(python_version)
        wh.mkdir()
        added, seconds = fill_wheelhouse(wh, python_version)
        values = {"PYTHON_VERSION": python_version, "ADDIN_FILE": ADDIN_FILE,
                  "ADDIN_TITLE": ADDIN_TITLE, "WHEELHOUSE": wh.name,
                  "XLWINGS_DLL": _xlwings_dll(wh), "VERSION": __version__,
                  "XLWINGS_VERSION": xlwings.__version__,
                  "PYTHON_EXAMPLE": PYTHON_EXAMPLE.get(python_version, python_version + ".0")}
        write_scripts(stage, values, script)
        for old in dest.glob(f"wheelhouse-py*-{PLATFORM}"):
            shutil.rmtree(old)
        for other in ("traditional", "simplified"):             # an earlier run in the other script
            for name in script_names(other).values():
                (dest / name).unlink(missing_ok=True)
        for item in stage.iterdir():
            target = dest / item.name
            if target.is_dir():
                shutil.rmtree(target)
            item.replace(target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    wheels = sorted(p.name for p in (dest / wh.name).iterdir())
    files = sorted(p.name for p in dest.iterdir())
    return Bundle(dest, dest / ADDIN_FILE, dest / wh.name, wheels, files, python_version, seconds, added)
