#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/growthbook-vectors.json from GrowthBook's reference SDK.

    pip download growthbook==4.0.0 --no-deps -d /tmp/gb && (cd /tmp/gb && unzip -o -q growthbook-*.whl)
    PYTHONPATH=/tmp/gb python3 scripts/growthbook-vectors.py

The vectors (hash v1/v2, bucket ranges, chooseVariation, inNamespace, equal weights, and whole
assignments) are committed; the Swift tests check Duet against them exactly.
"""
import json, random, sys, os
from growthbook.core import gbhash, getBucketRanges, chooseVariation, inNamespace, getEqualWeights

rng = random.Random(20261128)

def rand_id():
    kind = rng.random()
    if kind < 0.6:
        return "u" + str(rng.randrange(10**9))
    if kind < 0.8:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_@.") for _ in range(rng.randrange(1, 24)))
    # Non-ASCII, including characters outside the BMP (where UTF-16 and scalars differ).
    pool = "éüßøł日本語ユーザー😀🚀𝔘ñç"
    return "".join(rng.choice(pool + "abc123") for _ in range(rng.randrange(1, 10)))

hashes = []
for _ in range(3000):
    seed, value, v = rand_id(), rand_id(), rng.choice([1, 2])
    hashes.append({"seed": seed, "value": value, "version": v, "hash": gbhash(seed, value, v)})

ranges = []
for _ in range(400):
    n = rng.randrange(1, 6)
    coverage = rng.choice([1, 0.5, 0.25, 0, -0.2, 1.3, rng.random()])
    r = rng.random()
    if r < 0.4:
        raw = [rng.random() for _ in range(n)]; s = sum(raw); weights = [w / s for w in raw]
    elif r < 0.6:
        weights = [rng.random() for _ in range(n)]          # usually not summing to 1: equal fallback
    elif r < 0.75:
        weights = [1 / (n + 1)] * (n + 1)                    # wrong count: equal fallback
    elif r < 0.85:
        weights = None
    else:
        weights = [0.7, 0.3] if n == 2 else getEqualWeights(n)
    ranges.append({"count": n, "coverage": coverage, "weights": weights,
                   "ranges": [list(x) for x in getBucketRanges(n, coverage, weights)]})

chooses = []
for case in ranges[:200]:
    for _ in range(5):
        x = round(rng.random(), 4)
        chooses.append({"n": x, "ranges": case["ranges"], "index": chooseVariation(x, [tuple(r) for r in case["ranges"]])})

namespaces = []
for _ in range(1000):
    user, name = rand_id(), rng.choice(["search", "pricing", "ns-" + str(rng.randrange(100))])
    a = round(rng.random(), 3); b = round(min(1, a + rng.random()), 3)
    namespaces.append({"user": user, "name": name, "start": a, "end": b, "in": inNamespace(user, (name, a, b))})

# Whole assignments: seed, version, coverage, weights -> arm index (or -1), the way _run_experiment buckets.
assignments = []
for _ in range(300):
    n = rng.randrange(2, 5)
    raw = [rng.random() + 0.05 for _ in range(n)]; s = sum(raw); weights = [w / s for w in raw]
    coverage = rng.choice([1, 1, 0.8, 0.5, rng.random()])
    seed, version = rand_id(), rng.choice([1, 2])
    users = [rand_id() for _ in range(20)]
    rs = getBucketRanges(n, coverage, weights)
    assignments.append({"seed": seed, "version": version, "coverage": coverage, "weights": weights,
                        "users": users, "arms": [chooseVariation(gbhash(seed, u, version), rs) for u in users]})

out = {"sdk": "growthbook (python) 4.0.0", "hash": hashes, "bucketRanges": ranges, "chooseVariation": chooses,
       "inNamespace": namespaces, "equalWeights": [{"n": n, "weights": getEqualWeights(n)} for n in range(0, 7)],
       "assignments": assignments}
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "growthbook-vectors.json")
with open(path, "w") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
print("wrote", path, {k: len(v) for k, v in out.items() if isinstance(v, list)})
