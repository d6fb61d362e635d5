"""What the units wrote during the year (工作進展, 存在問題, 下步計劃), as the 年度報告 quotes it:
per task (and per section: the same text under several of its tasks is one sentence) each
distinct text once, the latest first, with the units that wrote it — the latest first, lead
units before others, then in directory order — and the month and ledger number of each unit's
latest return that says it (the source the report's comments name).

The months' texts come from the rollup (rollup/month_texts.py: computed while it reads each
month, kept with the month's snapshot), so a year is merged here without reading its report
rows again. Texts are compared as written, without the 【示例數據】 mark; a text is never
reworded, shortened or merged with another. Only the submissions in force count.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from putuo_xl.rollup.month_texts import KINDS, MonthTexts, clean  # noqa: F401 (clean: tests)
from putuo_xl.rollup.sorting import lexorder

UNITS_KEPT = 20          # units kept per text, in order (the report names at most 10)


@dataclass
class Said:
    """One distinct text, who wrote it (the first UNITS_KEPT units in order, each with the
    month and submission of its latest return saying it) and how many units wrote it."""
    task_id: str                       # "1.1.2", or "1.1.2、1.2.3" for a section's sentence
    text: str
    units: dict[str, tuple[str, int]] = field(default_factory=dict)
    count: int = 0
    latest: str = ""
    lead: bool = False                 # a lead (or responsible) unit of the task wrote it

    def ordered_units(self) -> list[str]:
        return list(self.units)


@dataclass
class YearTexts:
    """kind → task id → texts (and kind → section id → texts), the latest first."""
    by_kind: dict[str, dict[str, list[Said]]]
    by_section: dict[str, dict[str, list[Said]]]
    order: dict[str, int]                    # unit → directory rank

    def of(self, kind: str, task_id: str) -> list[Said]:
        return self.by_kind.get(kind, {}).get(task_id, [])

    def of_section(self, kind: str, section_id: str) -> list[Said]:
        return self.by_section.get(kind, {}).get(section_id, [])


def year_texts(texts: dict[str, MonthTexts], months: list[str], order: dict[str, int],
               leads: dict[str, set[str]], section_of: dict[str, str],
               task_order: dict[str, int]) -> YearTexts:
    """Merge the months' texts (`texts`: month → MonthTexts, for each of `months`)."""
    by_kind, by_section = {}, {}
    for kind in KINDS:
        by_kind[kind], by_section[kind] = _merge(kind, texts, months, order, leads, section_of,
                                                 task_order)
    return YearTexts(by_kind, by_section, order)


def _merge(kind, texts, months, order, leads, section_of, task_order):
    pair_id: dict[tuple[str, str], int] = {}
    unit_id: dict[str, int] = {}
    G, U, M, S = [], [], [], []
    for rank, m in enumerate(months):
        mt = texts.get(m)
        if mt is None:
            continue
        kt = mt.kinds[kind]
        if not len(kt.text_idx):
            continue
        gmap = np.array([pair_id.setdefault(p, len(pair_id)) for p in zip(kt.tasks, kt.texts)],
                        dtype=np.int64)
        umap = np.array([unit_id.setdefault(u, len(unit_id)) for u in kt.units], dtype=np.int64)
        G.append(gmap[kt.text_idx])
        U.append(umap[kt.unit_idx])
        M.append(np.full(len(kt.text_idx), rank, dtype=np.int64))
        S.append(kt.sid.astype(np.int64))
    if not G:
        return {}, {}
    G, U, M, S = (np.concatenate(x) for x in (G, U, M, S))
    pairs = list(pair_id)
    units = list(unit_id)
    n_units = len(units)
    # is (task, unit) a lead pair: per text pair, per unit
    task_of = np.array([task_order.get(t, -1) for t, _ in pairs], dtype=np.int64)
    lead_codes = np.array(sorted({task_order[t] * n_units + unit_id[u] for t, us in leads.items()
                                  if t in task_order for u in us if u in unit_id}), dtype=np.int64)
    rank = np.array([order.get(u, len(order)) for u in units], dtype=np.int64)
    name_rank = np.empty(n_units, dtype=np.int64)      # ties in the directory: by name
    name_rank[np.argsort(np.array(units, dtype=object), kind="stable")] = np.arange(n_units)

    def collapse(key, U, M, S, L):
        """Per (key, unit): the latest month and submission, whether a lead wrote it."""
        o = lexorder((S, M, U, key))
        key, U, M, S, L = key[o], U[o], M[o], S[o], L[o]
        last = np.ones(len(key), dtype=bool)
        last[:-1] = (key[1:] != key[:-1]) | (U[1:] != U[:-1])
        # a lead flag for the (key, unit) run: any row of it
        run = np.cumsum(np.r_[0, last[:-1].astype(np.int64)])     # the (key, unit) run of each row
        lead_any = np.zeros(int(last.sum()), dtype=bool)
        np.logical_or.at(lead_any, run, L)
        return key[last], U[last], M[last], S[last], lead_any

    L = np.isin(task_of[G] * n_units + U, lead_codes) if len(lead_codes) else np.zeros(len(G), bool)
    per_task = _groups(collapse(G, U, M, S, L), lambda g: pairs[g][0], lambda g: pairs[g][1],
                       lambda g: pairs[g][0], months, units, rank, name_rank)
    # a section's sentences: the same text under several of its tasks is one
    sec_id: dict[tuple[str, str], int] = {}
    sec_tasks: dict[int, list[str]] = {}
    sg_of = np.empty(len(pairs), dtype=np.int64)
    for g, (task, text) in enumerate(pairs):
        sg = sg_of[g] = sec_id.setdefault((section_of.get(task, ""), text), len(sec_id))
        sec_tasks.setdefault(sg, []).append(task)
    secs = list(sec_id)
    per_section = _groups(
        collapse(sg_of[G], U, M, S, L), lambda k: secs[k][0], lambda k: secs[k][1],
        lambda k: "、".join(sorted(set(sec_tasks[k]), key=lambda t: task_order.get(t, 0))),
        months, units, rank, name_rank)
    return per_task, per_section


def _groups(collapsed, owner, text, tasks, months, units, rank, name_rank):
    """{owner: [Said]} from the per-(key, unit) rows: units ordered the latest first, lead units
    first, then directory order; texts the latest first, then written by a lead, then by more
    units."""
    key, U, M, S, L = collapsed
    o = lexorder((name_rank[U], rank[U], ~L, -M, key))
    key, U, M, S, L = key[o], U[o], M[o], S[o], L[o]
    starts = np.r_[0, np.nonzero(key[1:] != key[:-1])[0] + 1]
    ends = np.r_[starts[1:], len(key)]
    out: dict[str, list[Said]] = {}
    for a, b in zip(starts.tolist(), ends.tolist()):
        k = int(key[a])
        top = range(a, min(b, a + UNITS_KEPT))
        said = Said(tasks(k), text(k), {units[U[i]]: (months[M[i]], int(S[i])) for i in top},
                    count=b - a, latest=months[int(M[a:b].max())], lead=bool(L[a:b].any()))
        out.setdefault(owner(k), []).append(said)
    for said in out.values():
        said.sort(key=lambda s: (s.latest, s.lead, s.count), reverse=True)
    return out
