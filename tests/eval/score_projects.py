#!/usr/bin/env python3
"""Score project-name extraction against the development labels.

Usage:
    policy-search --projects --json > projects.json
    python3 tests/eval/score_projects.py projects.json [--verbose]
        [--labels tests/eval/projects_dev.tsv]
        [--borderline tests/eval/projects_borderline_dev.tsv]
        [--min-precision 0.9 --min-recall 0.85]
    ... | python3 tests/eval/score_projects.py -        (reads stdin)

Input is the JSON printed by `policy-search --projects --json`:
    {"projects": [{"name": "...", "count": N,
                   "documents": [{"path": "/abs/path", "title": "...", "year": "2024"}]}]}

Documents are matched to seed files by checksum (sha256 of the file's bytes), never
by name: corpus files carry other names than the seeds.  The table below holds the
checksums of the five seeds; only seeds that have labels (000, 001, 004) are scored.

Scoring, as in tests/eval/README.md:
  * names are normalised by removing all whitespace and the characters “”"'‘’《》「」,
    and a trailing parenthetical such as （武清园）, on both the predicted and the
    labelled side;
  * a predicted (name, document) pair is in scope when the document is a labelled
    seed; it is correct when the normalised name is labelled for that seed (any kind);
    it is ignored when it is in the borderline list for that seed;
    precision = correct / (in-scope predictions not ignored);
  * recall = labelled (seed, name) pairs of kinds project, park, platform, initiative
    that were predicted for that seed / all such pairs.

Prints precision, recall, F1 and the counts; --verbose adds the false positives and
the misses per document.  Exits 0, or 1 when --min-precision / --min-recall are given
and not reached (or when the input cannot be read).
"""
import argparse
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeds import SEED_SHA256, seed_of  # noqa: E402

RECALL_KINDS = {"project", "park", "platform", "initiative"}
HERE = os.path.dirname(os.path.abspath(__file__))

_STRIP = re.compile(r"[\s“”\"'‘’《》「」]")
_TRAILING_PAREN = re.compile(r"(（[^（）]*）|\([^()]*\))$")


def normalise(name):
    """The README's normalisation: no whitespace, no quotes or 《》, no trailing (…)."""
    s = _STRIP.sub("", name)
    s2 = _TRAILING_PAREN.sub("", s)
    return s2 if s2 else s


def load_labels(path):
    """{seed: {normalised name: kind}} from a seed / name / kind TSV."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) < 3:
                raise ValueError(f"{path}:{lineno}: expected 3 tab-separated columns")
            out.setdefault(cols[0], {})[normalise(cols[1])] = cols[2]
    return out


def run_product(build, corpus):
    """Indexes corpus with the build's programs and returns --projects --json."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "db")
        subprocess.run([os.path.join(build, "policy-index"), "--quiet", "--db", db, corpus],
                       check=True)
        out = subprocess.run([os.path.join(build, "policy-search"), "--db", db, "--projects",
                              "--json"], check=True, capture_output=True).stdout
        return json.loads(out)




def score(data, labels, borderline):
    """Returns a dict of counts and per-seed false positives / misses."""
    cache = {}
    predicted = {}  # seed -> {normalised name: raw name}
    for proj in data.get("projects", []):
        name = proj.get("name", "")
        for doc in proj.get("documents", []):
            seed = seed_of(doc.get("path", ""), cache)
            if seed in labels:
                predicted.setdefault(seed, {}).setdefault(normalise(name), name)
    tp = fp = ignored = 0
    fps, misses = {}, {}
    for seed, names in predicted.items():
        for norm, raw in names.items():
            if norm in labels[seed]:
                tp += 1
            elif norm in borderline.get(seed, {}):
                ignored += 1
            else:
                fp += 1
                fps.setdefault(seed, []).append(raw)
    want = found = 0
    for seed, names in labels.items():
        for norm, kind in names.items():
            if kind not in RECALL_KINDS:
                continue
            want += 1
            if norm in predicted.get(seed, {}):
                found += 1
            else:
                misses.setdefault(seed, []).append(norm)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = found / want if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp,
            "ignored": ignored, "found": found, "want": want, "fps": fps,
            "misses": misses, "seeds_seen": sorted(predicted)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="?", default="-", help="JSON file, or - for stdin")
    ap.add_argument("--labels", default=os.path.join(HERE, "projects_dev.tsv"))
    ap.add_argument("--borderline", default=os.path.join(HERE, "projects_borderline_dev.tsv"))
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--min-precision", type=float)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--build", help="build directory: index --corpus with its policy-index "
                    "into a temporary database and score its --projects output (one command)")
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "corpus"))
    args = ap.parse_args(argv)
    try:
        if args.build:
            data = run_product(args.build, args.corpus)
        elif args.input == "-":
            data = json.load(sys.stdin)
        else:
            with open(args.input, encoding="utf-8") as f:
                data = json.load(f)
        labels = load_labels(args.labels)
        borderline = load_labels(args.borderline)
    except (OSError, ValueError) as e:
        print(f"score_projects: {e}", file=sys.stderr)
        return 1
    r = score(data, labels, borderline)
    print(f"precision {r['precision']:.3f}  ({r['tp']} correct / {r['tp'] + r['fp']} scored, "
          f"{r['ignored']} borderline ignored)")
    print(f"recall    {r['recall']:.3f}  ({r['found']} / {r['want']} labelled names "
          f"of kinds {', '.join(sorted(RECALL_KINDS))})")
    print(f"f1        {r['f1']:.3f}")
    missing = sorted(set(labels) - set(r["seeds_seen"]))
    if missing:
        print(f"note: no predictions for labelled seeds {', '.join(missing)} "
              "(were their files passed to the indexer?)")
    if args.verbose:
        for seed in sorted(set(r["fps"]) | set(r["misses"])):
            print(f"\n== {seed}")
            for n in r["fps"].get(seed, []):
                print(f"  FP   {n}")
            for n in r["misses"].get(seed, []):
                print(f"  MISS {n}")
    ok = True
    if args.min_precision is not None and r["precision"] < args.min_precision:
        ok = False
    if args.min_recall is not None and r["recall"] < args.min_recall:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
