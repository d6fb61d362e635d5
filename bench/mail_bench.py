"""Benchmark: mail the 44 forms of the seed plan to a local SMTP server (aiosmtpd, 127.0.0.1).

Measures: identifying every form (metadata + file-name check) and writing the .eml previews
(dry run), sending all of them over one SMTP connection, the re-run that must send nothing, the
re-run after `forms --force` (every file rewritten, no form changed) that must send nothing
either, and the bulletin's check that the master holds this month's rollup.
Writes bench/results/mail.md.

    .venv/bin/python bench/mail_bench.py
"""
from __future__ import annotations

import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


def main() -> None:
    from aiosmtpd.controller import Controller

    from putuo_xl.config import default_config_path, load_config
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.mail.forms import send_forms
    from putuo_xl.mail.master_sheets import bulletin_for, check_master_rollup
    from putuo_xl.rollup.run import rollup
    from putuo_xl.workbook.master import build_master

    class Count:
        def __init__(self):
            self.n = 0
            self.bytes = 0

        async def handle_DATA(self, server, session, envelope):
            self.n += 1
            self.bytes += len(envelope.original_content or envelope.content)
            return "250 OK"

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cfg0 = load_config()
        master = build_master(None, d / "任務分解台賬.xlsx", cfg0).path
        forms = write_forms(master, "2020-08", None, cfg0)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        raw = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
        for i, unit in enumerate(raw["units"]):
            raw["units"][unit]["email"] = [f"unit{i}@putuo.example.cn", f"unit{i}-b@putuo.example.cn"]
        raw["mail"]["smtp"].update(host="127.0.0.1", port=port)
        raw["mail"]["from"] = "普陀區依法治區辦 <fzdc@example.gov.cn>"
        (d / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        cfg = load_config(d / "config.yaml")

        handler = Count()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            t = time.perf_counter()
            dry = send_forms(forms.out_dir, "2020-08", cfg, dry_run_dir=d / "eml")
            t_dry = time.perf_counter() - t
            t = time.perf_counter()
            sent = send_forms(forms.out_dir, "2020-08", cfg)
            t_send = time.perf_counter() - t
            t = time.perf_counter()
            again = send_forms(forms.out_dir, "2020-08", cfg)
            t_again = time.perf_counter() - t
            time.sleep(1.1)                      # a new `created` second in every form
            write_forms(master, "2020-08", None, cfg0, force=True)
            t = time.perf_counter()
            regen = send_forms(forms.out_dir, "2020-08", cfg)
            t_regen = time.perf_counter() - t
        finally:
            controller.stop()
        n = len(sent.by_status("sent"))
        assert n == len(forms.units) == handler.n, (n, len(forms.units), handler.n)
        assert not again.to_send and handler.n == n
        assert not regen.to_send and {m.status for m in regen.messages} == {"already_sent"}
        rollup(master, "2020-08", cfg)
        t = time.perf_counter()
        check_master_rollup(master, "2020-08")
        t_month = time.perf_counter() - t
        text = bulletin_for(master, "2020-08", cfg)
        t = time.perf_counter()
        check_master_rollup(master, "2020-08", text)
        t_text = time.perf_counter() - t
        size = sum(p.stat().st_size for p in forms.units.values())
        lines = [
            "# mail benchmark",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
            f"Seed plan, 2020-08: {len(forms.units)} unit forms ({size / 1024:.0f} KiB in all), "
            f"2 addresses per unit, aiosmtpd on 127.0.0.1, one SMTP connection, send log in SQLite.",
            "",
            "| step | seconds | per form |",
            "| --- | ---: | ---: |",
            f"| dry run: identify {len(dry.messages)} forms + write .eml | {t_dry:.2f} | "
            f"{1000 * t_dry / len(dry.messages):.0f} ms |",
            f"| send {n} messages ({handler.bytes / 1024:.0f} KiB on the wire) | {t_send:.2f} | "
            f"{1000 * t_send / n:.0f} ms |",
            f"| re-run: nothing sent twice | {t_again:.2f} | {1000 * t_again / n:.0f} ms |",
            f"| re-run after `forms --force` (same forms, new files): nothing sent | {t_regen:.2f} | "
            f"{1000 * t_regen / n:.0f} ms |",
            "",
            "Bulletin: checking that the master's latest rollup is the month's "
            f"{1000 * t_month:.0f} ms; that its 通報 sheet says what the ledger says now "
            f"{1000 * t_text:.0f} ms (the text itself, computed from the ledger, is needed anyway).",
            "",
            "Identification reads each form's hidden `_form` sheet with python-calamine and "
            "checks it against the file name; a real server adds its own latency per message.",
        ]
        out = ROOT / "bench" / "results" / "mail.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
