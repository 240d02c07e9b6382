"""Detours on the road network: how much farther a trip goes when one link (a bridge) is taken out.

Pure: arrays in, arrays out. Road ledgers are link–node data, so the network is the registry's road segments
joined where their end points meet (within `snap_m`)."""

from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass(frozen=True)
class Edges:
    """Road links in a metric plane: ids, end points (x east, y north, metres) and lengths."""

    ids: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    length: np.ndarray


def build_graph(edges: Edges, snap_m: float) -> tuple[nx.MultiGraph, dict]:
    """One node per end point (snapped to a `snap_m` grid); one keyed edge per road link, so a link can be
    taken out without losing a parallel one. Returns the graph and {link id: (u, v)}."""
    ends = np.round(np.concatenate([np.column_stack([edges.x0, edges.y0]),
                                    np.column_stack([edges.x1, edges.y1])]) / snap_m).astype(np.int64)
    _, node = np.unique(ends, axis=0, return_inverse=True)
    node = node.ravel()
    n = len(edges.ids)
    u, v = node[:n], node[n:]
    graph = nx.MultiGraph()
    graph.add_edges_from((int(a), int(b), int(k), {"w": float(w)})
                         for a, b, k, w in zip(u, v, edges.ids, edges.length, strict=True))
    return graph, {int(k): (int(a), int(b)) for a, b, k in zip(u, v, edges.ids, strict=True)}


def detours(edges: Edges, removed: np.ndarray, cutoff_m: float, snap_m: float = 0.5) -> np.ndarray:
    """Extra distance (m) between the two ends of each removed link once it is gone: the shortest other path
    minus the link's own length. NaN where no other path shorter than the link plus `cutoff_m` exists
    (the crossing would be cut off, or the way round is too long to matter)."""
    graph, ends = build_graph(edges, snap_m)
    length = dict(zip(edges.ids.tolist(), edges.length.tolist(), strict=True))
    out = np.full(len(removed), np.nan)
    for i, link in enumerate(np.asarray(removed).tolist()):
        if link not in ends:
            continue
        u, v = ends[link]
        own = length[link]
        data = graph.edges[u, v, link]
        graph.remove_edge(u, v, key=link)
        try:
            # Stops as soon as the other end is reached, or when everything within the cutoff has been seen.
            dist, _path = nx.single_source_dijkstra(graph, u, target=v, cutoff=own + cutoff_m, weight="w")
            out[i] = max(dist - own, 0.0)
        except nx.NetworkXNoPath:
            pass
        finally:
            graph.add_edge(u, v, key=link, **data)
    return out
