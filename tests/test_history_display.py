"""A search's History in a notebook: an HTML table, a DataFrame, a best-so-far plot; PyG imported quietly."""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from graphnas.benchmarks import NB201Table
from graphnas.generators import NB201Space
from graphnas.search import get_optimizer, run
from graphnas.search.loop import Evaluation, History


@pytest.fixture(scope="module")
def searched() -> History:
    space = NB201Space()
    history = run(get_optimizer("rea", space, population=10, sample_size=3, seed=0), NB201Table(), budget=30)
    assert history.space is space  # run() hands its optimiser's space to the history
    return history


def with_failure(history: History) -> History:
    bad = Evaluation(history.evaluations[0].dag, float("nan"), 0.5, "failed", "RuntimeError: out of <memory>")
    return History([*history.evaluations[:3], bad, *history.evaluations[3:]], space=history.space)


def test_rows_name_each_graph_where_the_space_can(searched):
    rows = searched.rows()
    assert [r["index"] for r in rows] == list(range(30))
    assert rows[0]["arch"] == NB201Space().to_string(searched.evaluations[0].dag)
    assert [r["best_so_far"] for r in rows] == searched.best_so_far
    assert "arch" not in History(searched.evaluations).rows()  # no space: no names
    assert "arch" not in History(searched.evaluations).rows()[0]
    assert History(searched.evaluations).rows(NB201Space())[5]["arch"] == rows[5]["arch"]


def test_html_table(searched):
    history = with_failure(searched)
    table = ET.fromstring(history._repr_html_())  # well-formed: parses as XML
    assert [th.text for th in table.iter("th")] == ["index", "value", "status", "seconds", "arch"]
    body = table.find("tbody").findall("tr")
    assert len(body) == 31
    failed = body[3]
    assert [td.text for td in failed.findall("td")][:3] == ["3", None, "failed"]
    assert failed.get("title") == "RuntimeError: out of <memory>"
    best = [tr for tr in body if tr.get("style") == "font-weight:bold"]
    assert len(best) == 1 and float(best[0].findall("td")[1].text) == pytest.approx(history.best_value, rel=1e-3)
    assert best[0].find("td/code").text.startswith("|")  # the arch string, as code
    assert "31 evaluations, 1 failed" in table.find("caption").text


def test_html_table_of_a_long_history_shows_its_ends(searched):
    long = History(searched.evaluations * 3, space=searched.space)
    body = ET.fromstring(long._repr_html_()).find("tbody").findall("tr")
    assert len(body) == History.HTML_ROWS + 1
    assert "50 more" in "".join(body[History.HTML_ROWS // 2].itertext())
    assert body[-1].find("td").text == "89"
    empty = ET.fromstring(History()._repr_html_())
    assert empty.find("tbody") is not None and "0 evaluations" in empty.find("caption").text


def test_to_pandas(searched, monkeypatch):
    pd = pytest.importorskip("pandas")
    frame = with_failure(searched).to_pandas()
    assert isinstance(frame, pd.DataFrame) and frame.index.name == "index"
    assert list(frame.columns) == ["value", "status", "seconds", "best_so_far", "arch", "error"]
    assert math.isnan(frame.loc[3, "value"]) and frame.loc[3, "status"] == "failed"
    assert frame["value"].max() == searched.best_value
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        searched.to_pandas()


def test_plot_best_so_far(searched):
    pytest.importorskip("matplotlib")
    import matplotlib
    from matplotlib.figure import Figure

    history = with_failure(searched)
    ax = Figure().subplots()
    assert history.plot(ax) is ax
    step = next(line for line in ax.get_lines() if line.get_label() == "best so far")
    ys = list(step.get_ydata())
    assert ys[3:] == history.best_so_far[3:] and ys == sorted(ys)  # never decreases
    dots = next(line for line in ax.get_lines() if line.get_label() == "evaluation")
    assert len(dots.get_xdata()) == 30  # the failed evaluation has no dot
    backend = matplotlib.get_backend()
    own = history.plot(label="REA")
    assert own.get_legend().get_texts()[1].get_text() == "REA"
    assert matplotlib.get_backend() == backend  # no backend switched
    import matplotlib.pyplot as plt

    plt.close(own.figure)


def test_importing_pyg_silences_tqdm_only_during_the_import():
    # after the import, the same warning is shown again: graphnas installed no filter of its own
    code = ("import warnings\n"
            "import graphnas.surrogate, graphnas.converters.pyg\n"
            "print(any('IProgress' in str(f[1]) for f in warnings.filters))\n"
            "warnings.warn('IProgress not found (raised by the test)')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"] and "IProgress not found (raised by the test)" in out.stderr


def test_a_multi_fidelity_history_shows_fidelity_and_cost():
    from graphnas.search import ASHA

    space = NB201Space()
    h = run(ASHA(space, levels=(12, 200), eta=3, seed=0), NB201Table(), budget=12)
    rows = h.rows()
    assert {r["fidelity"] for r in rows} <= {"epochs=12", "epochs=200"} and rows[0]["fidelity"] == "epochs=12"
    assert [r["cost"] for r in rows] == [e.cost for e in h.evaluations] and rows[0]["cost"] == 12
    head = [th.text for th in ET.fromstring(h._repr_html_()).iter("th")]
    assert head == ["index", "value", "status", "seconds", "fidelity", "cost", "arch"]
    ax = h.plot(x="cost")
    assert ax.lines[-1].get_xdata()[-1] == sum(e.cost for e in h.evaluations)  # cumulative epochs spent
    assert ax.get_xlabel() == "cumulative cost"
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
    with pytest.raises(ValueError, match="no evaluation of this history reported a cost"):
        History([Evaluation(h.evaluations[0].dag, 1.0, 0.1, "ok", None)]).plot(x="cost")
    assert "fidelity" not in run(get_optimizer("random", space, seed=0), NB201Table(), budget=3).rows()[0]
