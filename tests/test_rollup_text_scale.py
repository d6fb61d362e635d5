"""Text at province scale: 任務進展's 說明 names at most rollup.bulletin_max_units units per
category and counts the rest; row heights count wrapped lines exactly as the character-by-
character rule does, with the shortcut for long texts."""
from __future__ import annotations

import random
import re
import shutil

from putuo_xl.config import config_from_dict, load_config
from putuo_xl.ledger.store import Ledger
from putuo_xl.rollup import compute
from putuo_xl.workbook import cells
from putuo_xl.workbook.readback import plan_from_workbook

LEDGER = "任務分解台賬.ledger.sqlite"
_WIDE = re.compile(r"[\u2e80-\uff60\uffe0-\uffe6“”‘’—…·]")


def _lines_by_characters(text: str, cap: float, size: float) -> int:
    """The rule itself: whole characters on a line while they fit, the next one on a new line."""
    if cells.text_units(text, size) <= cap:
        return 1
    scale = size / 10.5
    lines, used = 1, 0.0
    for ch in text:
        w = (2.0 if _WIDE.match(ch) else 1.0) * scale
        if used and used + w > cap:
            lines += 1
            used = 0.0
        used += w
    return lines


def test_wrapped_lines_are_counted_as_character_by_character():
    rnd = random.Random(2020)
    narrow, wide = list("abXZ019_ .-/"), list("縣區政府辦年月法治，。「」“”—…·")
    for _ in range(30000):
        pool = rnd.choice([narrow, wide, narrow + wide])
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(1, 200)))
        cap = rnd.choice([1, 1.5, 2, 3, 4.5, 7, 9, 12.7, 13, 26, 29.5, 43, 82.5])
        size = rnd.choice([9, 10, 10.5, 12, 16])
        assert cells.wrap_lines(text, cap, size) == _lines_by_characters(text, cap, size), \
            (text, cap, size)


def test_explanations_name_a_few_units_and_count_the_rest(year_demo, tmp_path):
    master = tmp_path / year_demo.master.name
    shutil.copy(year_demo.master, master)
    shutil.copy(year_demo.master.with_name(LEDGER), tmp_path / LEDGER)
    raw = load_config().raw
    raw["rollup"] = {**(raw.get("rollup") or {}), "bulletin_max_units": 2}
    cfg = config_from_dict(raw, "two.yaml")
    plan = plan_from_workbook(master, cfg)
    with Ledger(tmp_path / LEDGER) as led:
        progress = compute.compute_rollup(led, plan, cfg, "2020-03").progress
    counted = 0
    for _, row in progress.iterrows():
        for label, column in (("滯後", "滯後"), ("未啟動", "未啟動"), ("未填報", "未填報")):
            m = re.search(label + r"[:：]([^;；]*)", row["說明"])
            n = int(row[column])
            if not n:
                continue
            assert m, (row["任務編號"], row["說明"])
            names = m.group(1).split("、")
            assert len(names) == min(n, 2), row["說明"]
            if n > 2:
                assert names[-1].endswith(f"等{n}個單位"), row["說明"]
                counted += 1
            else:
                assert "等" not in m.group(1) or "個單位" not in m.group(1)
    assert counted, "the year demo has a task with more than two units in one category"
