"""What the units wrote in a month (工作進展, 存在問題, 下步計劃), each distinct text of a task once
with who wrote it: computed from the month's report rows while the rollup reads them, and kept
with the month's snapshot, so that the 年度報告 does not read a year of rows again.

Texts are kept as written, only without the 【示例數據】 mark the demo puts before each sample
text and without surrounding spaces.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("progress_text", "problems", "next_steps")
SAMPLE_PREFIXES = ("【示例數據】", "【示例数据】")


def clean(text) -> str:
    s = str(text or "").strip()
    for p in SAMPLE_PREFIXES:
        if s.startswith(p):
            s = s[len(p):].strip()
    return s


@dataclass
class KindTexts:
    """One kind of text in one month: the distinct (task, text) pairs and, per unit that wrote
    one, which pair (index), the unit (index into `units`) and the submission."""
    tasks: list[str]
    texts: list[str]
    units: list[str]
    text_idx: np.ndarray    # int32 per (text, unit)
    unit_idx: np.ndarray    # int32
    sid: np.ndarray         # int64


@dataclass
class MonthTexts:
    month: str
    kinds: dict[str, KindTexts]

    def save(self, path: Path, key: str) -> None:
        arrays = {"key": np.array([key]), "month": np.array([self.month])}
        for k, kt in self.kinds.items():
            arrays.update({f"{k}.tasks": np.array(kt.tasks, dtype=str),
                           f"{k}.texts": np.array(kt.texts, dtype=str),
                           f"{k}.units": np.array(kt.units, dtype=str),
                           f"{k}.text_idx": kt.text_idx, f"{k}.unit_idx": kt.unit_idx,
                           f"{k}.sid": kt.sid})
        with open(path, "wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: Path, key: str) -> "MonthTexts | None":
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"][0]) != key:
                    return None
                kinds = {}
                for k in KINDS:
                    kinds[k] = KindTexts(z[f"{k}.tasks"].tolist(), z[f"{k}.texts"].tolist(),
                                         z[f"{k}.units"].tolist(), z[f"{k}.text_idx"],
                                         z[f"{k}.unit_idx"], z[f"{k}.sid"])
                return cls(str(z["month"][0]), kinds)
        except (OSError, ValueError, KeyError, IndexError):
            return None


def month_texts(month: str, rows: list) -> MonthTexts:
    """From the month's report rows (submission id, unit, month, task id, status, progress,
    工作進展, 存在問題, 下步計劃), the submissions in force only. Strings are hashed a column at a
    time (pandas.factorize): a province's month is 175,000 rows."""
    import pandas as pd

    if not rows:
        empty = KindTexts([], [], [], np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64))
        return MonthTexts(month, {k: empty for k in KINDS})
    cols = list(zip(*rows))
    sid = np.array(cols[0], dtype=np.int64)
    ucode, unames = pd.factorize(np.array(cols[1], dtype=object))
    tcode, tnames = pd.factorize(np.array(cols[3], dtype=object))
    units = [str(u) for u in unames]
    kinds = {}
    for k, kind in enumerate(KINDS):
        xcode, xnames = pd.factorize(np.array(cols[6 + k], dtype=object))     # None → -1
        canon: dict[str, int] = {}
        cmap = np.array([canon.setdefault(c, len(canon)) if c else -1
                         for c in map(clean, xnames)] + [-1], dtype=np.int64)
        ccode = cmap[xcode]                                                   # -1 → the last
        keep = ccode >= 0
        n = max(len(canon), 1)
        pair, text_idx = np.unique(tcode[keep].astype(np.int64) * n + ccode[keep], return_inverse=True)
        texts = list(canon)
        kinds[kind] = KindTexts([str(tnames[p // n]) for p in pair.tolist()],
                                [texts[p % n] for p in pair.tolist()], units,
                                text_idx.astype(np.int32), ucode[keep].astype(np.int32), sid[keep])
    return MonthTexts(month, kinds)

