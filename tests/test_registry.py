"""The registries (ops, generators, models, optimizers, acquisitions) behave alike; models and optimizers by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import graphnas
from graphnas import DAG, Node
from graphnas.registry import Registry, UnknownNameError

NB201_ARCH = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"


def _dummy_op(C_in: int, C_out: int, stride: int) -> Any:
    import torch.nn as nn

    return nn.Identity()


def _dummy_dag(*args: Any, **kw: Any) -> DAG:
    return DAG([Node("input"), Node("identity")], [(0, 1)])


@dataclass(frozen=True)
class Case:
    """How to reach one registry through its public functions."""

    kind: str
    register: Any  # name -> decorator
    get: Any  # name -> entry
    names: Any  # () -> list[str]
    registry: Any  # the Registry object, for cleanup
    entry: Any  # something to register
    known: str  # a built-in name
    typo: str  # a misspelling of it


def _cases() -> list[Case]:
    from graphnas import models, ops, search
    from graphnas.generators import registry as generators
    from graphnas.search import acquisition

    return [
        Case("op", ops.register_op, ops.get_op, ops.list_ops, ops.OPS, _dummy_op, "nor_conv_3x3", "nor_conv_3x33"),
        Case("generator or space", generators.register_generator, generators.get_generator,
             generators.list_generators, generators.GENERATORS, _dummy_dag, "nb201", "nb210"),
        Case("model", models.register_model, models.get_model_builder, models.list_models, models.MODELS,
             _dummy_dag, "darts_cifar", "darts_cifra"),
        Case("optimizer", search.register_optimizer, search.get_optimizer_builder, search.list_optimizers,
             search.OPTIMIZERS, lambda space, **kw: None, "random", "randm"),
        Case("acquisition", acquisition.register_acquisition, acquisition.get_acquisition,
             acquisition.list_acquisitions, acquisition.ACQUISITIONS, lambda m, b, r: m[0], "ucb", "ubc"),
    ]


CASES = {case.kind: case for case in _cases()}


@pytest.fixture
def case(request):
    """One registry, with every name the test registers removed again afterwards."""
    c = CASES[request.param]
    before = set(c.registry.names())
    yield c
    for name in set(c.registry.names()) - before:
        c.registry.remove(name)
    assert set(c.registry.names()) == before


@pytest.mark.parametrize("case", list(CASES), indirect=True)
def test_unknown_name_is_one_exception_type_with_suggestions(case):
    with pytest.raises(UnknownNameError) as info:
        case.get(case.typo)
    err = info.value
    assert isinstance(err, KeyError) and isinstance(err, ValueError)  # old `except KeyError/ValueError` still work
    assert err is not None and graphnas.UnknownNameError is UnknownNameError
    message = str(err)
    assert message.startswith(f"unknown {case.kind} {case.typo!r}")  # not repr-quoted as KeyError would
    assert f"did you mean {case.known!r}" in message
    assert case.known in err.suggestions and set(err.known) == set(case.names())
    # the wrong case suggests the right name first
    with pytest.raises(UnknownNameError) as info:
        case.get(case.known.upper())
    assert info.value.suggestions[0] == case.known


@pytest.mark.parametrize("case", list(CASES), indirect=True)
def test_registering_twice_follows_one_rule(case):
    name = "test_registry_entry"
    assert name not in case.names()
    case.register(name)(case.entry)
    assert name in case.names()
    case.register(name)(case.entry)  # the same entry again: harmless (a module imported twice)
    other = _dummy_op if case.entry is not _dummy_op else _dummy_dag
    with pytest.raises(ValueError, match=f"{case.kind} '{name}' is already registered"):
        case.register(name)(other)
    with pytest.raises(ValueError, match="already registered"):
        case.register(case.known)(other)  # a built-in cannot be replaced behind its users' back


@pytest.mark.parametrize("case", list(CASES), indirect=True)
def test_names_are_non_empty_strings(case):
    with pytest.raises(ValueError):
        case.register("")(case.entry)


def test_registry_aliases_and_removal():
    reg: Registry[int] = Registry("colour")
    reg.add("red", 1, aliases=["rouge"])
    assert reg.get("rouge") == 1 and "rouge" in reg and reg.names() == ["red"] and len(reg) == 1
    with pytest.raises(ValueError, match="already registered"):
        reg.add("blue", 2, aliases=["rouge"])  # an alias of another entry
    assert reg.names() == ["red"]
    assert reg.remove("red") == 1 and "rouge" not in reg
    with pytest.raises(UnknownNameError, match="unknown colour 'red'.*known: none registered"):
        reg.get("red")


def test_registry_loader_runs_once_before_the_first_look_up():
    calls = []
    reg: Registry[int] = Registry("thing", loader=lambda: calls.append(reg.add("late", 1)))
    assert calls == []
    assert reg.names() == ["late"] and reg.get("late") == 1 and calls == [1]


# --------------------------------------------------------------------------- models


def test_list_models_and_get_model_return_dags():
    from graphnas.genotypes import DARTS_V2
    from graphnas.models import darts_cifar, get_model, get_model_builder, list_models

    assert set(list_models()) >= {"darts_cifar", "darts_imagenet", "nb201", "nb101", "randwire", "chain_net",
                                  "digits"}
    net = get_model("darts_cifar", DARTS_V2, C=8, layers=5)
    assert isinstance(net, DAG) and net == darts_cifar(DARTS_V2, C=8, layers=5)
    assert get_model("darts", DARTS_V2, C=8, layers=5) == net  # an alias
    assert isinstance(get_model("nb201", NB201_ARCH, C=4, N=1), DAG)
    assert isinstance(get_model("randwire", n=8, C=8, num_classes=5), DAG)
    # every model's defaults live with the model: the builder knows its input
    assert (get_model_builder("digits").in_channels, get_model_builder("digits").input_size) == (1, 8)
    assert (get_model_builder("darts_imagenet").in_channels, get_model_builder("darts_imagenet").input_size) \
        == (3, 224)


def test_models_module_does_not_import_torch():
    import subprocess
    import sys

    code = f"import sys, graphnas.models as m; m.get_model('nb201', {NB201_ARCH!r}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_get_model_compiles_with_to_torch():
    import torch

    from graphnas import count_params, to_torch
    from graphnas.generators import NB201Space
    from graphnas.models import get_model, get_model_builder

    builder = get_model_builder("digits")
    net = to_torch(get_model("digits", NB201Space().from_string(NB201_ARCH)), builder.in_channels)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10) and count_params(net) > 0


# --------------------------------------------------------------------------- optimizers


def test_get_optimizer_by_name_and_alias():
    from graphnas.generators import NB201Space
    from graphnas.search import BayesianOptimization, RandomSearch, RegularizedEvolution, get_optimizer, list_optimizers

    space = NB201Space()
    assert list_optimizers() == ["asha", "bo", "bohb", "hyperband", "mobster", "nash", "random", "rea", "reinforce",
                                 "sh"]
    assert type(get_optimizer("random", space, seed=1)) is RandomSearch
    rea = get_optimizer("rea", space, population=6, sample_size=2, seed=1)
    assert type(rea) is RegularizedEvolution and type(get_optimizer("evolution", space)) is RegularizedEvolution
    assert type(get_optimizer("bo", space, initial=3)) is BayesianOptimization
    assert type(get_optimizer("bayesian", space)) is BayesianOptimization
    # the same name and seed: the same proposals
    assert get_optimizer("random", space, seed=4).ask(3) == RandomSearch(space, seed=4).ask(3)
    with pytest.raises(UnknownNameError, match="unknown optimizer 'bayes'.*did you mean 'bayesian'"):
        get_optimizer("bayes", space)
    with pytest.raises(TypeError):
        get_optimizer("random", space, population=3)  # a parameter it does not take


def test_register_optimizer_is_one_decorator():
    from graphnas.generators import NB201Space
    from graphnas.search import OPTIMIZERS, RandomSearch, get_optimizer, list_optimizers, register_optimizer

    @register_optimizer("test_first_sample")
    def first_sample(space: Any, *, seed: int = 0) -> RandomSearch:
        return RandomSearch(space, seed=seed)

    try:
        assert "test_first_sample" in list_optimizers()
        assert isinstance(get_optimizer("test_first_sample", NB201Space(), seed=2), RandomSearch)
    finally:
        OPTIMIZERS.remove("test_first_sample")
    assert "test_first_sample" not in list_optimizers()


# --------------------------------------------------------------------------- objectives


def test_get_objective(tmp_path):
    from graphnas.benchmarks import get_objective, list_objectives

    assert list_objectives() == ["digits", "nb201"]
    table = tmp_path / "t.csv"
    table.write_text(f"arch,acc\n{NB201_ARCH},42.5\n")
    objective = get_objective(f"nb201:{table}")
    from graphnas.generators import NB201Space

    assert objective(NB201Space().from_string(NB201_ARCH)) == pytest.approx(42.5)
    with pytest.raises(UnknownNameError, match="unknown objective 'digit'.*did you mean 'digits'"):
        get_objective("digit")
    with pytest.raises(FileNotFoundError):
        get_objective(f"nb201:{tmp_path / 'none.csv'}")
    with pytest.raises(ValueError, match="space 'darts'"):
        get_objective(f"nb201:{table}", space="darts")
    digits = get_objective("digits", epochs=2, seed=3)
    assert digits.keywords["epochs"] == 2 and digits.keywords["seed"] == 3
