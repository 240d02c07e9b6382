"""Detours on the road network: how much farther a trip goes when one link (a bridge) is taken out.

Pure: arrays in, arrays out. Road ledgers are link–node data, so the network is the registry's road segments
joined where their end points meet (within `snap_m`), plus the pieces of the reference roads (国道・都道府県道
the registry does not hold; clusters.ReferenceRoad), which the data layer cuts at the road ends that meet them."""

from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass(frozen=True)
class Edges:
    """Road links in a metric plane: ids, end points (x east, y north, metres) and lengths. `reference` holds,
    per link, the id of the reference road it is a piece of (NaN for a registry road segment); None: none are."""

    ids: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    length: np.ndarray
    reference: np.ndarray | None = None


@dataclass(frozen=True)
class Detours:
    extra_m: np.ndarray  # per removed link: extra distance of the shortest way round, NaN where there is none
    via: list[frozenset]  # per removed link: the reference roads that way round uses (empty: registry roads only)


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


def detour_routes(edges: Edges, removed: np.ndarray, cutoff_m: float, snap_m: float = 0.5) -> Detours:
    """Extra distance (m) between the two ends of each removed link once it is gone: the shortest other path
    minus the link's own length, and the reference roads on that path. NaN where no other path shorter than the
    link plus `cutoff_m` exists on the registry's roads or the reference roads (the crossing would be cut off,
    or the way round is too long to matter)."""
    graph, ends = build_graph(edges, snap_m)
    length = dict(zip(edges.ids.tolist(), edges.length.tolist(), strict=True))
    ref = {} if edges.reference is None else {
        int(k): int(r) for k, r in zip(edges.ids.tolist(), edges.reference.tolist(), strict=True) if r == r}
    out = np.full(len(removed), np.nan)
    via: list[frozenset] = [frozenset()] * len(removed)
    for i, link in enumerate(np.asarray(removed).tolist()):
        if link not in ends:
            continue
        u, v = ends[link]
        own = length[link]
        data = graph.edges[u, v, link]
        graph.remove_edge(u, v, key=link)
        try:
            # Stops as soon as the other end is reached, or when everything within the cutoff has been seen.
            dist, path = nx.single_source_dijkstra(graph, u, target=v, cutoff=own + cutoff_m, weight="w")
            out[i] = max(dist - own, 0.0)
            via[i] = _references_on(graph, path, ref) if ref else frozenset()
        except nx.NetworkXNoPath:
            pass
        finally:
            graph.add_edge(u, v, key=link, **data)
    return Detours(out, via)


def _references_on(graph: nx.MultiGraph, path: list, ref: dict) -> frozenset:
    """The reference roads the path's links belong to (between two nodes, the shortest parallel link)."""
    used = set()
    for a, b in zip(path[:-1], path[1:], strict=True):
        key = min(graph[a][b].items(), key=lambda kv: kv[1]["w"])[0]
        if key in ref:
            used.add(ref[key])
    return frozenset(used)


def detours(edges: Edges, removed: np.ndarray, cutoff_m: float, snap_m: float = 0.5) -> np.ndarray:
    """The extra distances of `detour_routes` alone."""
    return detour_routes(edges, removed, cutoff_m, snap_m).extra_m
