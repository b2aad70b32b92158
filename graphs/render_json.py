"""Node-link JSON (networkx's `node_link_data`), byte-for-byte deterministic.

Nodes appear in drawing order (the root first), edges grouped by source in body order, and every
object's keys sorted, so the same graph always gives the same bytes.
"""
from __future__ import annotations

import inspect
import json

import networkx as nx

from graphs.build import ordered_edges


def node_link(graph: nx.DiGraph) -> dict:
    """networkx node-link data with edges under "links" on every networkx version."""
    ordered = nx.DiGraph()
    ordered.graph.update(graph.graph)
    ordered.add_nodes_from(graph.nodes(data=True))
    ordered.add_edges_from(ordered_edges(graph))
    kwargs = {"edges": "links"} if "edges" in inspect.signature(nx.node_link_data).parameters else {}
    return nx.node_link_data(ordered, **kwargs)


def to_json(graph: nx.DiGraph) -> str:
    return json.dumps(node_link(graph), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
