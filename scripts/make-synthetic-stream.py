#!/usr/bin/env python3
"""Writes a synthetic jsonl stream with planted structure, for developing the learner.

usage: scripts/make-synthetic-stream.py OUT [--events 100000] [--users 943] [--items 1682] [--rank 5] [--seed 1]

Each event: a user (Zipf-ish activity) sees an item (popularity-skewed); P(label=1) =
σ(b + b_user + b_item + 0.8·b_genre + ⟨u, i⟩ + 0.5·age·item_age_affinity) with rank-`rank` user and item
vectors, so a learner needs per-user/item biases plus low-rank user×item interactions to do well.
Features: user_id, item_id, genre (categorical), age (numeric in [0, 1]); about 55% positives.
"""
import argparse, json, math, random

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("--events", type=int, default=100000)
ap.add_argument("--users", type=int, default=943); ap.add_argument("--items", type=int, default=1682)
ap.add_argument("--rank", type=int, default=5); ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rnd = random.Random(a.seed)
genres = ["Action", "Comedy", "Drama", "Horror", "Romance", "SciFi", "Thriller", "Animation"]
gbias = {g: rnd.gauss(0, 0.4) for g in genres}
users = [dict(b=rnd.gauss(0, 0.7), v=[rnd.gauss(0, 0.6) for _ in range(a.rank)], age=rnd.random(),
              w=rnd.paretovariate(1.2)) for _ in range(a.users)]
items = [dict(b=rnd.gauss(0, 0.6), v=[rnd.gauss(0, 0.6) for _ in range(a.rank)], g=rnd.choice(genres),
              aa=rnd.gauss(0, 1), w=rnd.paretovariate(1.0)) for _ in range(a.items)]
uw = [u["w"] for u in users]; iw = [i["w"] for i in items]
pos = 0
with open(a.out, "w") as f:
    uidx = rnd.choices(range(a.users), weights=uw, k=a.events)
    iidx = rnd.choices(range(a.items), weights=iw, k=a.events)
    for n in range(a.events):
        u, i = users[uidx[n]], items[iidx[n]]
        z = 0.25 + u["b"] + i["b"] + 0.8 * gbias[i["g"]] + sum(x * y for x, y in zip(u["v"], i["v"])) + 0.5 * (u["age"] - 0.5) * i["aa"]
        y = 1 if rnd.random() < 1 / (1 + math.exp(-z)) else 0
        pos += y
        f.write(json.dumps({"features": {"user_id": str(uidx[n]), "item_id": str(iidx[n]), "genre": i["g"],
                                         "age": round(u["age"], 3)}, "label": y}) + "\n")
print("wrote %d events, %.1f%% positive" % (a.events, 100.0 * pos / a.events))
