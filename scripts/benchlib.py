"""Helpers shared by scripts/bench-learner and scripts/bench-warm-start: log converters to VW's input
format (the same features Duet hashes), progressive log loss and AUC, and running Duet and VW."""
import csv, json, math, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def vw_escape(s):
    return str(s).replace(" ", "_").replace(":", ";").replace("|", "/")

def obd_rows(log, items_path):
    items = {}
    with open(items_path) as f:
        for r in csv.DictReader(f):
            items[r["item_id"]] = r
    with open(log) as f:
        for r in csv.DictReader(f):
            yield r, items[r["item_id"]]

def obd_to_vw(log, items_path, out):
    """VW lines with Duet's OBD features: user fields, affinity to the shown item, item id + item fields, position."""
    labels = []
    with open(out, "w") as w:
        for r, it in obd_rows(log, items_path):
            y = int(r["click"]); labels.append(y)
            aff = r["user-item_affinity_%s" % r["item_id"]]
            w.write("%d |u %s affinity:%s |i item_id=%s item_feature_0:%s %s |c position=%s\n" % (
                1 if y else -1,
                " ".join("user_feature_%d=%s" % (k, r["user_feature_%d" % k]) for k in range(4)),
                aff, r["item_id"], it["item_feature_0"],
                " ".join("item_feature_%d=%s" % (k, it["item_feature_%d" % k]) for k in (1, 2, 3)),
                r["position"]))
    return labels

def jsonl_to_vw(log, out):
    labels = []
    with open(log) as f, open(out, "w") as w:
        for line in f:
            if not line.strip(): continue
            o = json.loads(line); y = int(o["label"]); labels.append(y)
            # One namespace per field's first letter so that --lrq / -q can pair fields (e.g. u and i).
            ns = {}
            for k, v in o["features"].items():
                tok = ("%s=%s" % (vw_escape(k), vw_escape(v))) if isinstance(v, str) else ("%s:%r" % (vw_escape(k), float(v)))
                ns.setdefault(k[0], []).append(tok)
            # VW's importance weight follows the label ("'x" would be a tag, not a weight).
            w.write("%d %s%s\n" % (1 if y else -1, "%g " % o.get("weight", 1) if o.get("weight") is not None else "",
                                   " ".join("|%s %s" % (n, " ".join(t)) for n, t in sorted(ns.items()))))
    return labels

def logloss_auc(preds, labels):
    eps = 1e-15
    ll = 0.0
    for p, y in zip(preds, labels):
        p = min(max(p, eps), 1 - eps)
        ll -= math.log(p) if y else math.log(1 - p)
    ll /= max(len(labels), 1)
    pairs = sorted(zip(preds, labels))
    pos = sum(labels); neg = len(labels) - pos
    if pos == 0 or neg == 0: return ll, float("nan")
    rank_sum = 0.0; i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]: j += 1
        mid = (i + j + 1) / 2.0
        rank_sum += mid * sum(1 for t in range(i, j) if pairs[t][1])
        i = j
    return ll, (rank_sum - pos * (pos + 1) / 2) / (pos * neg)

def running_mean(labels):
    c = 0; preds = []
    for n, y in enumerate(labels):
        preds.append((c + 0.5) / (n + 1)); c += y
    return logloss_auc(preds, labels)

def vw_args(vwfile, extra):
    """VW's arguments for one pass over `vwfile`: logistic loss and link, -b 18 unless `extra` sets -b."""
    args = ["-d", vwfile, "--loss_function", "logistic", "--link", "logistic", "--quiet"] + extra
    if "-b" not in extra: args += ["-b", "18"]
    return args

def vw_predictions(args, pf):
    """Runs VW with `args` writing its predictions (made before each update) to `pf`, and returns them."""
    from vowpalwabbit import Workspace
    Workspace(arg_list=args + ["-p", pf]).finish()
    return [float(l.split()[0]) for l in open(pf)]

def run_vw(vwfile, labels, extra):
    from vowpalwabbit import Workspace
    pf = vwfile + ".pred"
    args = vw_args(vwfile, extra)
    preds = vw_predictions(args, pf)
    t = time.time(); Workspace(arg_list=args).finish(); dt = time.time() - t
    ll, auc = logloss_auc(preds, labels)
    return ll, auc, len(labels) / dt

def duet_binary():
    for p in (os.path.join(ROOT, ".build/release/duet"), os.path.join(ROOT, ".build/debug/duet")):
        if os.path.exists(p): return p
    sys.exit("build duet first: swift build -c release --product duet")

def run_duet(log, fmt, items, extra):
    cmd = [duet_binary(), "replay", log, "--format", fmt] + (["--items", items] if items else []) + extra
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    return json.loads(out)
