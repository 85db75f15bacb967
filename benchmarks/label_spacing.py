"""How close the labelled particles of each set lie, and what that leaves any picker under the minimum pick distance.

    python benchmarks/label_spacing.py [--json F]

For every labelled set (the micrographs benchmarks/compare.py scores): the nearest labelled neighbour's distance in
diameters (quantiles), and the largest share of the labels that picks on their centres can keep when no two picks
may be closer than `peaks: {min_distance}` (0.5) times the diameter a user gives, at 0.75x, 1x and 1.25x the labels'
diameter: the recall of a detector that peaks on every labelled centre, as it is trained to, under that rule (an
exact maximum independent set of the labels closer than the distance, per cluster; the clusters hold a handful of
labels). Picks placed off centre could keep more, since scoring matches within 0.5 d.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sets import available

MIN_DISTANCE = 0.5  # diameters: the peaks default
FACTORS = (0.75, 1.0, 1.25)


def largest_independent_set(neighbours: dict[int, set[int]]) -> int:
    """Size of the largest set of vertices no two of which are neighbours (branching on a vertex of highest degree:
    exact, and quick for the few vertices of a cluster)."""
    if not neighbours:
        return 0
    vertex = max(neighbours, key=lambda v: len(neighbours[v]))
    if not neighbours[vertex]:  # no edges left: every vertex counts
        return len(neighbours)

    def without(removed: set[int]) -> dict[int, set[int]]:
        return {v: n - removed for v, n in neighbours.items() if v not in removed}

    return max(
        largest_independent_set(without({vertex})),
        1 + largest_independent_set(without({vertex} | neighbours[vertex])),
    )


def keepable(centres: np.ndarray, distance: float) -> int:
    """How many of ``(n, 2)`` centres can be kept with no two closer than ``distance``."""
    pairs = np.array(sorted(cKDTree(centres).query_pairs(distance)), dtype=int).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(centres), len(centres)))
    _, cluster = connected_components(graph, directed=False)
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(centres))}
    for i, j in pairs:
        neighbours[i].add(j)
        neighbours[j].add(i)
    kept = 0
    for label in np.unique(cluster):
        members = set(np.flatnonzero(cluster == label).tolist())
        kept += largest_independent_set({v: neighbours[v] & members for v in members})
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    report = {}
    print("| set | labels | nearest neighbour, d: 5% / 10% / 25% / 50% | perfect recall at 0.75x / 1x / 1.25x |")
    print("|---|---|---|---|")
    for labelled in available():
        truth = labelled.truth(labelled.micrographs())
        centres = [table[["x", "y"]].to_numpy(float) for table in truth.values()]
        nearest = np.concatenate([cKDTree(c).query(c, 2)[0][:, 1] for c in centres]) / labelled.diameter
        total = sum(len(c) for c in centres)
        recall = {f: sum(keepable(c, MIN_DISTANCE * f * labelled.diameter) for c in centres) / total for f in FACTORS}
        quantiles = np.quantile(nearest, [0.05, 0.1, 0.25, 0.5])
        report[labelled.name] = {"labels": total, "nearest_quantiles": quantiles.tolist(), "perfect_recall": recall}
        print(
            f"| {labelled.name} | {total} | {' / '.join(f'{q:.2f}' for q in quantiles)} | "
            f"{' / '.join(f'{recall[f]:.3f}' for f in FACTORS)} |"
        )
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()
