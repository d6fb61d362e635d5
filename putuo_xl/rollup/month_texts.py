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
    工作進展, 存在問題, 下步計劃), the submissions in force only."""
    kinds = {}
    if rows:
        sids, units, _m, tasks, _s, _p, *texts = (np.array(c, dtype=object) for c in zip(*rows))
    for k, kind in enumerate(KINDS):
        if not rows:
            kinds[kind] = KindTexts([], [], [], *(np.zeros(0, dtype=t) for t in ("int32", "int32", "int64")))
            continue
        col = texts[k]
        mask = np.not_equal(col, None)
        pairs: dict[tuple[str, str], int] = {}
        cleaned: dict = {}
        t_idx, keep = [], []
        for i, task, raw in zip(np.nonzero(mask)[0].tolist(), tasks[mask].tolist(), col[mask].tolist()):
            text = cleaned.get(raw)
            if text is None:
                text = cleaned[raw] = clean(raw)
            if not text:
                continue
            t_idx.append(pairs.setdefault((task, text), len(pairs)))
            keep.append(i)
        keep_a = np.array(keep, dtype=np.int64)
        unit_names, unit_idx = np.unique(units[keep_a].astype(str), return_inverse=True) if keep else \
            (np.array([], dtype=str), np.zeros(0, dtype=np.int64))
        kinds[kind] = KindTexts([t for t, _ in pairs], [x for _, x in pairs], unit_names.tolist(),
                                np.array(t_idx, dtype=np.int32), unit_idx.astype(np.int32),
                                sids[keep_a].astype(np.int64) if keep else np.zeros(0, dtype=np.int64))
    return MonthTexts(month, kinds)
