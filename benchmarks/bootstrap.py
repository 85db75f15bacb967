"""How sure compare.py's differences are: a bootstrap over micrographs, from the picks a compare run left behind.

    python benchmarks/compare.py --out /tmp/drpnet-compare ...
    python benchmarks/bootstrap.py [--out /tmp/drpnet-compare] [--reference "drpnet (default)"] [--samples 500]

For every set and every method with picks in --out, the differences reference minus method in F1 (at the headline
match radius, each at its own operating point as compare.py scores it: Topaz's F1 is its best over all thresholds,
chosen again on each resample) and in AP, on the set's micrographs and over --samples resamples of them drawn with
replacement: the 2.5-97.5 percentiles and the share of resamples in which the reference is lower. Ten micrographs
are few: the interval says how far another ten like them could move a difference, not more.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from drpnet.evaluate import Matches, score_matches

sys.path.insert(0, str(Path(__file__).parent))
from compare import matched, method_folder, methods
from sets import LabelledSet, available

#: Per micrograph, a method's matches at its operating point and over its full ranking, and whether its F1 is the
#: best over thresholds (an oracle: a method without an operating point, whose ranking stands in for both).
Scored = tuple[dict[str, Matches], dict[str, Matches], bool]


def set_matches(labelled: LabelledSet, out: Path) -> dict[str, Scored]:
    """Method name -> its :data:`Scored` on ``labelled``, for the methods whose picks are in ``out``."""
    micrographs = labelled.micrographs()
    radius = labelled.radii[0]
    found = {}
    for name, (operating, _, read) in methods("topaz").items():  # names and readers only: nothing runs
        folder = method_folder(out, labelled, name)
        if not (folder / "ranking").exists():
            continue
        ranking = matched(labelled, micrographs, read(folder / "ranking"), radius)
        at = matched(labelled, micrographs, read(folder / "operating"), radius) if operating else ranking
        found[name] = (at, ranking, operating is None)
    return found


def quality(method: Scored, names: list[str]) -> np.ndarray:
    """``(2,)`` F1 and AP over the micrographs ``names`` (repeats allowed)."""
    at, ranked = ({str(i): table[name] for i, name in enumerate(names)} for table in method[:2])
    whole = score_matches(ranked)[1]
    return np.array([whole.best_f1 if method[2] else score_matches(at)[1].f1, whole.average_precision])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/drpnet-compare"))
    parser.add_argument("--reference", default="drpnet (default)")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print("| set | method | F1 difference [95%] | reference lower | AP difference [95%] | reference lower |")
    print("|---|---|---|---|---|---|")
    for labelled in available():
        found = set_matches(labelled, args.out)
        if args.reference not in found:
            continue
        names = [m.stem for m in labelled.micrographs()]
        draws = [list(rng.choice(names, len(names))) for _ in range(args.samples)]
        reference = np.array([quality(found[args.reference], draw) for draw in draws])
        point = quality(found[args.reference], names)
        for name, method in found.items():
            if name == args.reference:
                continue
            difference = point - quality(method, names)
            spread = reference - np.array([quality(method, draw) for draw in draws])
            low, high = np.quantile(spread, [0.025, 0.975], axis=0)
            lower = (spread < 0).mean(axis=0)
            cells = [f"{difference[i]:+.3f} [{low[i]:+.3f}, {high[i]:+.3f}] | {lower[i]:.0%}" for i in range(2)]
            print(f"| {labelled.name} | {name} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
