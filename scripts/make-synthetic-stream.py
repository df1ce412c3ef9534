#!/usr/bin/env python3
"""Writes a synthetic jsonl stream with planted structure, for developing the learner.

usage: scripts/make-synthetic-stream.py OUT [--events 100000] [--users 943] [--items 1682] [--rank 5] [--seed 1]
                                            [--arrivals F] [--drift F]

The world (drawn once from --seed, in this order, identical with or without the options below):
  - 8 genres g with biases b_genre(g) ~ N(0, 0.4²);
  - users u: bias b_u ~ N(0, 0.7²), taste u ∈ R^rank with entries ~ N(0, 0.6²), age ~ U(0, 1),
    activity w_u ~ Pareto(α = 1.2) on [1, ∞) (Python's random.paretovariate);
  - items i: bias b_i ~ N(0, 0.6²), vector i ∈ R^rank with entries ~ N(0, 0.6²), a uniform genre,
    age affinity aa_i ~ N(0, 1), popularity w_i ~ Pareto(α = 1.0).
Each event n = 0 … N−1: a user drawn with probability ∝ w_u and, independently, an item drawn ∝ w_i,
then label ~ Bernoulli(σ(z)) with
    z = 0.25 + b_u + b_i + 0.8·b_genre(genre_i) + ⟨u, i⟩ + 0.5·(age_u − 0.5)·aa_i,
so a learner needs per-user/item biases plus low-rank user×item interactions to do well.
Features: user_id, item_id, genre (categorical), age (numeric in [0, 1], 3 decimals); roughly half
positive (48.1% with the defaults, 46–57% over seeds 1–5).
Lines are in event order. Without --arrivals and --drift the output is byte-identical to the script
before those options existed (same seed, same file).

--arrivals F (0 ≤ F < 1; 0 = off): users and items enter over time. Each user, and separately each item,
  is a late arrival with probability F; a late arrival's arrival event is uniform on 0 … N−1, everyone
  else's is 0 (if no user, or no item, would be present at event 0, the earliest arrival is moved to 0).
  At event n the user is drawn ∝ w_u among users whose arrival event is ≤ n, the item likewise among
  items; a newcomer gets the same kind of weight as everyone else (no novelty boost). So with N events
  about F/2 of the users and of the items first become available in the second half (events n ≥ N/2), and
  a model trained on the first half has never seen them.
--drift F (0 ≤ F ≤ 1; 0 = off): part of the preferences move over the stream. A fraction F of the users
  (each with probability F) gets a second taste vector u' drawn like u, a fraction F of the items a
  second bias b_i' drawn like b_i; at event n, with θ = (π/2)·n/N, such a user's taste is
  cos θ·u + sin θ·u' and such an item's bias cos θ·b_i + sin θ·b_i' (a quarter turn over the stream,
  π/4 by halfway: each marginal distribution stays the same, the individual preferences change).
The arrival events and drift parameters come from a second generator seeded from --seed, so the world
above is the same with and without the options; with --drift alone the (user, item) sequence is also
the default's and only labels differ.
"""
import argparse, bisect, json, math, random

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("--events", type=int, default=100000)
ap.add_argument("--users", type=int, default=943); ap.add_argument("--items", type=int, default=1682)
ap.add_argument("--rank", type=int, default=5); ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--arrivals", type=float, default=0.0, metavar="F",
                help="fraction of users and of items that arrive at a uniform event index instead of at 0 (0 = off)")
ap.add_argument("--drift", type=float, default=0.0, metavar="F",
                help="fraction of user tastes and of item biases that rotate a quarter turn over the stream (0 = off)")
a = ap.parse_args()
if not 0 <= a.arrivals < 1: ap.error("--arrivals: must be within [0, 1)")
if not 0 <= a.drift <= 1: ap.error("--drift: must be within [0, 1]")
rnd = random.Random(a.seed)
genres = ["Action", "Comedy", "Drama", "Horror", "Romance", "SciFi", "Thriller", "Animation"]
gbias = {g: rnd.gauss(0, 0.4) for g in genres}
users = [dict(b=rnd.gauss(0, 0.7), v=[rnd.gauss(0, 0.6) for _ in range(a.rank)], age=rnd.random(),
              w=rnd.paretovariate(1.2)) for _ in range(a.users)]
items = [dict(b=rnd.gauss(0, 0.6), v=[rnd.gauss(0, 0.6) for _ in range(a.rank)], g=rnd.choice(genres),
              aa=rnd.gauss(0, 1), w=rnd.paretovariate(1.0)) for _ in range(a.items)]
uw = [u["w"] for u in users]; iw = [i["w"] for i in items]

# The options' own randomness, kept apart from `rnd` so that the world above does not depend on them.
extra = random.Random("arrivals-drift-%d" % a.seed)

def arrival_events(n):
    t = [extra.randrange(a.events) if extra.random() < a.arrivals else 0 for _ in range(n)]
    if t and min(t) > 0: t[t.index(min(t))] = 0
    return t

def draw_indices(weights, arrive):
    """One index per event, ∝ weight among those arrived by then (a bisect over the cumulative weights in arrival order)."""
    order = sorted(range(len(weights)), key=lambda k: (arrive[k], k))
    cum = []; s = 0.0
    for k in order: s += weights[k]; cum.append(s)
    times = [arrive[k] for k in order]
    out = []; m = 0
    for n in range(a.events):
        while m < len(order) and times[m] <= n: m += 1
        out.append(order[min(bisect.bisect_right(cum, rnd.random() * cum[m - 1], 0, m), m - 1)])
    return out

if a.arrivals > 0:
    uarr, iarr = arrival_events(a.users), arrival_events(a.items)
if a.drift > 0:
    for u in users:
        if extra.random() < a.drift: u["v2"] = [extra.gauss(0, 0.6) for _ in range(a.rank)]
    for i in items:
        if extra.random() < a.drift: i["b2"] = extra.gauss(0, 0.6)

pos = 0
with open(a.out, "w") as f:
    if a.arrivals > 0:
        uidx = draw_indices(uw, uarr)
        iidx = draw_indices(iw, iarr)
    else:
        uidx = rnd.choices(range(a.users), weights=uw, k=a.events)
        iidx = rnd.choices(range(a.items), weights=iw, k=a.events)
    for n in range(a.events):
        u, i = users[uidx[n]], items[iidx[n]]
        if a.drift > 0:
            th = 0.5 * math.pi * n / a.events; c, s = math.cos(th), math.sin(th)
            uv = [c * x + s * y for x, y in zip(u["v"], u["v2"])] if "v2" in u else u["v"]
            ib = c * i["b"] + s * i["b2"] if "b2" in i else i["b"]
            z = 0.25 + u["b"] + ib + 0.8 * gbias[i["g"]] + sum(x * y for x, y in zip(uv, i["v"])) + 0.5 * (u["age"] - 0.5) * i["aa"]
        else:
            z = 0.25 + u["b"] + i["b"] + 0.8 * gbias[i["g"]] + sum(x * y for x, y in zip(u["v"], i["v"])) + 0.5 * (u["age"] - 0.5) * i["aa"]
        y = 1 if rnd.random() < 1 / (1 + math.exp(-z)) else 0
        pos += y
        f.write(json.dumps({"features": {"user_id": str(uidx[n]), "item_id": str(iidx[n]), "genre": i["g"],
                                         "age": round(u["age"], 3)}, "label": y}) + "\n")
print("wrote %d events, %.1f%% positive" % (a.events, 100.0 * pos / a.events))
if a.arrivals > 0 or a.drift > 0:
    h = a.events // 2
    su, si = set(uidx[:h]), set(iidx[:h])
    print("second half (rows %d-%d): %.1f%% of events with a user unseen in the first half, %.1f%% with an unseen item, "
          "%.1f%% with either; %d new users, %d new items" % (
              h + 1, a.events, 100.0 * sum(1 for k in uidx[h:] if k not in su) / (a.events - h),
              100.0 * sum(1 for k in iidx[h:] if k not in si) / (a.events - h),
              100.0 * sum(1 for x, y in zip(uidx[h:], iidx[h:]) if x not in su or y not in si) / (a.events - h),
              len(set(uidx[h:]) - su), len(set(iidx[h:]) - si)))
