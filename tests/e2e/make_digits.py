#!/usr/bin/python3
"""Make WebDataset shards from scikit-learn's digits (1,797 8x8 images).

usage: make_digits.py OUTDIR [--shards N] [--val-fraction F] [--flip F] [--seed S]

Writes, deterministically for a given seed:

  OUTDIR/digits-NNN.tar  WebDataset shards; one sample is KEY.pgm (8x8 P5,
                         grey levels 0..16 scaled to 0..255), KEY.cls (the
                         digit) and KEY.json ({"split": "train"|"val"}).
                         KEY is train/NNNNN or val/NNNNN (NNNNN = the index
                         in load_digits), so the fixed validation set is the
                         directory val/ of every version and the samples
                         whose attribute split is "val".
  OUTDIR/flips.jsonl     a label file for `sievefs relabel`: a fraction F
                         (default 0.4) of the training samples, each given a
                         wrong class (uniform over the 9 others) and the
                         attributes flipped=true and true_label.

The validation split is stratified by class (default 25% of each class).
Needs python3-sklearn (for the data only; nothing is downloaded).
"""
import argparse
import io
import json
import os
import random
import sys
import tarfile


def member(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1700000000
    info.mode = 0o644
    info.uname = info.gname = "root"
    tar.addfile(info, io.BytesIO(data))


def pgm(pixels):
    """8x8 grey levels 0..16 -> binary PGM (P5) with maxval 255."""
    body = bytes(min(255, int(v) * 16) for v in pixels)
    return b"P5\n8 8\n255\n" + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--shards", type=int, default=3, help="number of tar shards (default 3)")
    ap.add_argument("--val-fraction", type=float, default=0.25,
                    help="fraction of each class kept for validation (default 0.25)")
    ap.add_argument("--flip", type=float, default=0.4,
                    help="fraction of training samples to mislabel in flips.jsonl (default 0.4)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from sklearn.datasets import load_digits

    d = load_digits()
    n = len(d.target)
    rng = random.Random(args.seed)

    # Stratified, fixed validation split: the same samples for every run.
    by_class = {}
    for i, y in enumerate(d.target):
        by_class.setdefault(int(y), []).append(i)
    val = set()
    for y, idx in sorted(by_class.items()):
        idx = idx[:]
        rng.shuffle(idx)
        val.update(idx[:round(len(idx) * args.val_fraction)])

    keys = [(f"val/{i:05d}" if i in val else f"train/{i:05d}", i) for i in range(n)]
    keys.sort()
    os.makedirs(args.outdir, exist_ok=True)
    per = -(-n // args.shards)
    for s in range(args.shards):
        part = keys[s * per:(s + 1) * per]
        with tarfile.open(os.path.join(args.outdir, f"digits-{s:03d}.tar"), "w",
                          format=tarfile.USTAR_FORMAT) as tar:
            for key, i in part:
                split = key.split("/")[0]
                member(tar, key + ".pgm", pgm(d.images[i].reshape(-1)))
                member(tar, key + ".cls", b"%d\n" % int(d.target[i]))
                member(tar, key + ".json", json.dumps({"split": split}).encode() + b"\n")

    train = [(k, i) for k, i in keys if k.startswith("train/")]
    flipped = rng.sample(train, round(len(train) * args.flip))
    flipped.sort()
    with open(os.path.join(args.outdir, "flips.jsonl"), "w") as f:
        for key, i in flipped:
            y = int(d.target[i])
            wrong = (y + rng.randint(1, 9)) % 10
            f.write(json.dumps({"key": key, "label": wrong, "flipped": True,
                                "true_label": y}) + "\n")
    print(f"{n} samples: {len(train)} train, {n - len(train)} val, "
          f"{len(flipped)} flipped, {args.shards} shards in {args.outdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
