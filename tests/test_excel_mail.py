"""The three mail buttons on the desktop route, against a real SMTP server (aiosmtpd on
127.0.0.1): forms to each unit, reminders to the units that have not reported, the bulletin;
and the 郵件只預覽 setting, which writes .eml files and sends nothing."""
from __future__ import annotations

import pytest

from mail_helpers import cert, smtp_server, write_config  # noqa: F401
from putuo_xl.config import load_config
from putuo_xl.excel import actions
from putuo_xl.workbook.master import build_master

from test_excel_flow import MONTH, acts, alert, fill_returns, open_master, settings_rows


@pytest.fixture
def world(tmp_path, smtp_server):
    server = smtp_server()
    cfg_path = write_config(tmp_path / "config.yaml", server.port)
    cfg = load_config(cfg_path)
    folder = tmp_path / "台賬"
    master = build_master(None, output=folder / "任務分解台賬.xlsx", config=cfg).path
    return server, cfg_path, folder, master


def rcpts(server):
    return sorted(r for m in server.received for r in m.rcpt_tos)


def test_mail_buttons_send_through_smtp(world):
    server, cfg_path, folder, master = world
    settings = settings_rows(config=str(cfg_path))
    for tag in ("make_forms", "send_forms"):
        book = open_master(master, settings=settings)
        try:
            actions.run_action(tag, book)
            msg = alert(book)
        finally:
            book.close()
    assert rcpts(server) == ["jyj-office@putuo.example.cn", "jyj@putuo.example.cn",
                             "sfj@putuo.example.cn", "sjm@putuo.example.cn"]
    assert "已發送 3 封" in msg
    assert "沒有填寫郵箱" in msg                   # units without an address: reported, not sent

    fill_returns(folder / "2020-08_月報", folder / "回報" / MONTH, {"區司法局": "已完成"})
    before = len(server.received)
    for tag in ("collect_returns", "send_reminders"):
        book = open_master(master, settings=settings)
        try:
            actions.run_action(tag, book)
            msg = alert(book)
        finally:
            book.close()
    reminded = sorted(r for m in server.received[before:] for r in m.rcpt_tos)
    assert "sfj@putuo.example.cn" not in reminded
    assert "sjm@putuo.example.cn" in reminded and "jyj@putuo.example.cn" in reminded

    before = len(server.received)
    book = open_master(master, settings=settings)
    try:
        actions.run_action("refresh_rollup", book)
    finally:
        book.close()
    # 發送通報 saves the book first (a "save" action for Excel); Excel then writes the refreshed
    # 工作報表 into the file. The remote engine only records the save, so the file gets them here.
    from putuo_xl.rollup.run import rollup
    rollup(master, MONTH, load_config(cfg_path))
    book = open_master(master, settings=settings)
    try:
        actions.run_action("send_bulletin", book)
        msg = alert(book)
        assert acts(book, "save"), "the book is saved before its file is attached"
    finally:
        book.close()
    assert sorted(r for m in server.received[before:] for r in m.rcpt_tos) == [
        "fzb@putuo.example.cn", "quzhang@putuo.example.cn"]
    assert "已發送" in msg


def test_preview_only_writes_eml_files(world):
    server, cfg_path, folder, master = world
    settings = settings_rows(config=str(cfg_path), dry_run="是")
    for tag in ("make_forms", "send_forms"):
        book = open_master(master, settings=settings)
        try:
            actions.run_action(tag, book)
            msg = alert(book)
            log = [a for a in acts(book, "setValues")]
        finally:
            book.close()
    assert server.received == []
    emls = list((folder / "郵件預覽" / MONTH / "forms").glob("*.eml"))
    assert len(emls) == 3 and "預覽" in msg and log
