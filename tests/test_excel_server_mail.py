"""發送月報 and 發送通報 as the Office.js add-in runs them: script calls over HTTP to a real
xlwings Server, which sends through a real SMTP server (aiosmtpd on 127.0.0.1) configured in
the server's data folder; first with 郵件只預覽 (only .eml files in the project folder, nothing
sent), then for real."""
from __future__ import annotations

import email
import email.policy

from mail_helpers import body_text, cert, decoded_attachments, smtp_server, write_config  # noqa: F401
from test_excel_server import ServerMaster, running_server

from collect_kit import Form, set_mtime

MONTH = "2020-08"
FORM_RCPTS = ["jyj-office@putuo.example.cn", "jyj@putuo.example.cn", "sfj@putuo.example.cn",
              "sjm@putuo.example.cn"]


def _alert(out) -> str:
    return [a for a in out["actions"] if a["func"] == "alert"][-1]["args"][0]


def _rcpts(received) -> list[str]:
    return sorted(r for m in received for r in m.rcpt_tos)


def test_send_forms_and_bulletin_over_http(tmp_path, smtp_server):
    smtp = smtp_server()
    data = tmp_path / "data"
    data.mkdir()
    write_config(data / "config.yaml", smtp.port)     # the server's config: addresses + this SMTP
    with running_server(data) as client:
        w = ServerMaster(client)
        w.run("make_forms", MONTH)
        forms = w.folder / f"{MONTH}_月報"

        # 發送月報, preview only
        out = w.run("send_forms", MONTH, dry_run="是")
        assert smtp.received == []
        emls = sorted((w.folder / "郵件預覽" / MONTH / "forms").glob("*.eml"))
        assert len(emls) == 3 and "預覽" in _alert(out)
        preview = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
        name, content = decoded_attachments(preview)[0]
        assert content == (forms / name).read_bytes()

        # for real
        out = w.run("send_forms", MONTH)
        assert "已發送 3 封" in _alert(out) and "沒有填寫郵箱" in _alert(out)
        assert _rcpts(smtp.received) == FORM_RCPTS
        sfj = next(m for m in smtp.received if m.rcpt_tos == ["sfj@putuo.example.cn"]).msg
        [(name, content)] = decoded_attachments(sfj)
        assert "區司法局" in name and content == (forms / name).read_bytes()
        # pressed again: nothing is sent twice
        out = w.run("send_forms", MONTH)
        assert len(smtp.received) == 3

        # a return comes in, the rollup is refreshed
        src = next(forms.glob("*_區司法局_*.xlsx"))
        f = Form(src)
        f.fill_all(status="已完成", progress=1.0, actual=95)
        (w.folder / "回報" / MONTH).mkdir(parents=True)
        ret = f.save(w.folder / "回報" / MONTH / src.name)
        set_mtime(ret, "2020-09-03 10:00")
        w.run("collect_returns", MONTH)
        w.run("refresh_rollup", MONTH)

        # 發送通報, preview then for real
        before = len(smtp.received)
        out = w.run("send_bulletin", MONTH, dry_run="是")
        assert len(smtp.received) == before
        assert len(list((w.folder / "郵件預覽" / MONTH / "bulletin").glob("*.eml"))) == 1
        out = w.run("send_bulletin", MONTH)
        assert "已發送" in _alert(out), _alert(out)
        new = smtp.received[before:]
        assert _rcpts(new) == ["fzb@putuo.example.cn", "quzhang@putuo.example.cn"]
        msg = new[0].msg
        body = body_text(msg)
        assert "2020年8月" in msg["subject"] and "預評估通報" in msg["subject"]
        assert "關於2020年8月法治政府建設工作推進情況的預評估通報" in body
        # the attachment is the server's master with this month's 工作報表
        [(name, content)] = decoded_attachments(msg)
        assert content == w.master.read_bytes()
        import io

        import openpyxl
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        try:
            assert "預評估" in wb.sheetnames and "月度匯總" in wb.sheetnames
        finally:
            wb.close()
