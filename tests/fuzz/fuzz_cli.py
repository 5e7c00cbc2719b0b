"""The CLI entry point of the fuzz harness: random command lines through ``graphnas.cli.main(argv)``.

Every command (``generate``, ``render``, ``compile``, ``search``, ``demo``, ``info``) and the root options
get random combinations of their options and of the registries' parameters (``--n``, ``--C``,
``--population``, ...), with valid and invalid values: numbers out of range, words for numbers, NaN,
missing and corrupted files, unknown names, bad suffixes. Each runs in-process in the harness' private
temporary folder. What a user relies on:

- no traceback, ever, and no exception out of ``main`` but ``SystemExit``;
- status 0 and the files asked for with ``-o`` written (a ``DAG.load``-able graph where it is one), or
- status != 0 and exactly one line on stderr, ``graphnas: error: ...`` (after the progress bars of a search
  that started, if any).

A case that breaks either is a defect (:class:`~fuzz_harness.WrongResult`); an exception escaping ``main``
is a defect too. Work is kept small (tiny budgets, the packaged NB201 table, small models, no ONNX and no
training runs but refused ones), so the bounded run stays well under 30 s.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
from typing import Any

from fuzz_harness import ClearRefusal, WrongResult, entry_point, rand_text, workdir, write_file

NB201_ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
_FILES: dict[str, str] = {}


def _files() -> dict[str, str]:
    """Input files in the fuzz folder, made once: a cell, a RandWire graph, broken JSON, a small table."""
    if not _FILES:
        from graphnas.generators import get_generator

        cell = get_generator("nb201").sample(seed=1)
        _FILES["cell"] = write_file("cli_cell.json", cell.to_json().encode())
        ws = get_generator("ws", n=8, k=2, p=0.5).sample(seed=0)
        _FILES["ws"] = write_file("cli_ws.json", ws.to_json().encode())
        _FILES["broken"] = write_file("cli_broken.json", b'{"format": "graphnas.dag", "nodes": [')
        _FILES["notdag"] = write_file("cli_notdag.json", json.dumps({"a": [1, 2]}).encode())
        _FILES["binary"] = write_file("cli_binary.json", bytes(range(256)))
        space = get_generator("nb201")
        rows = ["arch,acc"] + [f"{space.to_string(d)},{50 + k % 47}" for k, d in enumerate(space.enumerate())]
        _FILES["table"] = write_file("cli_table.csv", ("\n".join(rows) + "\n").encode())
        _FILES["badtable"] = write_file("cli_badtable.csv", b"a,b\n1,2\n")
    return _FILES


def _number(rng: random.Random, lo: int = 1, hi: int = 6) -> str:
    """A value for a numeric option: mostly valid, often not (0, negative, huge, a word, a float, NaN, empty)."""
    r = rng.random()
    if r < 0.75:
        return str(rng.randint(lo, hi))
    return rng.choice(["0", "-1", "-2", "abc", "2.5", "NaN", "Infinity", "", "1e9", "true", "null", "[1]",
                       '{"a": 1}', "--", "-0", "0x10", rand_text(rng, 4)])


def _source(rng: random.Random) -> str:
    f = _files()
    if rng.random() < 0.6:
        return rng.choice([f["cell"], f["ws"], NB201_ARCH, "DARTS_V2"])
    return rng.choice([f["cell"], f["cell"], f["ws"], NB201_ARCH, "DARTS_V2", "darts_v2", "Nasnet", "AmoebaNet",
                       f["broken"], f["notdag"], f["binary"], os.path.join(workdir(), "missing.json"),
                       "|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|", "", rand_text(rng), workdir()])


def _out(rng: random.Random, suffixes: list[str]) -> str:
    name = f"cli_out_{rng.randrange(6)}{rng.choice(suffixes)}"
    r = rng.random()
    if r < 0.08:
        return os.path.join(workdir(), "no", "such", "folder", name)
    if r < 0.12:
        return workdir()  # a folder, not a file
    return os.path.join(workdir(), name)


def _extra(rng: random.Random, names: list[str], k: int = 2) -> list[str]:
    """Random ``--name value`` pairs of registry parameters (and unknown ones)."""
    argv: list[str] = []
    for _ in range(rng.randint(0, k) if rng.random() < 0.4 else 0):
        name = rng.choice(names + ["bogus"]) if names else "bogus"
        flag = "--" + (name.replace("_", "-") if rng.random() < 0.7 else name)
        if rng.random() < 0.15:
            argv.append(flag)  # a bare flag: True
        elif rng.random() < 0.1:
            argv.append(f"{flag}={_number(rng)}")
        else:
            argv += [flag, _number(rng, 1, 4)]
    return argv


def _generate(rng: random.Random) -> list[str]:
    name = rng.choice(["ws", "er", "ba", "nb201", "darts", "enas", "nasnet", "nb101", "chain", "randwire",
                       "WS", "nope", ""])
    argv = ["generate", name]
    params = {"ws": ["n", "k", "p"], "er": ["n", "p"], "ba": ["n", "m"], "randwire": ["generator", "n", "params"],
              "nb101": ["max_vertices", "max_edges"], "chain": ["num_layers"], "darts": ["steps"],
              "enas": ["num_blocks"], "nasnet": ["num_blocks"]}.get(name, ["n"])
    for p in params:
        if rng.random() < 0.95:
            if p == "p":
                argv += ["--p", rng.choice(["0.5", "0.0", "1", "0.3", "1.5", "-0.1", "NaN", "x"])]
            elif p == "generator":
                argv += ["--generator", rng.choice(["ws", "er", "ba", "nb201", "1", "WS"])]
            elif p == "params":
                argv += ["--params", rng.choice(['{"k": 2, "p": 0.5}', '{"p": 0.3}', "[1]", "x", '{"q": 1}'])]
            else:
                argv += [f"--{p.replace('_', '-')}", _number(rng, 2 if p in ("k", "max_vertices") else 1, 9)]
    argv += _extra(rng, params, 1)
    if rng.random() < 0.5:
        argv += ["--seed", rng.choice(["0", "-3", "7", "x", "1.5", "99999999999999999999"])]
    if rng.random() < 0.6:
        argv += ["-o", _out(rng, [".json", ".json", ".txt", ""])]
    if rng.random() < 0.15:
        argv += ["--render", _out(rng, [".svg", ".dot", ".jpg", ""])]
    return argv


def _render(rng: random.Random) -> list[str]:
    argv = ["render", _source(rng)]
    if rng.random() < 0.95:
        argv += ["-o", _out(rng, [".svg", ".svg", ".dot", ".png", ".jpg", "", ".SVG"])]
    if rng.random() < 0.2:
        argv += ["--format", rng.choice(["svg", "dot", "jpg", "SVG", "", "pdf"])]
    if rng.random() < 0.2:
        argv += ["--rankdir", rng.choice(["LR", "tb", "XY", ""])]
    if rng.random() < 0.2:
        argv += ["--expand", _number(rng, 0, 2)]
    if rng.random() < 0.1:
        argv += ["--title", rand_text(rng)]
    return argv


def _compile(rng: random.Random) -> list[str]:
    model = rng.choice(["digits", "digits", "digits", "nb201", "nb201", "darts", "darts_cifar", "nb101", "randwire",
                        "chain_net", "none", "none", "nope", "NB201"])
    source = _source(rng)
    if model in ("darts", "darts_cifar") and rng.random() < 0.7:
        source = rng.choice(["DARTS_V2", "darts_v1", "ENAS"])
    argv = ["compile", source, "-o", _out(rng, [".pt", ".json", ".py", ".py", ".txt"]), "--model", model]
    names = {"digits": ["C", "N", "num_classes"], "nb201": ["C", "N", "num_classes"],
             "darts": ["C", "layers", "auxiliary", "drop_path"], "darts_cifar": ["C", "layers", "drop_path"],
             "nb101": ["stem", "stacks", "cells_per_stack"], "none": []}.get(model, ["C"])
    if model in ("nb201", "darts", "darts_cifar", "nb101"):  # small networks: a fuzz case is quick
        small = {"nb201": ["--C", "2", "--N", "1"], "darts": ["--C", "2", "--layers", "3"],
                 "darts_cifar": ["--C", "2", "--layers", "3"], "nb101": ["--stem", "4", "--stacks", "1",
                                                                         "--cells-per-stack", "1"]}[model]
        argv += small
    argv += _extra(rng, names, 2)
    for opt, lo in (("--num-classes", 1), ("--in-channels", 1), ("--size", 4), ("--seed", 0)):
        if rng.random() < 0.12:
            argv += [opt, _number(rng, lo, lo + 8)]
    return argv


def _search(rng: random.Random) -> list[str]:
    f = _files()
    optimizer = rng.choice(["random", "rea", "bo", "REA", "sgd"])
    space = rng.choice(["nb201"] * 12 + ["randwire", "darts", "ws", "nope"])
    objective = rng.choice(["nb201", "nb201", f"nb201:{f['table']}", f"nb201:{f['table']}", f"nb201:{f['badtable']}",
                            "nb201:/no/such/table.csv", "nb201:", "imagenet", "digits"] + ["nb201"] * 4)
    budget = rng.choice(["1", "2", "3"] * 9 + ["0", "-1", "x"])
    argv = ["search", "--space", space, "--objective", objective, "--optimizer", optimizer, "--budget", budget,
            "--out", os.path.join(workdir(), f"cli_search_{rng.randrange(4)}")]
    if objective == "digits" or space != "nb201":  # training: only with a setting that is refused first
        argv += rng.choice([["--epochs", "0"], ["--budget", "0"], ["--workers", "0"], ["--initial", "-1"],
                            ["--bogus", "1"]])
    if optimizer == "bo":  # keep the surrogate from being fitted: no more evaluations than initial samples
        argv += ["--initial", "5"] if rng.random() < 0.9 else ["--initial", _number(rng)]
    argv += _extra(rng, ["population", "sample_size", "top_k", "mutations", "refit_every", "n", "acquisition"], 2)
    for opt in ("--seed", "--workers", "--epochs"):
        if rng.random() < 0.1:
            argv += [opt, rng.choice(["0", "-1", "x", "1"])]
    if rng.random() < 0.3:
        argv.append("--fresh")
    return argv


def _demo(rng: random.Random) -> list[str]:
    """Only refused settings: a demo that starts would train for a minute."""
    bad = rng.choice([["--budget", rng.choice(["1", "0", "-5", "x"])], ["--epochs", rng.choice(["0", "-1", "x"])],
                      ["--initial", rng.choice(["0", "-1", "y"])], ["--max-train", rng.choice(["0", "-9"])],
                      ["--surrogate-epochs", "0"], ["--out", _files()["cell"]], ["--bogus"]])
    return ["demo", "--out", os.path.join(workdir(), "cli_demo"), *bad]


def _argv(rng: random.Random) -> list[str]:
    r = rng.random()
    if r < 0.03:
        return rng.choice([["info"], ["--version"], ["-V"], ["--help"], ["render", "--help"], [], ["frobnicate"],
                           [rand_text(rng)]])
    make = rng.choice([_generate, _render, _render, _compile, _compile, _search, _search, _demo])
    argv = make(rng)
    if rng.random() < 0.05:  # a stray word or option somewhere
        argv.insert(rng.randrange(1, len(argv) + 1), rng.choice(["--bogus", "extra", "-x", "--", "--seed"]))
    return argv


def _run(argv: list[str]) -> tuple[int, str, str]:
    from graphnas.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: Any = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as stop:
            code = stop.code
        else:
            raise WrongResult(f"main({argv!r}) returned instead of exiting")
    status = code if isinstance(code, int) else (0 if code is None else 1)
    return status, out.getvalue(), err.getvalue()


def _check_outputs(argv: list[str]) -> None:
    """After status 0: the file named by -o exists, and a graph written as .json loads."""
    from graphnas import DAG

    if "-o" not in argv or "--help" in argv:
        return
    path = argv[argv.index("-o") + 1]
    if not os.path.isfile(path):
        raise WrongResult(f"status 0 but {path} was not written: {argv!r}")
    if path.endswith(".json"):
        DAG.load(path)


@entry_point("graphnas CLI main(argv)", bounded=250, full=10_000, timeout=60.0, culprit=r".")
def cli_main(rng: random.Random) -> None:
    """Random command lines of every command and option through graphnas.cli.main, in-process."""
    import logging

    logging.getLogger("graphnas").setLevel(logging.ERROR)
    argv = _argv(rng)
    status, out, err = _run(argv)
    if "Traceback" in err or "Traceback" in out:
        raise WrongResult(f"a traceback for {argv!r}:\n{err[-2000:]}")
    if status == 0:
        _check_outputs(argv)
        return
    lines = [line for line in err.splitlines() if line.strip() and "\u2501" not in line]  # less progress bars
    if len(lines) != 1 or not lines[0].startswith("graphnas: error: ") or len(lines[0]) <= len("graphnas: error: "):
        raise WrongResult(f"status {status} for {argv!r} without one 'graphnas: error: ...' line on stderr: "
                          f"{err[-1500:]!r}")
    raise ClearRefusal(lines[0])
