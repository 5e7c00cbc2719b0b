"""A compiled graph (any ``nn.Module``) to ONNX, with the dynamo exporter and a dynamic batch dimension.

**Example**

```python
>>> import torch
>>> from graphnas import export_onnx, to_torch
>>> from graphnas.models import nb201
>>> module = to_torch(nb201("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|", C=4, N=1))
>>> export_onnx(module, torch.zeros(1, 3, 8, 8), "nb201.onnx")  # doctest: +SKIP

```

Needs the ``onnx`` and ``onnxscript`` packages (``pip install 'graphnas[onnx]'``).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

__all__ = ["ExportError", "export_onnx"]


class ExportError(RuntimeError):
    """A model could not be exported (e.g. ONNX without the ``onnx`` package)."""


def export_onnx(module: Any, example: Any, path: str | Path) -> Path:
    """Export ``module`` to ONNX at ``path`` (input ``x`` with a dynamic batch dimension, output ``y``).

    The export runs in eval mode (batch norm uses its running statistics); afterwards every
    submodule is back in the training mode it had. Nothing is printed: the exporter's
    progress messages are turned off and its warnings are not shown.

    Returns:
        ``path``.

    Raises:
        ExportError: ``onnx``/``onnxscript`` are missing or the export failed.
    """
    import torch

    for pkg in ("onnx", "onnxscript"):
        try:
            __import__(pkg)
        except ImportError:
            raise ExportError(f"ONNX export needs the '{pkg}' package: pip install 'graphnas[onnx]'") from None
    modes = [(m, m.training) for m in module.modules()]
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)
    module.eval()
    try:
        try:
            with torch.no_grad():
                module(example)
        except Exception as err:  # noqa: BLE001 - the example must run before the exporter traces it
            raise ExportError(f"ONNX export: the example input of shape {tuple(example.shape)} does not run "
                              f"through the module ({type(err).__name__}: {_first_line(err)}); pass an input the "
                              "network takes, e.g. torch.zeros(1, in_channels, H, W)") from err
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (example,), str(path), dynamo=True, verbose=False, input_names=["x"],
                              output_names=["y"], dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=4096)},),
                              external_data=False)
    except ExportError:
        raise
    except Exception as err:  # noqa: BLE001 - any exporter failure becomes one clear error
        cause = err.__cause__ or err
        raise ExportError(f"ONNX export failed: {type(cause).__name__}: {_first_line(cause)}") from err
    finally:
        onnx_log.setLevel(level)
        for m, training in modes:
            m.training = training
    return Path(path)


def _first_line(err: BaseException) -> str:
    """The first line of an exception's message, without the exporter's terminal colour codes."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    return text.strip().splitlines()[0] if text.strip() else ""
