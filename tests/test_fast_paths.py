"""Fast paths that must give exactly what the slow ones give: opencc's t2s by str.translate
for text without any of its phrases, config.yaml parsed by libyaml, the plan read back through
python-calamine, the task × unit decisions as tuples."""
from __future__ import annotations

import random

import opencc
import pytest
import yaml

from putuo_xl import config as config_mod
from putuo_xl import text
from putuo_xl.config import load_config
from putuo_xl.plan.parser import parse_notice
from putuo_xl.plan.assignments import Assignment, task_roles, task_units


@pytest.fixture(scope="module")
def notice() -> str:
    from importlib.resources import files
    return files("putuo_xl").joinpath("data", "notice_2020_putuo.txt").read_text(encoding="utf-8")


def test_t2s_fast_path_is_opencc(notice):
    ref = opencc.OpenCC("t2s")
    fast = text._PhraseFreeT2S.load()
    assert fast is not None, "the opencc dictionaries are shaped as the fast path expects"
    cfg = load_config()
    samples = notice.splitlines() + [notice[i:i + n] for i in range(0, len(notice), 13) for n in (2, 9, 40)]
    samples += list(cfg.known_names()) + list(cfg.units)
    rng = random.Random(5)
    chars = sorted(set(notice)) + list("（）【】〔〕「」﹙﹚ \u3000\t-,.;")
    phrases = sorted(k for k in fast.bigrams)
    for _ in range(5000):
        s = "".join(rng.choice(chars) for _ in range(rng.randint(1, 30)))
        if rng.random() < 0.3:           # with (the start of) one of opencc's phrases in it
            k = rng.randint(0, len(s))
            s = s[:k] + rng.choice(phrases) + s[k:]
        samples.append(s)
    with_phrase = 0
    for s in samples:
        assert text.to_simplified.__wrapped__(s) == ref.convert(s), s
        with_phrase += fast.has_phrase(s)
    assert 0 < with_phrase < len(samples)           # both branches were taken


def test_libyaml_reads_config_as_the_python_parser(tmp_path):
    raw_text = config_mod.default_config_path().read_text(encoding="utf-8")
    a = yaml.load(raw_text, Loader=config_mod._LineLoader)
    b = yaml.load(raw_text, Loader=config_mod._FastLineLoader)

    def lines(x, path=""):
        out = []
        if isinstance(x, dict):
            out.append((path, sorted(x.lines.items())))
            for k, v in x.items():
                out += lines(v, f"{path}/{k}")
        elif isinstance(x, list):
            out.append((path, list(x.lines)))
            for i, v in enumerate(x):
                out += lines(v, f"{path}/{i}")
        return out
    assert a == b and lines(a) == lines(b)
    # a broken file: the message and line are the pure-Python parser's
    bad = tmp_path / "bad.yaml"
    bad.write_text("district: 普陀區\nunits:\n  區司法局: {kind: 部門\n", encoding="utf-8")
    with pytest.raises(config_mod.ConfigError) as e:
        load_config(bad)
    try:
        yaml.load(bad.read_text(encoding="utf-8"), Loader=config_mod._LineLoader)
    except yaml.YAMLError as err:
        assert str(err.problem) in e.value.message and e.value.line == err.problem_mark.line + 1


def _task_units_as_before(task, cfg):
    """units.task_units as it was written before task_roles (the oracle)."""
    rank = {"lead": 0, "responsible": 1, "co": 2}
    best = {}
    for ref in task.units:
        key = ref.canonical or ref.name
        if ref.group and ref.canonical:
            for m in cfg.expand(ref.canonical):
                cand = Assignment(m, task.id, ref.role, ref.canonical)
                cur = best.get(m)
                if cur is None or (cur.via is not None and rank[cand.role] < rank[cur.role]):
                    best[m] = cand
        else:
            cand = Assignment(key, task.id, ref.role, None)
            cur = best.get(key)
            if cur is None or cur.via is not None or rank[cand.role] < rank[cur.role]:
                best[key] = cand
    return list(best.values())


def test_task_roles_decide_as_before():
    """Groups expanded, a unit named itself keeping its role, the strongest role through groups —
    including a task that names a group twice in different roles and one of its members."""
    import copy

    from putuo_xl.plan.model import UnitRef
    cfg = load_config()
    plan = parse_notice(None, cfg)
    tasks = plan.tasks()
    grouped = [t for t in tasks if any(u.group for u in t.units)]
    assert grouped
    odd = copy.deepcopy(grouped[0])
    group = next(u for u in odd.units if u.group)
    member = cfg.expand(group.canonical)[0]
    odd.units = [UnitRef(name=group.name, canonical=group.canonical, role="co", group=True),
                 UnitRef(name=member, canonical=member, role="co"),
                 UnitRef(name=group.name, canonical=group.canonical, role="lead", group=True)]
    for task in tasks + [odd]:
        want = _task_units_as_before(task, cfg)
        assert task_units(task, cfg) == want
        assert [(u, r, via) for u, (r, via) in task_roles(task, cfg).items()] == \
            [(a.unit, a.role, a.via) for a in want]
