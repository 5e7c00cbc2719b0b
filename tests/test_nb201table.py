"""NB201Table: the NAS-Bench-201 table shipped with graphnas, and tables read from small CSVs the tests write."""

from __future__ import annotations

import gzip
import multiprocessing
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import resources

import pytest
from scipy.stats import spearmanr

from graphnas import GraphError
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


BEST_200 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
BEST_12 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"


def test_packaged_table_covers_the_space_with_both_fidelities():
    start = time.perf_counter()
    table = NB201Table()
    assert time.perf_counter() - start < 3.0  # read once per process; ~0.06 s on a quiet machine
    assert table.path is None and table.metric == "cifar10_test_acc" and table.epochs == 200
    assert table.metrics == ["cifar10_test_acc", "cifar10_test_acc_12ep", "cifar10_valid_acc_12ep"]
    assert len(table) == 15_625
    assert {arch for arch, _ in table.items()} == {SPACE.to_string(d) for d in SPACE.enumerate()}
    assert table.best() == (BEST_200, 94.3733)
    assert table(SPACE.from_string(BEST_200)) == 94.3733
    # NAS-Bench-201's own index order: cell 0 of the benchmark comes first
    assert next(table.items())[0] == ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+"
                                      "|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")

    test12 = NB201Table(metric="cifar10_test_acc_12ep")
    valid12 = NB201Table(metric="cifar10_valid_acc_12ep")
    assert (test12.epochs, valid12.epochs) == (12, 12)
    assert len(test12) == len(valid12) == 15_625
    assert test12.best() == (BEST_12, 89.16)
    assert table(BEST_12) == 93.925  # the best 12-epoch cell is not the 200-epoch optimum
    assert test12(BEST_200) == 88.79 and valid12(BEST_200) == 84.384
    # a 12-epoch figure is a cheaper, noisier view of the same ranking (as the data README says)
    archs = [arch for arch, _ in table.items()]
    rho = spearmanr([table(a) for a in archs], [test12(a) for a in archs]).statistic
    assert round(rho, 3) == 0.871
    assert NB201Table.PACKAGED_METRICS == {"cifar10_test_acc": 200, "cifar10_test_acc_12ep": 12,
                                           "cifar10_valid_acc_12ep": 12}
    assert repr(test12) == "NB201Table(metric='cifar10_test_acc_12ep', 15625 cells)"


def test_packaged_table_errors_pickling_and_licence():
    with pytest.raises(ValueError, match=r"packaged NAS-Bench-201 table: no metric column 'acc'; the columns are"):
        NB201Table(metric="acc")
    table = NB201Table(metric="cifar10_test_acc_12ep")
    missing = "|none~0|+|none~0|none~1|+|none~0|none~1|bogus~2|"
    with pytest.raises(GraphError, match=r"edge 2->3: unknown NAS-Bench-201 op 'bogus'"):
        table(missing)  # read by NB201Space, the one parser of arch strings
    blob = pickle.dumps(table)
    assert len(blob) < 1000  # workers read the packaged file themselves instead of receiving 15,625 rows
    again = pickle.loads(blob)
    assert again.metric == "cifar10_test_acc_12ep" and len(again) == 15_625 and again(BEST_12) == 89.16
    data = resources.files("graphnas.benchmarks") / "data"
    notice = data.joinpath("LICENSE").read_text(encoding="utf-8")
    assert "Xuanyi Dong" in notice and "BayesWatch" in notice and notice.count("Copyright (c)") == 2
    assert "cifar10_test_acc_12ep" in data.joinpath("README.md").read_text(encoding="utf-8")


def test_gzipped_file_and_epochs_from_the_column_name(tmp_path):
    path = tmp_path / "small.csv.gz"
    cell = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(f"arch,acc_12ep,acc\n{cell},50.5,90.25\n")
    assert NB201Table(path, metric="acc_12ep")(cell) == 50.5
    assert NB201Table(path, metric="acc_12ep").epochs == 12
    assert NB201Table(path, metric="acc").epochs is None
    assert NB201Table(path, metric="acc").metrics == ["acc_12ep", "acc"]
