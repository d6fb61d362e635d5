"""`putuo-xl mail forms|remind|bulletin`: thin adapters over putuo_xl.mail."""
from __future__ import annotations

from click.testing import CliRunner

from mail_helpers import (MONTH, PASSWORD, USER, cert, free_port, load, make_master,  # noqa: F401
                          seed_forms, seed_forms_session, smtp_server, with_bulletin, write_config)
from putuo_xl.cli.commands import main
from putuo_xl.text import narrow

ENV = "PUTUO_XL_TEST_SMTP_PASSWORD"


def run(*args, input=None, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input, env=env)
    return result.exit_code, result.output


def test_mail_forms_dry_run_confirm_and_yes(tmp_path, seed_forms, smtp_server):
    server = smtp_server()
    cfg = write_config(tmp_path / "c.yaml", server.port)
    _, forms_dir, _ = seed_forms
    # 41 units have no address in this config: every run says so and exits 1 (a batch script
    # must see that units were left out), the preview too
    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--dry-run", tmp_path / "eml",
                    "--config", cfg)
    assert code == 1, out
    assert "預覽(不發送) 3 封郵件" in narrow(out) and "預覽:寫出 3 封郵件" in narrow(out)
    assert "41 個單位在 config.yaml 中沒有填寫郵箱" in out and "、區財政局、" in out
    assert len(list((tmp_path / "eml").glob("*.eml"))) == 3 and server.received == []

    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--config", cfg, input="n\n")
    assert code == 1 and "已取消,沒有發送任何郵件" in narrow(out) and server.received == []
    assert "確認發送這 3 封郵件?" in narrow(out)

    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--config", cfg, input="y\n")
    assert code == 1, out
    assert len(server.received) == 3
    assert "已發送 3 封月報填報表" in out and "✓ 區教育局 收到" in out

    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--config", cfg, "--yes")
    assert code == 1 and len(server.received) == 3
    assert "此前已發送、本次未重發 3 封" in out and "沒有需要發送的郵件" in out

    # --resend --unit: that unit's form again, nobody else's
    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--config", cfg, "--yes",
                    "--resend", "--unit", "區教育局")
    assert code == 0, out
    assert len(server.received) == 4 and "已發送 1 封月報填報表" in out
    assert sorted(server.received[-1].rcpt_tos) == ["jyj-office@putuo.example.cn", "jyj@putuo.example.cn"]
    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--config", cfg, "--yes",
                    "--unit", "區不存在局")
    assert code == 1 and "不認識的單位「區不存在局」" in out and len(server.received) == 4


def test_mail_password_prompt_and_failure_exit(tmp_path, seed_forms, smtp_server, cert):
    server = smtp_server(security="starttls", auth=True)
    cfg = write_config(tmp_path / "c.yaml", server.port, security="starttls", user=USER,
                       ca_file=str(cert[0]))
    _, forms_dir, _ = seed_forms
    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--config", cfg,
                    input=f"y\n{PASSWORD}\n", env={ENV: None})
    assert code == 1 and "41 個單位在 config.yaml 中沒有填寫郵箱" in out, out
    assert "SMTP 密碼(fzdc@example.gov.cn)" in out and PASSWORD not in out
    assert server.auth.logins == [USER] and len(server.received) == 3

    down = write_config(tmp_path / "down.yaml", free_port(),
                        extra_mail={"retries": 0, "retry_wait_seconds": 0})
    code, out = run("mail", "forms", forms_dir, "--month", MONTH, "--config", down, "--yes",
                    "--master", forms_dir.parent / "任務分解台賬.xlsx", "--resend-uncertain")
    # the master's ledger already says all three went: nothing to do, nothing fails (the 41
    # units without an address still make it exit 1)
    assert code == 1 and "此前已發送" in out and "發送失敗" not in out
    other = tmp_path / "other"
    other.mkdir()
    for f in list(forms_dir.glob("*區司法局*")):
        (other / f.name).write_bytes(f.read_bytes())
    code, out = run("mail", "forms", other, "--month", MONTH, "--config", down, "--yes")
    assert code == 1 and "連接被拒絕" in out and "發送失敗 1 封" in out


def test_mail_remind_and_bulletin(tmp_path, smtp_server, seed_forms):
    server = smtp_server()
    cfg = write_config(tmp_path / "c.yaml", server.port)
    master = seed_forms[0]
    with_bulletin(master, load(cfg))
    # the seed ledger has 44 issued forms and no returns: 3 units with addresses are reminded
    code, out = run("mail", "remind", master, "--month", MONTH, "--config", cfg, "--yes")
    assert code == 1, out                     # 41 units could not be reminded (no address)
    assert "已發送 3 封催報" in out and len(server.received) == 3
    assert "41 個單位在 config.yaml 中沒有填寫郵箱" in out
    # units that have not reported get their form again, from the forms folder beside the master
    from mail_helpers import decoded_attachments
    forms = seed_forms[2].units
    for rec in server.received:
        (name, data), = decoded_attachments(rec.msg)
        unit = next(u for u in ("區司法局", "區教育局", "沈家門街道") if u in name)
        assert (name, data) == (forms[unit].name, (seed_forms[1] / forms[unit].name).read_bytes())
    code, out = run("mail", "bulletin", master, "--month", MONTH, "--config", cfg, "--yes")
    assert code == 0, out
    assert "已發送 1 封通報" in out and len(server.received) == 4
    assert server.received[-1].rcpt_tos == ["quzhang@putuo.example.cn", "fzb@putuo.example.cn"]
    code, out = run("mail", "bulletin", master, "--month", MONTH, "--config", cfg, "--yes")
    assert code == 0 and len(server.received) == 4 and "此前已發送" in out
    code, out = run("mail", "bulletin", master, "--month", MONTH, "--config", cfg, "--yes",
                    "--resend")
    assert code == 0 and len(server.received) == 5, out
    first, again = server.received[3].msg, server.received[4].msg
    assert first["message-id"] != again["message-id"], "a deliberate resend is a new message"


def test_mail_user_errors(tmp_path, seed_forms):
    cfg = write_config(tmp_path / "c.yaml", 25)
    _, forms_dir, _ = seed_forms
    code, out = run("mail", "forms", forms_dir, "--month", "2020-8", "--config", cfg)
    assert code == 1 and "錯誤:" in narrow(out) and "YYYY-MM" in out
    master = make_master(tmp_path / "無.xlsx")
    code, out = run("mail", "remind", master, "--month", MONTH, "--config", cfg)
    assert code == 1 and "找不到台賬" in out
