#!/usr/bin/python3
"""Driver of the end-to-end test: check the trees a sievefs mount shows for
the digits dataset, train the same small model on v1, v2 and the views with
contrib/examples/train_imagefolder.py, print a table and check the results.

usage: train.py MNT FLIPS.jsonl [--dataset digits] [--no-views] [--epochs N]

MNT is a mount of a store where DATASET has
  v1     the shards of make_digits.py (train/NNNNN, val/NNNNN)
  v2     v1 relabelled with FLIPS.jsonl (40% of train/ given a wrong class,
         attribute flipped=true)
  clean  (views) a view of v2: split "train", no flipped sample, split
         train/holdout, layout by label
  clean10 (views) the same with a 10% sample stratified by label
Every model is evaluated on the same fixed validation set, MNT/DATASET/v1/val
(labels from the attribute `label`).  Exits 1 when a check fails.
"""
import argparse
import json
import os
import subprocess
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "contrib", "examples", "train_imagefolder.py")
IMG = (".pgm", ".png")

failures = []


def check(ok, what):
    print(("ok      " if ok else "FAILED  ") + what)
    if not ok:
        failures.append(what)


def xattr(path, name):
    try:
        return os.getxattr(path, "user.sievefs.attr." + name).decode()
    except OSError:
        return None


def images(root):
    """Relative paths of the images under root."""
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files if f.endswith(IMG)]
    return sorted(out)


def key_of(relpath):
    """Sample key of an image below a view's <split>/<label>/ (or a version's root)."""
    return relpath.split(".", 1)[0]


def check_versions(ds, flips):
    v1 = images(os.path.join(ds, "v1"))
    v2 = images(os.path.join(ds, "v2"))
    check(len(v1) == 1797 and v1 == v2, f"v1 and v2 hold the same 1797 images ({len(v1)}, {len(v2)})")
    bad = 0
    for key, f in flips.items():
        p = os.path.join(ds, "v2", key + ".pgm")
        with open(os.path.join(ds, "v2", key + ".cls")) as c:
            cls = c.read().strip()
        if (xattr(p, "label") != str(f["label"]) or xattr(p, "flipped") != "true"
                or cls != str(f["true_label"]) or xattr(os.path.join(ds, "v1", key + ".pgm"), "flipped")):
            bad += 1
    check(bad == 0, f"v2 carries the {len(flips)} flipped labels as attributes, v1 and the .cls bytes"
          f" the true ones ({bad} wrong)")


def view_members(view):
    """{split: {label dir: [relative paths of images below it]}}"""
    out = {}
    for split in sorted(os.listdir(view)):
        for label in sorted(os.listdir(os.path.join(view, split))):
            out.setdefault(split, {})[label] = images(os.path.join(view, split, label))
    return out


def check_views(ds, flips):
    train_keys = {key_of(p) for p in images(os.path.join(ds, "v1")) if p.startswith("train/")}
    clean = view_members(os.path.join(ds, "clean"))
    check(sorted(clean) == ["holdout", "train"], f"view clean has the splits holdout, train ({sorted(clean)})")
    keys, wrong_dir = [], 0
    for split, labels in clean.items():
        for label, paths in labels.items():
            for p in paths:
                keys.append(key_of(p))
                if xattr(os.path.join(ds, "clean", split, label, p), "label") != label:
                    wrong_dir += 1
    want = train_keys - set(flips)
    check(sorted(keys) == sorted(want),
          f"view clean holds exactly the {len(want)} unflipped training samples, each once ({len(keys)})")
    check(wrong_dir == 0, f"every image of view clean sits under its label's directory ({wrong_dir} not)")

    c10 = view_members(os.path.join(ds, "clean10"))
    sub = {s: {(lab, p) for lab, ps in labels.items() for p in ps} for s, labels in c10.items()}
    full = {s: {(lab, p) for lab, ps in labels.items() for p in ps} for s, labels in clean.items()}
    check(all(sub[s] <= full.get(s, set()) for s in sub),
          "view clean10 is inside view clean, split by split (membership depends on the key only)")
    per_class = Counter()
    for s in full:
        for lab, _ in full[s]:
            per_class[lab] += 1
    per_class10 = Counter()
    for s in sub:
        for lab, _ in sub[s]:
            per_class10[lab] += 1
    # stratify: exactly round(0.1 n) of each class's n samples
    off = {lab: (per_class10[lab], n) for lab, n in per_class.items()
           if per_class10[lab] != int(n * 0.1 + 0.5)}
    check(not off, f"view clean10 takes round(10%) of each class ({sum(per_class10.values())} of "
          f"{sum(per_class.values())}; off: {off})")


def train(name, train_dir, labels, eval_dir, args, loader="sievefs"):
    cmd = [sys.executable, EXAMPLE, train_dir, "--eval", eval_dir, "--labels", labels,
           "--eval-labels", "xattr", "--epochs", str(args.epochs), "--seed", str(args.seed),
           "--threads", "1", "--loader", loader, "--json"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        check(False, f"{name}: {' '.join(cmd)} exited {r.returncode}")
        return None
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["name"] = name
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mnt")
    ap.add_argument("flips")
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--no-views", action="store_true", help="only v1 and v2 (sievefs without views)")
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    ds = os.path.join(args.mnt, args.dataset)
    with open(args.flips) as f:
        flips = {r["key"]: r for r in map(json.loads, f)}

    check_versions(ds, flips)
    if not args.no_views:
        check_views(ds, flips)

    val = os.path.join(ds, "v1", "val")
    # Every model reads through the shipped loader (contrib/python/sievefs);
    # v1 once more through torchvision's default way of reading, to compare.
    runs = [("v1", "v1", os.path.join(ds, "v1", "train"), "xattr", "sievefs"),
            ("v1-pil", "v1, torchvision's loader", os.path.join(ds, "v1", "train"), "xattr", "pil"),
            ("v2", "v2 (40% of train flipped)", os.path.join(ds, "v2", "train"), "xattr", "sievefs")]
    if not args.no_views:
        runs += [("clean", "view clean (v2 minus flipped)", os.path.join(ds, "clean", "train"), "folder",
                  "sievefs"),
                 ("clean10", "view clean10 (10% stratified)", os.path.join(ds, "clean10", "train"), "folder",
                  "sievefs")]
    results = {}
    for rid, name, d, how, loader in runs:
        r = train(name, d, how, val, args, loader)
        if r:
            results[rid] = r

    print()
    print(f"{'model trained on':<32} {'samples':>7} {'accuracy':>9} {'train s':>8} {'load s':>7}")
    for r in results.values():
        print(f"{r['name']:<32} {r['train_samples']:>7} {r['accuracy']:>8.2f}% "
              f"{r['train_seconds']:>8.2f} {r['load_seconds']:>7.2f}")
    n_val = {r["eval_samples"] for r in results.values()}
    print(f"(evaluated on the same {'/'.join(map(str, n_val))} images of {val})\n")

    v1, v2 = results.get("v1"), results.get("v2")
    if v1 and v2:
        check(v2["accuracy"] <= v1["accuracy"] - 10,
              f"v2 is clearly worse than v1 (at least 10 points: {v2['accuracy']} vs {v1['accuracy']})")
    pil = results.get("v1-pil")
    if v1 and pil:
        check(v1["loader"] == "sievefs" and pil["loader"] == "pil"
              and abs(v1["accuracy"] - pil["accuracy"]) <= 0.5,
              f"v1 through the sievefs loader reaches the accuracy of torchvision's loader"
              f" ({v1['accuracy']} vs {pil['accuracy']})")
    view = results.get("clean")
    if v1 and view:
        check(abs(view["accuracy"] - v1["accuracy"]) <= 2,
              f"view clean is within 2 points of v1 ({view['accuracy']} vs {v1['accuracy']})")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
