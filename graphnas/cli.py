"""The ``graphnas`` command: generate, render, compile and search architectures from the shell.

Every command reads and writes graphs as JSON (``DAG.save`` / ``DAG.load``).
A user mistake (a missing file, bad JSON, an unknown space, an invalid graph, a
bad option) prints one line naming the cause and exits with status 1 (2 for a
bad command line), without a traceback.

Run ``graphnas --help`` or ``graphnas COMMAND --help`` for the options.
"""

from __future__ import annotations

import inspect
import json
import math
import pprint
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from graphnas.dag import DAG, GraphError
from graphnas.registry import UnknownNameError

__all__ = ["UserError", "app", "main"]

app = typer.Typer(
    name="graphnas",
    help="Neural architecture search where every architecture is a DAG: generate, render, compile, search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        import graphnas

        typer.echo(f"graphnas {graphnas.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Neural architecture search where every architecture is a DAG: generate, render, compile, search."""


class UserError(Exception):
    """A mistake in what the user asked for; the CLI prints its message as one line."""


# --------------------------------------------------------------------------- helpers


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _load_graph(source: str) -> DAG:
    """The DAG of a SOURCE argument (a JSON file, an arch string, a genotype name, ...): see graphnas.as_dag."""
    from graphnas.loading import as_dag

    return as_dag(source)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_extra(args: Sequence[str]) -> dict[str, Any]:
    """``--key value`` pairs (values read as JSON where they parse, else strings; a bare ``--flag`` is True)."""
    params: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or len(arg) < 3:
            raise UserError(f"unexpected argument {arg!r}; generator parameters are given as --name value")
        key = arg[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            params[key.replace("-", "_")] = _parse_value(value)
            i += 1
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            params[key.replace("-", "_")] = _parse_value(args[i + 1])
            i += 2
        else:
            params[key.replace("-", "_")] = True
            i += 1
    return params


def _parameters(target: Any, skip: Sequence[str] = ()) -> tuple[list[str], list[str], bool]:
    """The keyword parameters ``target`` takes, those it needs, and whether it takes ``**kwargs``.

    ``self``, ``seed`` (an option of its own) and the names in ``skip`` (given by the command) are left out.
    """
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return [], [], True
    left_out = {"self", "seed", *skip}
    named = [p for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in left_out]
    return ([p.name for p in named], [p.name for p in named if p.default is p.empty],
            any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()))


def _option(name: str) -> str:
    """The command-line spelling of a parameter: ``sample_size`` -> ``--sample-size``."""
    return "--" + name.replace("_", "-")


def _flags(names: Sequence[str]) -> str:
    return ", ".join(_option(n) for n in names) or "no parameters"


def _annotation_parts(param: inspect.Parameter) -> list[str]:
    """The alternatives of a parameter's annotation as text: ``'int | None'`` -> ``['int', 'None']``."""
    ann = param.annotation
    if ann is param.empty:
        if param.default is param.empty or param.default is None:
            return []
        ann = type(param.default).__name__
    text = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
    depth, part, parts = 0, "", []
    for ch in text:  # split on | outside brackets
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(part.strip())
            part = ""
        else:
            part += ch
    parts.append(part.strip())
    return [q.replace("typing.", "").split("[")[0] for q in parts]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_types(kind: str, name: str, target: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Check each ``--name value`` against the type its parameter declares (int, float, bool, str, a list, a
    mapping); returns the parameters with strings where a string is wanted (``--generator 1`` -> ``"1"``).

    A mismatch is one line naming the option: ``invalid value for --n: 'abc' is not a number (generator 'ws'
    takes an integer)``. Numbers must be finite.
    """
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return params
    out = dict(params)
    for key, value in params.items():
        param = sig.parameters.get(key)
        parts = _annotation_parts(param) if param is not None else []
        if not parts or "Any" in parts or "object" in parts:
            continue
        if "None" in parts and value is None:
            continue
        shown = value if isinstance(value, str) else json.dumps(value)
        if "str" in parts and not isinstance(value, (str, list, dict)):
            out[key] = shown  # --generator 1: the string "1"
            continue
        if _is_number(value) and not math.isfinite(value):
            raise UserError(f"invalid value for {_option(key)}: {shown} is not a finite number")
        checks = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "float": _is_number, "bool": lambda v: isinstance(v, bool), "str": lambda v: isinstance(v, str),
                  "Sequence": lambda v: isinstance(v, list), "list": lambda v: isinstance(v, list),
                  "tuple": lambda v: isinstance(v, list), "Mapping": lambda v: isinstance(v, dict),
                  "dict": lambda v: isinstance(v, dict)}
        known = [q for q in parts if q in checks]
        if not known or any(checks[q](value) for q in known):
            continue
        words = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
                 "Sequence": "a JSON list", "list": "a JSON list", "tuple": "a JSON list",
                 "Mapping": "a JSON object", "dict": "a JSON object"}
        wanted = " or ".join(dict.fromkeys(words[q] for q in known))
        if ("int" in known or "float" in known) and not _is_number(value):
            problem = f"{shown!r} is not a number"
        elif "int" in known and _is_number(value):
            problem = f"{shown} is not an integer"
        else:
            problem = f"{shown!r} is not {wanted}" if isinstance(value, str) else f"{shown} is not {wanted}"
        raise UserError(f"invalid value for {_option(key)}: {problem} ({kind} {name!r} takes {wanted})")
    return out


def _message(err: BaseException) -> str:
    """An error's message; a KeyError's without the quotes its ``str`` adds (not a quote the message ends with)."""
    if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        return err.args[0]
    return str(err)


def _culprits(message: str, params: dict[str, Any], context: str = "") -> str:
    """``context + message`` of a builder's error, led by the options the message names (``invalid value
    for --C: model 'nb201': C must be a positive integer, got 0``)."""
    def names(key: Any) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(str(key))}(?!\w)", message) is not None

    # an option holding a mapping (--params '{"k": 3}') is to blame where the message names one of its keys
    inner = [k for k, v in params.items() if isinstance(v, dict) and any(names(key) for key in v)]
    named = [k for k in params if names(k) and not isinstance(params[k], dict)]
    blamed = inner or named  # a message naming keys of --params is about --params (it names --n's value too)
    return f"invalid value for {_flags(blamed)}: {context}{message}" if blamed else context + message


def _check_params(kind: str, name: str, target: Any, params: dict[str, Any], skip: Sequence[str] = ()) -> None:
    """Refuse ``--name value`` pairs that ``target`` does not take, or missing required ones, in one line."""
    accepted, required, var_kw = _parameters(target, skip)
    unknown = [k for k in params if k not in accepted]
    if unknown and not var_kw:
        raise UserError(f"{kind} {name!r} has no parameter {_flags(unknown)}; it takes {_flags(accepted)}")
    missing = [m for m in required if m not in params]
    if missing:
        raise UserError(f"{kind} {name!r} needs {_flags(missing)}")


def _generator(name: str, params: dict[str, Any]) -> Any:
    from graphnas.generators import get_generator, get_generator_builder

    try:
        target = get_generator_builder(name)
    except UnknownNameError as err:
        raise UserError(str(err)) from None
    _check_params("generator", name, target, params)
    params = _check_types("generator", name, target, params)
    try:
        return get_generator(name, **params)
    except (TypeError, ValueError) as err:
        raise UserError(_culprits(str(err), params, f"generator {name!r}: ")) from None


def _write_text(path: Path, text: str) -> None:
    if path.parent and not path.parent.exists():
        raise UserError(f"{path}: the folder {path.parent} does not exist")
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- commands


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
              short_help="Sample one graph from a generator or space.")
def generate(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A registered generator or space (see 'graphnas info'), e.g. ws, er, "
                                         "ba, nb201, darts.")],
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed; the same seed gives the same graph.")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the graph here (JSON); default: "
                                                                       "print it.")] = None,
    render_to: Annotated[Path | None,
                         typer.Option("--render", help="Also draw it into this SVG/PNG/PDF file.")] = None,
) -> None:
    """Sample one graph from a generator or space: graphnas generate ws --n 32 --k 4 --p 0.75 -o g.json.

    Parameters of the generator are given as --name value (values are read as JSON where they parse).
    """
    params = _parse_extra(ctx.args)
    gen = _generator(name, params)
    try:
        dag = gen.sample(seed)
    except (TypeError, ValueError) as err:
        raise UserError(_culprits(str(err), params, f"generator {name!r}: ")) from None
    text = dag.to_json(indent=1)
    for path, option in ((output, "--output"), (render_to, "--render")):  # check both before writing either
        if path is not None and not path.parent.is_dir():
            raise UserError(f"{option} {path}: the folder {path.parent} does not exist")
    if render_to is not None:
        _picture_format(render_to, None, "--render")
    if output is None:
        typer.echo(text)
    else:
        _write_text(output, text + "\n")
        _console(stderr=True).print(f"wrote {output}: {len(dag)} nodes, {dag.num_edges} edges")
    if render_to is not None:
        from graphnas.converters.dot import render as draw

        draw(dag, render_to)
        _console(stderr=True).print(f"wrote {render_to}")


def _expand_levels(value: str | None) -> str | None:
    if value is not None and value.lower() != "all" and not value.isdigit():
        raise typer.BadParameter(f"'all' or a number of levels (0, 1, ...), got {value!r}")
    return value


@app.command(short_help="Draw a graph with Graphviz (SVG, PNG, PDF).")
def render(
    source: Annotated[str, typer.Argument(help="A DAG JSON file, a NAS-Bench-201 arch string, or a genotype name "
                                           "(DARTS_V2, NASNet, ...).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The picture to write: .svg, .png, .pdf or .dot.")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="svg, png, pdf or dot (default: from the "
                                                                   "suffix).")] = None,
    rankdir: Annotated[str | None,
                       typer.Option("--rankdir", help="LR, TB, RL or BT (default: LR for cells, TB "
                                                      "otherwise).")] = None,
    expand: Annotated[str | None,
                      typer.Option("--expand", callback=_expand_levels,
                                   help="'all' draws every copy of repeated cells; a number N draws every copy, N "
                                        "levels of nested DAGs deep (default: repeated cells drawn once).")] = None,
    full_size: Annotated[bool, typer.Option("--full-size", help="Do not scale the drawing down to fit 900 x 1,200 "
                                                                "px.")] = False,
    title: Annotated[str | None, typer.Option("--title", help="A caption above the drawing.")] = None,
) -> None:
    """Draw a graph with Graphviz: graphnas render g.json -o g.svg."""
    from graphnas.converters.dot import render as draw

    fmt = _picture_format(output, fmt, "--output")
    obj = _load_graph(source)
    if rankdir is not None and rankdir.upper() not in ("LR", "TB", "RL", "BT"):
        raise UserError(f"--rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    levels = None if expand is None else True if expand.lower() == "all" else int(expand)
    size = len(obj.edges) if isinstance(obj, DAG) else 0
    if size > 1000 and fmt != "dot":  # dot's layout grows fast: 2,200 edges took about 100 s on one core
        _console(stderr=True).print(f"laying out {len(obj.nodes):,} nodes and {size:,} edges with Graphviz dot; "
                                    "this can take minutes (-o g.dot writes the source at once)")
    import warnings

    from graphnas.converters.dot import TooSmallToReadWarning

    with warnings.catch_warnings(record=True) as caught:  # the library's warning, said in the command's words
        warnings.simplefilter("always", TooSmallToReadWarning)
        draw(obj, output, format=fmt, rankdir=rankdir.upper() if rankdir else None, expand=levels,
             fit=not full_size, title=title)
    console = _console(stderr=True)
    console.print(f"wrote {output}")
    for w in caught:
        if isinstance(w.message, TooSmallToReadWarning):
            console.print(f"[yellow]note[/yellow]: shrunk to {w.message.scale:.0%} of its size to fit 900 x 1,200 "
                          "px, too small to read; --full-size draws it at full size")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


_PICTURES = ("svg", "png", "pdf", "dot")


def _picture_format(path: Path, fmt: str | None, option: str) -> str:
    """The picture format of ``path`` (``--format`` or its suffix), or a one-line error naming the options."""
    if fmt is not None:
        if fmt.lower().lstrip(".") not in _PICTURES:
            raise UserError(f"invalid value for --format: {fmt!r}; use {', '.join(_PICTURES)}")
        return fmt.lower().lstrip(".")
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in _PICTURES:
        hint = " or give --format" if option == "--output" else ""
        raise UserError(f"{option} {path}: cannot tell the picture format from the suffix "
                        f"{path.suffix or '(none)'!r}; use .svg, .png, .pdf or .dot{hint}")
    return suffix


def _build_network(obj: DAG, source: str, model: str, params: dict[str, Any], num_classes: int,
                   in_channels: int, size: int | None) -> tuple[DAG, int, tuple[int, int, int]]:
    """The network DAG to compile, its input channels and the input shape ``(C, H, W)`` of one sample.

    ``model`` is a registered model (``graphnas.models.list_models()``) built around the cell with ``params``,
    or ``none`` for the graph as it is.
    """
    if model == "none":
        if params:
            raise UserError(f"--model none builds no network, so it takes no parameter {_flags(list(params))}")
        return obj, in_channels, (in_channels, size or 32, size or 32)
    from graphnas.models import get_model_builder

    try:
        builder = get_model_builder(model)
    except UnknownNameError as err:
        raise UserError(f"--model: {err} (or none: the graph as it is)") from None
    accepted, required, _ = _parameters(builder.fn)
    if not required:
        raise UserError(f"model {model!r} builds its own graphs and takes no cell; build it in Python with "
                        f"graphnas.models.get_model({model!r}, ...)")
    _check_params("model", model, builder.fn, params, skip=[required[0], "num_classes"])
    params = _check_types("model", model, builder.fn, params)
    config = dict(params)
    if "num_classes" in accepted:
        config["num_classes"] = num_classes
    try:
        net = builder(obj, **config)
    except (TypeError, ValueError, AttributeError) as err:
        raise UserError(_culprits(str(err), params, f"{source}: model {model!r}: ")) from None
    side = size or builder.input_size
    return net, builder.in_channels, (builder.in_channels, side, side)


def python_module(network: DAG, module: Any, in_channels: int, input_shape: Sequence[int],
                  command: str = "") -> str:
    """The text of an importable Python module that rebuilds ``module``: ``build()`` compiles the embedded
    network DAG with `graphnas.to_torch` (the same class, the same parameter names, so a ``state_dict``
    saved by ``graphnas compile ... -o model.pt`` loads into it); the generated torch.fx code follows as
    comments, for reading."""
    code = module.print_readable(print_output=False).rstrip().splitlines()
    shape = tuple(int(d) for d in input_shape)
    lines = [
        f'"""A network compiled by graphnas{f" ({command})" if command else ""}.',
        "",
        "Use it as::",
        "",
        "    import torch",
        "    import this_module_name as m",
        "",
        "    model = m.build()                       # a torch.nn.Module (torch.fx GraphModule), fresh weights",
        "    model.load_state_dict(torch.load(\"model.pt\", weights_only=True))  # optional: saved weights",
        "    y = model(torch.randn(1, *m.INPUT_SHAPE))",
        "",
        "It needs torch and graphnas. The network is kept as its DAG (NETWORK, the JSON form); build()",
        "compiles it with graphnas.to_torch, whose generated torch.fx code is shown as comments at the end.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import torch",
        "",
        "import graphnas",
        "",
        f"IN_CHANNELS = {int(in_channels)}",
        f"INPUT_SHAPE = {shape!r}",
        "NETWORK = " + pprint.pformat(network.to_dict(), width=110, sort_dicts=False),
        "",
        "",
        "def build() -> torch.nn.Module:",
        '    """The compiled network (weights initialised by torch\'s global generator)."""',
        "    return graphnas.to_torch(graphnas.DAG.from_dict(NETWORK), in_channels=IN_CHANNELS,",
        f"                             class_name={module.__class__.__name__!r})",
        "",
        "",
        "# The torch.fx code that build() generates (module.code, module.print_readable()):",
        "#",
        *[("# " + line).rstrip() for line in code],
        "",
    ]
    return "\n".join(lines)


def write_model(module: Any, example: Any, output: Path, *, network: DAG | None = None, in_channels: int = 3,
                command: str = "") -> str:
    """Write a compiled module: ``.pt`` its state_dict, ``.onnx`` an ONNX graph, ``.py`` an importable module
    that rebuilds it (``build()``; needs ``network``, the DAG it was compiled from)."""
    import torch

    suffix = output.suffix.lower()
    if output.parent and not output.parent.exists():
        raise UserError(f"{output}: the folder {output.parent} does not exist")
    if suffix in (".pt", ".pth"):
        torch.save(module.state_dict(), output)
        return "state_dict"
    if suffix == ".onnx":
        from graphnas.converters.onnx import export_onnx

        export_onnx(module, example, output)
        return "ONNX"
    if suffix == ".py":
        if network is None:
            raise ValueError("writing a .py module needs the network DAG (network=)")
        output.write_text(python_module(network, module, in_channels, tuple(example.shape[1:]), command),
                          encoding="utf-8")
        return "Python module, build()"
    raise UserError(f"{output}: unknown output type {suffix or '(none)'!r}; use .pt (state_dict), .onnx or .py")


@app.command("compile", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
              short_help="Compile a graph into a PyTorch module.")
def compile_(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A DAG JSON file (a cell or a whole network), a NAS-Bench-201 arch "
                                           "string, or a genotype name for --model darts.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="model.pt (state_dict), model.onnx, model.py "
                                                            "(generated code) or net.json (the network DAG).")],
    model: Annotated[str, typer.Option("--model", "-m", help="A registered model around the cell (see "
                                                              "'graphnas info'): digits (8x8x1, what search "
                                                              "trains), nb201, darts, ...; or none (the graph "
                                                              "as it is).")] = "digits",
    num_classes: Annotated[int, typer.Option("--num-classes", min=1, help="Classifier outputs.")] = 10,
    in_channels: Annotated[int, typer.Option("--in-channels", min=1, help="Input channels for --model none.")] = 3,
    size: Annotated[int | None, typer.Option("--size", min=1, help="Input height and width for the example input "
                                                         "(ONNX, FLOPs).")] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the initial weights.")] = 0,
) -> None:
    """Compile a graph into a PyTorch module: graphnas compile g.json -o model.pt (or .onnx, .py).

    Parameters of the model follow as --name value, e.g. --C 16 --N 5 for nb201 (its defaults otherwise);
    graphnas.models documents each model's parameters.
    """
    import torch

    from graphnas.converters.torch import count_flops, count_params, to_torch

    if output.suffix.lower() not in (".pt", ".pth", ".onnx", ".py", ".json"):
        raise UserError(f"{output}: unknown output type {output.suffix or '(none)'!r}; use .pt (state_dict), "
                        ".onnx, .py (generated code) or .json (the network DAG)")
    params = _parse_extra(ctx.args)
    obj = _load_graph(source)
    net, chans, shape = _build_network(obj, source, model, params, num_classes, in_channels, size)
    if output.suffix.lower() == ".json":
        _write_text(output, net.to_json(indent=1) + "\n")
        _console(stderr=True).print(f"wrote {output}: the network DAG, {len(net)} nodes")
        return
    if len(net.inputs) != 1:
        raise UserError(f"{source}: the graph has {len(net.inputs)} inputs, and compile writes networks of one "
                        "input; put it in a model around it (--model digits or darts for a cell pair)")
    from graphnas._torch_rng import local_generator
    from graphnas.generators._random import as_torch

    with local_generator(as_torch(seed)):  # seeded weights, the global generator untouched (the one seed rule)
        module = to_torch(net, in_channels=chans, class_name="GraphnasNetwork")
        example = torch.randn(2, *shape)
    module.eval()
    try:
        with torch.no_grad():
            out = module(example)
    except RuntimeError as err:  # e.g. an input too small for the network's reductions
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{source}: the compiled network fails on an input of shape {shape} (see --size): "
                        f"{first}") from None
    what = write_model(module, example[:1], output, network=net, in_channels=chans,
                       command=f"graphnas compile {source} --model {model}")
    out_shape = (tuple(out.shape) if isinstance(out, torch.Tensor)  # None: an auxiliary head in eval mode
                 else [tuple(o.shape) for o in out if o is not None])
    _console(stderr=True).print(
        f"wrote {output} ({what}): {count_params(module):,} parameters, "
        f"{count_flops(module, shape) / 1e6:.2f} M multiply-adds at input {shape}, output {out_shape}")


def _progress_bar() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=_console(stderr=True),
                    transient=False)


def _history_table(title: str, history: Any, space: Any = None, top: int = 5) -> Any:
    """The best evaluations; each graph in full (the space's arch string where it has one, else its ops):
    long cells fold onto further lines, never cut."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("rank", justify="right")
    table.add_column("value", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("nodes", justify="right")
    ok = sorted((e for e in history.evaluations if e.ok), key=lambda e: -e.value)[:top]
    from graphnas.search.loop import arch_string

    archs = [arch_string(space, e.dag) for e in ok]
    table.add_column("arch" if ok and all(a is not None for a in archs) else "ops", overflow="fold")
    for k, (e, arch) in enumerate(zip(ok, archs, strict=True), 1):
        ops = [op if isinstance(op, str) else f"cell({len(op)})" for op in e.dag.ops
               if op not in ("input", "identity")]
        table.add_row(str(k), f"{e.value:.2f}", f"{e.seconds:.1f}", str(len(e.dag)), arch or ", ".join(ops))
    return table


def _split_search_params(extra: dict[str, Any], space: str, space_target: Any, optimizer: str, opt_target: Any,
                         initial: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Share the ``--name value`` pairs of ``graphnas search`` between the space and the optimizer."""
    space_names, space_required, _ = _parameters(space_target)
    opt_names, _, _ = _parameters(opt_target, skip=["space", "surrogate"])
    both = sorted(set(extra) & set(space_names) & set(opt_names))
    if both:
        raise UserError(f"{_flags(both)} is a parameter of both space {space!r} and optimizer {optimizer!r}")
    unknown = [k for k in extra if k not in space_names and k not in opt_names]
    if unknown:
        raise UserError(f"search has no option {_flags(unknown)}, and neither space {space!r} (it takes "
                        f"{_flags(space_names)}) nor optimizer {optimizer!r} (it takes {_flags(opt_names)}) has "
                        "such a parameter; see 'graphnas search --help'")
    space_params = {k: v for k, v in extra.items() if k in space_names}
    missing = [m for m in space_required if m not in space_params]
    if missing:
        raise UserError(f"space {space!r} needs {_flags(missing)}")
    opt_params = {k: v for k, v in extra.items() if k in opt_names}
    if initial is not None:
        if "initial" not in opt_names:
            raise UserError(f"--initial: optimizer {optimizer!r} takes no initial samples; it takes "
                            f"{_flags(opt_names)}")
        opt_params["initial"] = initial
    return space_params, opt_params


def _search_executor(kind: str | None, workers: int, address: str | None, cpus: float | None = None,
                     gpus: float | None = None, timeout: float | None = None) -> tuple[Any, Any]:
    """The executor of ``graphnas search`` and its closing function; ``(None, None)`` to evaluate in this process."""
    if kind is None:
        if address is not None:
            raise UserError("--address needs --executor ray or --executor dask")
        if workers == 1 and timeout is None:
            return None, None
        kind = "process"  # a timeout needs evaluations in other processes, which can be stopped
    from graphnas.search.executors import make_executor

    try:
        return make_executor(kind, workers, address, num_cpus=cpus, num_gpus=gpus)
    except (ValueError, ImportError, ConnectionError) as err:
        raise UserError(f"--executor {kind}: {err}") from None


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
              short_help="Search a space for the best graph.")
def search(
    ctx: typer.Context,
    space: Annotated[str, typer.Option("--space", help="A registered space (see 'graphnas info'): nb201, darts, "
                                                       "randwire, ...")] = "nb201",
    objective: Annotated[str, typer.Option("--objective", help="digits (real training), nb201 (the NAS-Bench-201 "
                                                               "table shipped with graphnas) or nb201:PATH (a table "
                                                               "with columns arch,<metric>).")] = "digits",
    optimizer: Annotated[str, typer.Option("--optimizer", help="bo (GNN surrogate), rea (regularized "
                                                                  "evolution), reinforce (an RL controller) or "
                                                                  "random; graphnas info lists them.")] = "bo",
    budget: Annotated[int, typer.Option("--budget", "-b", min=1, help="Number of evaluations.")] = 20,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the optimiser and of training.")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Folder for journal.jsonl, best.json, best.svg, "
                                                    "summary.json.")] = Path("runs/search"),
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs per evaluation (digits).")] = 3,
    workers: Annotated[int, typer.Option("--workers", "-j", min=1, help="Parallel evaluations (1 and no --executor: "
                                                                 "in this process).")] = 1,
    executor: Annotated[str | None, typer.Option("--executor", help="Where evaluations run: process (default with "
                                                                    "--workers > 1), thread, ray or dask.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="A running Ray (HOST:6379, ray://HOST:10001) or "
                                                                  "Dask (tcp://HOST:8786) cluster; default: start "
                                                                  "one on this machine.")] = None,
    initial: Annotated[int | None, typer.Option("--initial", min=1, help="Random samples before the optimizer starts "
                                                                  "to learn (bo: 10).")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start over instead of resuming the journal in "
                                                        "--out.")] = False,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch threads per process that trains (the "
                                                              "small networks train fastest on one).")] = 1,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.0, help="Seconds an evaluation may run (from "
                       "its submission) before it is recorded as failed and its worker freed; runs evaluations in "
                       "worker processes if no --executor is given.")] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Times an evaluation whose worker died is "
                                                                   "submitted again (not for errors the training "
                                                                   "raises, nor for timeouts).")] = 0,
    cpus_per_eval: Annotated[float | None, typer.Option("--cpus-per-eval", min=0.0, help="--executor ray: CPUs "
                                                        "each evaluation reserves (default 1).")] = None,
    gpus_per_eval: Annotated[float | None, typer.Option("--gpus-per-eval", min=0.0, help="--executor ray: GPUs "
                                                        "each evaluation reserves (default 0; 0.5 shares one GPU "
                                                        "between two).")] = None,
    early_stop: Annotated[float | None, typer.Option("--early-stop", min=0.0, max=1.0, help="digits: stop a "
                          "training run when its learning curve gives it a probability below this of beating the "
                          "best so far (graphnas.curves.EarlyStopping).")] = None,
) -> None:
    """Search a space for the best graph: graphnas search --space nb201 --objective digits --optimizer bo.

    Parameters of the space and of the optimizer follow as --name value (values are read as JSON where they
    parse), e.g. graphnas search --space randwire --generator er --n 16 --params '{"p": 0.3}' --optimizer rea
    --population 10 --sample-size 3.
    """

    _use_threads(threads)
    if timeout is not None and not timeout > 0:
        raise UserError(f"--timeout must be > 0 seconds, got {timeout:g}")
    if retries and workers == 1 and executor is None and timeout is None:
        raise UserError("--retries resubmits evaluations whose worker died; with --workers 1 and no --executor "
                        "they run in this process: give --workers > 1 or --executor")
    if early_stop is not None and (executor in ("process", "ray", "dask")
                                   or executor is None and (workers > 1 or timeout is not None)):
        raise UserError("--early-stop compares each run with the best so far, which lives in this process: run the "
                        "evaluations here (--workers 1, no --timeout) or on threads (--executor thread)")
    if (cpus_per_eval is not None or gpus_per_eval is not None) and executor != "ray":
        raise UserError("--cpus-per-eval and --gpus-per-eval are reserved by Ray: add --executor ray")

    from graphnas.benchmarks.objectives import get_objective
    from graphnas.generators import get_generator, get_generator_builder
    from graphnas.jobs import prepare_output
    from graphnas.search import get_optimizer, get_optimizer_builder

    try:
        space_target = get_generator_builder(space)
    except UnknownNameError as err:
        raise UserError(str(UnknownNameError("space", space, err.known))) from None
    try:
        opt_target = get_optimizer_builder(optimizer)
    except UnknownNameError as err:
        raise UserError(str(err)) from None
    hint = ""
    if space in ("ws", "er", "ba"):  # generator functions: they sample but cannot mutate
        hint = f"; to search {space} graphs by rewiring, use --space randwire --generator {space}"
    space_params: dict[str, Any] = {}
    opt_params: dict[str, Any] = {}
    try:
        space_params, opt_params = _split_search_params(_parse_extra(ctx.args), space, space_target, optimizer,
                                                        opt_target, initial)
        space_params = _check_types("space", space, space_target, space_params)
        opt_params = _check_types("optimizer", optimizer, opt_target, opt_params)
        stopper = None
        if early_stop is not None:
            if not objective.startswith("digits"):
                raise UserError(f"--early-stop stops training runs; objective {objective!r} trains nothing")
            from graphnas.curves import EarlyStopping

            stopper = EarlyStopping(delta=early_stop)
        objective_fn = get_objective(objective, epochs=epochs, seed=seed, space=space, early_stopping=stopper)
        opt_params = _fidelity_levels(opt_target, opt_params, objective_fn, epochs)
        if _takes(opt_target, "store") and "store" not in opt_params:  # NASH: weight files beside the journal
            opt_params["store"] = str(out / "weights")
        space_obj = get_generator(space, **space_params)
        space_obj.sample(seed)  # a bad setting of the space fails here, in one line, not inside the search
        opt = get_optimizer(optimizer, space_obj, seed=seed, **opt_params)
    except UserError as err:
        raise UserError(str(err) + hint) from None
    except (ValueError, TypeError, KeyError) as err:
        raise UserError(_culprits(_message(err), {**space_params, **opt_params}) + hint) from None
    settings = {"command": "search", "space": space, "space_params": space_params, "objective": objective,
                "optimizer": optimizer, "optimizer_params": opt_params, "seed": seed, "epochs": epochs,
                "budget": budget, **({} if early_stop is None else {"early_stop": early_stop})}
    from graphnas.search.loop import check_journal, journal_lock

    out.mkdir(parents=True, exist_ok=True)
    try:  # the journal's lock, held until the command ends: --fresh removes the journal only if no search runs
        ctx.with_resource(journal_lock(out / "journal.jsonl"))
    except RuntimeError as err:
        raise UserError(str(err)) from None
    cfg = out / "config.json"
    old_cfg = cfg.read_bytes() if cfg.exists() else None
    try:  # resuming a journal of other settings would mix two searches
        prepare_output(out, settings, fresh=fresh)
        if not fresh and (out / "journal.jsonl").exists():  # another search's or damaged: refused here
            try:
                check_journal(out / "journal.jsonl", opt, objective_fn)
            except ValueError:  # the folder keeps the settings of the search its journal holds
                cfg.write_bytes(old_cfg) if old_cfg is not None else cfg.unlink()
                raise
    except ValueError as err:
        raise UserError(str(err)) from None
    from graphnas.search import run
    from graphnas.search.loop import arch_string

    if stopper is not None and not fresh and (out / "journal.jsonl").exists():
        from graphnas.search import read_journal

        stopper.resume(read_journal(out / "journal.jsonl"))  # the incumbent and residuals of the runs done
    pool, close = _search_executor(executor, workers, address, cpus_per_eval, gpus_per_eval, timeout)
    with _progress_bar() as bar:
        task = bar.add_task(f"{optimizer} on {space}", total=budget, info="")

        ran = []

        def tick(history: Any, evaluation: Any) -> None:
            ran.append(evaluation)
            best = history.best_value
            bar.update(task, completed=len(history),
                       info=f"best {best:.2f}" if not math.isnan(best) else "no success yet")

        try:
            history = run(opt, objective_fn, budget, executor=pool, journal=out / "journal.jsonl",
                          progress=tick, workers=None if pool is None else workers, timeout=timeout,
                          retries=retries)
        finally:
            if close is not None:
                close()
    console = _console()
    if not ran and len(history) >= budget > 0:
        console.print(f"[yellow]the journal in {out} already holds {len(history)} evaluations (--budget {budget}): "
                      "nothing new was run; pass a larger --budget to search on, or --fresh to start over[/yellow]")
    console.print(_history_table(f"best of {len(history)} evaluations", history, space_obj))
    best, best_value = history.best_dag, history.best_value
    best_at = getattr(opt, "best_at", None)
    if callable(best_at):  # multi-fidelity: the best at the highest fidelity, not a cheap low-fidelity score
        top = best_at()
        best, best_value = (None, math.nan) if top is None else top
    best_arch = None if best is None else arch_string(space_obj, best)
    summary = {"space": space, "space_params": space_params, "objective": objective, "optimizer": optimizer,
               "optimizer_params": opt_params, "budget": budget, "seed": seed,
               "evaluations": len(history), "failed": len(history.failed), "stopped": len(history.stopped),
               "cost": sum(e.cost for e in history.evaluations if e.cost is not None),
               "best_value": None if best is None else best_value,
               "best_arch": best_arch, "best_dag": None if best is None else best.to_dict(),
               "best_so_far": [v if math.isfinite(v) else None for v in history.best_so_far]}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    if best is None:
        if callable(best_at) and any(e.ok for e in history.evaluations):
            raise UserError(f"no evaluation reached the highest fidelity yet; raise --budget (see "
                            f"{out / 'journal.jsonl'})")
        first = history.failed[0].error if history.failed else "no evaluation"
        raise UserError(f"every evaluation failed (first error: {first}); see {out / 'journal.jsonl'}")
    best.save(str(out / "best.json"))
    from graphnas.converters.dot import GraphvizNotFoundError
    from graphnas.converters.dot import render as draw

    try:
        draw(best, out / "best.svg", title=f"best: {best_value:.2f}")
    except GraphvizNotFoundError as err:
        _console(stderr=True).print(f"[yellow]note[/yellow]: {err}")
    wrote = ["journal.jsonl", "best.json", "best.svg", "summary.json"]
    from graphnas.search.reinforce import Reinforce, plot_policy

    if isinstance(opt, Reinforce):  # what the controller has learned: per decision, each option's probability
        plot_policy(opt, str(out / "policy.png"))
        wrote.append("policy.png")
    if best_arch is not None:
        console.print(f"best: {best_arch}")
    console.print(f"best value {best_value:.2f}; wrote {out}/{', '.join(wrote)}")


def _takes(target: Any, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def _fidelity_levels(opt_target: Any, opt_params: dict[str, Any], objective_fn: Any, epochs: int) -> dict[str, Any]:
    """A multi-fidelity optimizer (it takes ``levels``) given none gets the objective's: the table's epochs
    (12, 200), or for digits a ladder of epochs up to ``--epochs`` in steps of ``eta``."""
    if not _takes(opt_target, "levels"):
        return opt_params
    if "levels" in opt_params:
        check = getattr(objective_fn, "check_fidelity", None)  # a table knows its epochs: refuse others now,
        levels = opt_params["levels"]                           # not after the budget is spent on failures
        if callable(check) and isinstance(levels, (list, tuple)):
            resource = opt_params.get("resource", "epochs")
            for level in levels:
                try:
                    check({resource: level})
                except ValueError as err:
                    raise UserError(f"--levels: {_message(err)}") from None
        return opt_params
    table_levels = getattr(objective_fn, "fidelity_metrics", None)
    if table_levels:
        return {**opt_params, "levels": sorted(table_levels)}
    eta = float(opt_params.get("eta", 3))
    return {**opt_params, "levels": sorted({max(1, round(epochs / eta ** k)) for k in range(3)})}


def _use_threads(n: int) -> None:
    """The command owns its process: give torch ``n`` intra-op threads here and in the worker processes it
    starts (they read OMP_NUM_THREADS when torch starts). The library itself never sets a thread count."""
    import os

    os.environ["OMP_NUM_THREADS"] = str(n)
    import torch

    torch.set_num_threads(n)


@app.command(short_help="The main job: BO with the GNN surrogate on digits.")
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("runs/demo"),
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed: the same seed gives the same result.")] = 0,
    budget: Annotated[int, typer.Option("--budget", "-b", min=2, help="Evaluations for BO and for random search "
                                                                      "each.")] = 60,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs per evaluation.")] = 3,
    initial: Annotated[int, typer.Option("--initial", min=1, help="Random samples before the surrogate is "
                                                                  "used.")] = 8,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Also run random search on the "
                                                                              "same budget.")] = True,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start over instead of resuming the journals in "
                                                        "--out.")] = False,
    max_train: Annotated[int | None, typer.Option("--max-train", min=1, hidden=True,
                                                  help="Train on the first N images only (tests).")] = None,
    surrogate_epochs: Annotated[int, typer.Option("--surrogate-epochs", min=1, hidden=True)] = 150,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch threads per process that trains (the "
                                                              "small networks train fastest on one).")] = 1,
) -> None:
    """The main job: BO with the GNN surrogate on digits with real training, against random search.

    Writes the journals, the best cell (JSON, SVG), its trained model (state_dict, ONNX), a plot of the
    search curves (PNG) and a report (Markdown and HTML) into --out.
    """

    _use_threads(threads)

    from graphnas.jobs import MainJobConfig, main_job, prepare_output

    cfg = MainJobConfig(seed=seed, budget=budget, epochs=epochs, initial=min(initial, budget), baseline=baseline,
                        max_train=max_train, surrogate_epochs=surrogate_epochs,
                        surrogate_warm_epochs=max(1, surrogate_epochs * 4 // 15))
    try:
        prepare_output(out, cfg, fresh=fresh)
    except ValueError as err:
        raise UserError(str(err)) from None
    console = _console()
    console.print(f"[bold]graphnas main job[/bold]: BO with a GNN surrogate over NAS-Bench-201 cells, each trained "
                  f"for {epochs} epochs on digits (seed {seed}, {budget} evaluations"
                  f"{' + the same for random search' if baseline else ''}) -> {out}/")
    with _progress_bar() as bar:
        tasks = {"bo": bar.add_task("BO + GNN surrogate", total=budget, info="")}
        if baseline:
            tasks["random"] = bar.add_task("random search", total=budget, info="")
        tasks["final"] = bar.add_task("retrain best, save", total=1, info="")
        best: dict[str, float] = {}

        def tick(phase: str, done: int, total: int, evaluation: Any) -> None:
            if evaluation is not None:
                best[phase] = max(best.get(phase, -math.inf), evaluation.value if evaluation.ok else -math.inf)
                last = f"{evaluation.value:.2f}" if evaluation.ok else "failed"
                info = f"best {best[phase]:.2f}, last {last}" if math.isfinite(best[phase]) else f"last {last}"
                bar.update(tasks[phase], completed=done, total=total, info=info)
            else:
                bar.update(tasks[phase], completed=done, total=total)

        try:
            summary = main_job(out, cfg, progress=tick)
        except ValueError as err:
            raise UserError(str(err)) from None
    from rich.table import Table

    bo, rnd, top = summary["bo"], summary["random"], summary["best"]
    table = Table(title="main job")
    table.add_column("")
    table.add_column("BO + GNN surrogate", justify="right")
    if baseline:
        table.add_column("random search", justify="right")
    for label, key, fmt in [("best validation accuracy (%)", "best_value", "{:.2f}"),
                            ("found at evaluation", "best_index", "{}"),
                            ("mean accuracy (%)", "mean_value", "{:.2f}"),
                            ("wall time (s)", "seconds", "{:.1f}")]:
        vals = [bo[key] + 1 if key == "best_index" else bo[key]]
        if baseline:
            vals.append(rnd[key] + 1 if key == "best_index" else rnd[key])
        table.add_row(label, *[fmt.format(v) for v in vals])
    console.print(table)
    console.print(f"best cell {top['arch']}: {top['value']:.2f}% (retrained: {top['retrained_value']:.2f}%), "
                  f"{int(top['params']):,} parameters")
    files = [v for v in summary["files"].values() if v]
    console.print(f"wrote {out}/: {', '.join(files)} in {summary['seconds']:.0f} s")
    if summary.get("onnx_error"):
        console.print(f"[yellow]note[/yellow]: {summary['onnx_error']}")


@app.command(short_help="One-shot search: DARTS, ENAS or random paths.")
def oneshot(
    space: Annotated[str, typer.Option("--space", help="A space with a supernet: nb201, darts or enas.")] = "nb201",
    method: Annotated[str, typer.Option("--method", help="darts (DARTS; --order 2 for second order), enas "
                                                         "(controller + shared weights) or random (random paths, "
                                                         "ranked by inherited accuracy).")] = "darts",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Supernet training epochs.")] = 10,
    final_epochs: Annotated[int, typer.Option("--final-epochs", min=1, help="Epochs of the derived network's "
                                                                            "stand-alone training.")] = 10,
    order: Annotated[int, typer.Option("--order", min=1, max=2, help="DARTS' order (1 or 2).")] = 1,
    aux_skip: Annotated[float, typer.Option("--aux-skip", min=0.0, help="DARTS- (a remedy for the collapse onto "
                                                                         "skip connections): an auxiliary skip "
                                                                         "decaying from this weight to 0.")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the whole run.")] = 0,
    C: Annotated[int, typer.Option("--channels", "-C", min=1, help="Channels of the first stage.")] = 8,
    out: Annotated[Path, typer.Option("--out", help="Folder for the derived cell (JSON, SVG), architecture "
                                                   "weights, curves, model (state_dict, ONNX) and report.")]
        = Path("oneshot"),
    fresh: Annotated[bool, typer.Option("--fresh", help="Start over instead of resuming the checkpoint in "
                                                        "--out.")] = False,
    max_train: Annotated[int | None, typer.Option("--max-train", min=2, hidden=True,
                                                  help="Train on the first N images only (tests).")] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch threads.")] = 1,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
) -> None:
    """One-shot search with shared weights: train the space's supernet with DARTS, ENAS or random paths,
    derive a cell, train it stand-alone, and write everything into --out (a killed run resumes)."""
    _use_threads(threads)
    from graphnas.oneshot.job import oneshot_job

    if aux_skip and method != "darts":
        raise UserError(f"--aux-skip is an option of --method darts, not {method}")
    if order != 1 and method != "darts":
        raise UserError(f"--order is an option of --method darts, not {method}")
    try:
        summary = oneshot_job(out, space=space, method=method, epochs=epochs, final_epochs=final_epochs,
                              seed=seed, C=C, order=order, max_train=max_train, progress=progress, resume=not fresh,
                              options={"aux_skip": aux_skip} if aux_skip else None)
    except (ValueError, NotImplementedError, KeyError) as err:
        raise UserError(_message(err)) from None
    console = _console()
    d = summary["derived"]
    console.print(f"derived cell {d['arch'] or '(see derived.json)'}: {d['val_accuracy']:.2f}% after "
                  f"{final_epochs} epochs stand-alone, {int(d['params']):,} parameters")
    files = [v for v in summary["files"].values() if v]
    console.print(f"wrote {out}/: {', '.join(files)} in {summary['seconds']:.0f} s")


@app.command(short_help="Versions, Graphviz, and the registered names.")
def info() -> None:
    """Versions, whether Graphviz is found, and the registered generators, spaces, models, optimizers and ops."""
    import platform
    import shutil
    import subprocess
    from importlib import metadata

    from rich.table import Table

    import graphnas

    console = _console()
    table = Table(title="graphnas", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("graphnas", graphnas.__version__)
    table.add_row("python", platform.python_version())
    for pkg in ("torch", "torch_geometric", "networkx", "igraph", "scikit-learn", "onnx", "onnxscript"):
        try:
            version = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            version = "not installed"
        table.add_row(pkg, version)
    dot = shutil.which("dot")
    if dot:
        proc = subprocess.run([dot, "-V"], capture_output=True, text=True, check=False)
        table.add_row("graphviz dot", f"{dot} ({(proc.stderr or proc.stdout).strip()})")
    else:
        table.add_row("graphviz dot", "[red]not found[/red]: install Graphviz (apt-get install graphviz) to "
                                      "render pictures")
    console.print(table)

    from graphnas.benchmarks.objectives import list_objectives
    from graphnas.generators import is_space, list_generators
    from graphnas.models import list_models
    from graphnas.search import list_acquisitions, list_optimizers

    gens = [name for name in list_generators() if not is_space(name)]
    spaces = [name for name in list_generators() if is_space(name)]
    console.print(f"[bold]generators[/bold] ({len(gens)}): {', '.join(gens)}")
    console.print(f"[bold]spaces[/bold] ({len(spaces)}): {', '.join(spaces)}")
    for what, names in (("models", list_models()), ("optimizers", list_optimizers()),
                        ("acquisitions", list_acquisitions()), ("objectives", list_objectives())):
        console.print(f"[bold]{what}[/bold] ({len(names)}): {', '.join(names)}")
    try:
        from graphnas.ops import list_ops
    except ImportError:  # pragma: no cover
        ops: list[str] = []
    else:
        ops = list_ops()
    console.print(f"[bold]ops[/bold] ({len(ops)}): {', '.join(ops)}")


# --------------------------------------------------------------------------- entry point

_USER_ERRORS: tuple[type[BaseException], ...] = (UserError, GraphError, UnknownNameError, OSError)


def _user_errors() -> tuple[type[BaseException], ...]:
    errors = list(_USER_ERRORS)
    from graphnas.converters.dot import RenderError
    from graphnas.converters.onnx import ExportError

    errors += [RenderError, ExportError]
    return tuple(errors)


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.filename is not None:
        text = f"{err.filename}: {err.strerror or err}"
        if isinstance(err, (FileExistsError, NotADirectoryError)):  # e.g. --out names a file
            text += " (a folder is needed there and a file is in the way: choose another path or move the file)"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Click's UsageError: vendored inside typer since 0.2x, the click package before."""
    errors: list[type[BaseException]] = []
    try:
        from typer._click.exceptions import UsageError as VendoredUsageError
    except ImportError:
        pass
    else:
        errors.append(VendoredUsageError)
    try:
        from click.exceptions import UsageError
    except ImportError:  # pragma: no cover - newer typer does not need click
        pass
    else:
        errors.append(UsageError)
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``graphnas`` command (the console-script entry point)."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = command.main(args=args, prog_name="graphnas", standalone_mode=False)
    except _usage_errors() as err:
        ctx = getattr(err, "ctx", None)
        if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            sys.exit(0)
        where = f"graphnas {ctx.info_name}" if ctx is not None and ctx.parent is not None else "graphnas"
        text = err.format_message() if hasattr(err, "format_message") else str(err)  # names the option
        typer.echo(f"graphnas: error: {' '.join(text.split()) or type(err).__name__} (see '{where} --help')",
                   err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("graphnas: interrupted", err=True)
        sys.exit(130)
    except _user_errors() as err:
        typer.echo(f"graphnas: error: {_one_line(err)}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
