"""Reading a DAG's JSON document (docs/json-schema.md): every field checked, errors naming their JSON path.

Kept apart from `graphnas.dag` so that the DAG class stays small; `DAG.from_dict` calls `dag_from_body`.
"""

from __future__ import annotations

from typing import Any

from graphnas.dag import DAG, GraphError, Node


def dag_from_body(doc: Any, where: str) -> DAG:
    """The DAG of a JSON object (the document, or a nested DAG at JSON path ``where``), checked field by field."""
    if not isinstance(doc, dict):
        raise GraphError(f"{where}: expected a JSON object describing a DAG, got {type(doc).__name__}")
    for field in ("nodes", "edges"):
        if field not in doc:
            raise GraphError(f"{where}: missing field {field!r}")
    known = {"nodes", "edges", "inputs", "outputs"} | ({"format", "version"} if where == "$" else set())
    unknown = set(doc) - known
    if unknown:  # a typo ("output") would otherwise be lost, and the default read in its place
        what = "" if where == "$" else " (a nested DAG has no format or version)"
        raise GraphError(f"{where}: unknown field(s) {sorted(unknown)}; a DAG object has {sorted(known)}{what}")
    raw_nodes = doc["nodes"]
    if not isinstance(raw_nodes, list):
        raise GraphError(f"{where}.nodes: expected a list")
    nodes = []
    for i, entry in enumerate(raw_nodes):
        at = f"{where}.nodes[{i}]"
        if not isinstance(entry, dict):
            raise GraphError(f"{at}: expected an object with 'op'")
        unknown = set(entry) - {"op", "params", "combine"}
        if unknown:
            raise GraphError(f"{at}: unknown field(s) {sorted(unknown)}")
        if "op" not in entry:
            raise GraphError(f"{at}: missing 'op'")
        op = entry["op"]
        if isinstance(op, dict):
            op = dag_from_body(op, f"{at}.op")
        elif not isinstance(op, str):
            raise GraphError(f"{at}.op: expected a string or a nested DAG object, got {type(op).__name__}")
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise GraphError(f"{at}.params: expected an object")
        combine = entry.get("combine", "sum")
        if not isinstance(combine, str):
            raise GraphError(f"{at}.combine: expected a string")
        try:
            nodes.append(Node(op, params, combine))
        except GraphError as err:
            raise GraphError(f"{at} (node {i}): {err}") from None
    edges = doc["edges"]
    if not isinstance(edges, list):
        raise GraphError(f"{where}.edges: expected a list of [src, dst] pairs")
    for j, e in enumerate(edges):
        if not isinstance(e, list) or len(e) != 2:
            raise GraphError(f"{where}.edges[{j}]: expected a [src, dst] pair, got {e!r}")
    try:
        return DAG(nodes, [tuple(e) for e in edges], inputs=doc.get("inputs"), outputs=doc.get("outputs"))
    except GraphError as err:
        if where == "$":  # the top-level graph: its node and edge numbers say enough
            raise
        raise GraphError(f"in the nested DAG at {where}: {err}") from None
