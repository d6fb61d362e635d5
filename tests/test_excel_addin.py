"""The desktop add-in without Excel: ribbon XML ↔ VBA callbacks ↔ Python actions, the .xlam
zip patch (VBA project byte-identical), and the generated Office.js files being current."""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlwings

from putuo_xl.errors import InputError
from putuo_xl.excel import addin as A
from putuo_xl.excel import officejs
from putuo_xl.excel.actions import ACTIONS

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "putuo_xl" / "data" / "macros"
QUICKSTART = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"   # made by Excel


def _sha(z: zipfile.ZipFile, name: str) -> str:
    return hashlib.sha256(z.read(name)).hexdigest()


def test_repository_ribbon_vba_and_actions_agree():
    res = A.addin()
    assert res.check.ok, res.check.problems
    _root, controls = A.parse_ribbon((MACROS / "customUI.xml").read_bytes())
    buttons = [c for c in controls if c.kind == "button"]
    assert sorted(c.tag for c in buttons) == sorted(ACTIONS)
    assert {c.label for c in buttons} >= {"生成台賬", "生成月報", "導入回報", "刷新匯總", "單位視圖",
                                         "發送月報", "催報", "發送通報", "診斷"}
    assert {c.callbacks["onAction"] for c in buttons} == {"RibbonPutuo.RunTagged"}
    ribbon = next(m for m in A.vba_from_bas(MACROS) if m.name == "RibbonPutuo")
    assert "import putuo_xl.excel.desktop as d; d.run('" in ribbon.code


def test_vba_sources_are_ascii_and_xlwings_module_matches_installed_version():
    for p in MACROS.glob("*.bas"):
        p.read_bytes().decode("ascii")
    ours = (MACROS / "xlwings.bas").read_text("ascii").splitlines()
    shipped = (Path(xlwings.__file__).parent / "xlwings_custom_addin.bas").read_text("ascii").splitlines()
    diff = [(a, b) for a, b in zip(ours, shipped) if a != b]
    assert len(ours) == len(shipped)
    assert diff == [('Public Const PROJECT_NAME As String = "putuo_xl"',
                     'Public Const PROJECT_NAME As String = "myaddin"')]


def test_a_button_pointing_at_nothing_fails_the_check(tmp_path):
    xml = (MACROS / "customUI.xml").read_text("utf-8")
    bad_tag = xml.replace('tag="refresh_rollup"', 'tag="refresh_everything"')
    _r, controls = A.parse_ribbon(bad_tag)
    chk = A.check_ribbon(controls, A.vba_from_bas(MACROS))
    assert any("refresh_everything" in p for p in chk.problems)
    assert any("刷新匯總" in p and "沒有按鈕" in p for p in chk.problems)
    bad_cb = xml.replace('onAction="RibbonPutuo.RunTagged"/>\n        </group>\n        <group id="putuoGroupForms"',
                         'onAction="RibbonPutuo.RunMissing"/>\n        </group>\n        <group id="putuoGroupForms"')
    assert bad_cb != xml
    _r, controls = A.parse_ribbon(bad_cb)
    chk = A.check_ribbon(controls, A.vba_from_bas(MACROS))
    assert any("RibbonPutuo.RunMissing" in p and "找不到" in p for p in chk.problems)
    # and through the CLI: exit code 1 with the problem on stderr
    (tmp_path / "customUI.xml").write_text(bad_tag, "utf-8")
    r = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "addin", "--ribbon", str(tmp_path / "customUI.xml")],
                       capture_output=True, text=True, encoding="utf-8")
    assert r.returncode == 1 and "refresh_everything" in r.stderr


def test_patch_xlam_keeps_every_other_part_byte_identical(tmp_path):
    out = tmp_path / "putuo_xl.xlam"
    ribbon = (MACROS / "customUI.xml").read_bytes()
    A.patch_xlam(QUICKSTART, ribbon, out)
    with zipfile.ZipFile(QUICKSTART) as zin, zipfile.ZipFile(out) as zout:
        assert zout.testzip() is None
        assert zout.read(A.CUSTOMUI_PART) == ribbon
        assert sorted(zin.namelist()) == sorted(zout.namelist())
        for name in zin.namelist():
            if name != A.CUSTOMUI_PART:
                assert _sha(zin, name) == _sha(zout, name), name
    # the VBA still decodes, and it is the quickstart's: our ribbon's callback is not in it
    mods = A.vba_from_xlam(out)
    assert "RibbonMyAddin" in {m.name for m in mods}
    res = A.addin(xlam=out)
    assert not res.check.ok
    assert any("RibbonPutuo.RunTagged" in p for p in res.check.problems)
    # a ribbon that calls what the quickstart's VBA has passes the callback check
    xml = ribbon.decode("utf-8").replace("RibbonPutuo.RunTagged", "RibbonMyAddin.RunMain")
    _r, controls = A.parse_ribbon(xml)
    chk = A.check_ribbon(controls, mods, actions={})
    assert chk.ok, chk.problems


def test_patch_adds_the_ribbon_relationship_when_the_addin_has_none(tmp_path):
    bare = tmp_path / "bare.xlam"
    with zipfile.ZipFile(QUICKSTART) as zin, zipfile.ZipFile(bare, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == A.CUSTOMUI_PART:
                continue
            data = zin.read(info.filename)
            if info.filename == A.RELS_PART:
                data = re.sub(rb'<Relationship [^>]*ui/extensibility[^>]*/>', b"", data)
            zout.writestr(info, data)
    assert A.read_xlam_ribbon(bare) is None
    out = tmp_path / "with_ribbon.xlam"
    A.patch_xlam(bare, (MACROS / "customUI.xml").read_bytes(), out)
    assert A.read_xlam_ribbon(out) == (MACROS / "customUI.xml").read_bytes()


def test_patch_refuses_a_file_without_vba(tmp_path):
    p = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(InputError, match="沒有 VBA 工程"):
        A.patch_xlam(p, (MACROS / "customUI.xml").read_bytes(), tmp_path / "o.xlam")


def test_cli_writes_the_addin_only_when_the_check_passes(tmp_path):
    out = tmp_path / "o.xlam"
    r = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "addin", "--xlam", str(QUICKSTART), "-o", str(out)],
                       capture_output=True, text=True, encoding="utf-8")
    assert r.returncode == 1 and not out.exists()
    assert "RibbonPutuo.RunTagged" in r.stderr
    r = subprocess.run([sys.executable, "-m", "putuo_xl.cli", "addin"], capture_output=True, text=True,
                       encoding="utf-8")
    assert r.returncode == 0, r.stderr
    assert "按鈕對應操作 11 個" in r.stderr


def test_office_js_files_are_generated_from_the_actions():
    assert officejs.main([]) == 0, "run: python -m putuo_xl.excel.officejs --write"
