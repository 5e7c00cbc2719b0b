"""NB201Table: a tabular objective read from a small CSV that the test writes itself."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from graphnas.benchmarks import NB201Table
from graphnas.generators import NB201Space
from graphnas.search import RandomSearch, run

SPACE = NB201Space()


@pytest.fixture()
def table_path(tmp_path):
    rows = ["arch,cifar10_test_acc,cifar100_test_acc"]
    for i, dag in enumerate(SPACE.enumerate()):
        if i % 50 == 0:
            rows.append(f"{SPACE.to_string(dag)},{80 + i / 1000:.4f},{50 + i / 2000:.4f}")
    path = tmp_path / "nb201.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_lookup_by_dag_and_string(table_path):
    table = NB201Table(table_path, metric="cifar10_test_acc")
    assert len(table) == 313
    arch, value = next(table.items())
    assert table(arch) == value == 80.0
    assert table(SPACE.from_string(arch)) == 80.0
    assert NB201Table(table_path, metric="cifar100_test_acc")(arch) == 50.0
    assert table.best() == max(table.items(), key=lambda kv: kv[1])


def test_unknown_arch_and_bad_files(table_path, tmp_path):
    table = NB201Table(table_path, metric="cifar10_test_acc")
    missing = SPACE.from_ops(["none"] * 5 + ["skip_connect"])
    with pytest.raises(LookupError, match=r"skip_connect~2\|' is not in .*nb201.csv"):
        table(missing)
    with pytest.raises(ValueError, match="several metric columns"):
        NB201Table(table_path)
    with pytest.raises(ValueError, match="no metric column 'acc'"):
        NB201Table(table_path, metric="acc")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,acc\nx,1\n")
    with pytest.raises(ValueError, match="no 'arch' column"):
        NB201Table(bad)
    bad.write_text("arch,acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,oops\n")
    with pytest.raises(ValueError, match="line 2"):
        NB201Table(bad)
    cell = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    bad.write_text(f"arch,acc\n{cell},1\n{cell},2\n")
    with pytest.raises(ValueError, match="line 3: .* appears twice"):
        NB201Table(bad)
    bad.write_text("arch,acc\n")
    with pytest.raises(ValueError, match="no rows"):
        NB201Table(bad)


def test_default_metric_and_search_with_a_process_pool(tmp_path):
    path = tmp_path / "one.csv"
    cells = list(SPACE.enumerate())
    path.write_text("arch,acc\n" + "".join(f"{SPACE.to_string(d)},{i % 97}\n" for i, d in enumerate(cells)))
    table = NB201Table(path)
    assert table.metric == "acc"
    assert pickle.loads(pickle.dumps(table))(cells[5]) == 5.0
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        h = run(RandomSearch(SPACE, seed=0), table, 6, executor=pool)
    assert len(h) == 6 and not h.failed
    assert all(e.value == table(e.dag) for e in h.evaluations)
