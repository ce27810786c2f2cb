#!/usr/bin/python3
"""Convert Debian's Fashion-MNIST (package dataset-fashion-mnist) into
WebDataset-style shards: one PGM image and one .cls label per sample,
written into a directory tree that GNU tar then packs.

usage: fashion-mnist-wds.py OUTDIR [--per-shard N] [--limit N]

Writes OUTDIR/train/shard-NNNN/ and OUTDIR/test/shard-NNNN/ directories of
train/NNNNNN.pgm + train/NNNNNN.cls; the caller tars each one."""
import gzip
import os
import struct
import sys

SRC = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out = args[0]
    per = int(args[args.index("--per-shard") + 1]) if "--per-shard" in args else 10000
    limit = int(args[args.index("--limit") + 1]) if "--limit" in args else None
    for split, prefix in (("train", "train"), ("test", "t10k")):
        (n, h, w), pix = idx(f"{SRC}/{prefix}-images-idx3-ubyte.gz")
        (_,), labels = idx(f"{SRC}/{prefix}-labels-idx1-ubyte.gz")
        if limit:
            n = min(n, limit)
        for i in range(n):
            shard = os.path.join(out, split, f"shard-{i // per:04d}", split)
            if i % per == 0:
                os.makedirs(shard, exist_ok=True)
            base = os.path.join(shard, f"{i:06d}")
            with open(base + ".pgm", "wb") as f:
                f.write(b"P5\n%d %d\n255\n" % (w, h))
                f.write(pix[i * h * w:(i + 1) * h * w])
            with open(base + ".cls", "w") as f:
                f.write(f"{labels[i]}\n")


if __name__ == "__main__":
    main()
