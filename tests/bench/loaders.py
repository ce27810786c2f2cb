#!/usr/bin/python3
"""Helper of loaders.sh: epochs of the Python data loaders users run, over
one tree, printed as one JSON line.  See tests/bench/README.md.

usage: loaders.py gen DIR N SHARDS
           N PGM images of 4-100 KiB (deterministic random pixels) in SHARDS
           tar shards DIR/shard-K.tar, members shard-K/NNNNNN.pgm
       loaders.py run LOADER ROOT [--list FILE] [--workers N] [--warm K]
                  [--cold] [--fast] [--collate list] [--stats-root MNT]
           LOADER: imagefolder (torchvision ImageFolder + DataLoader, batch 64,
           shuffled with a fixed seed, PILToTensor), read (open(p, 'rb').read()
           of every file in --list, relative to ROOT), tar (every member of
           every tar in --list, streamed with tarfile mode 'r|').
           --fast reads through the sievefs module (contrib/python):
           sievefs.ImageFolder, sievefs.read_bytes.  --cold: sync and drop the
           page, dentry and inode caches (root) before the first epoch.
           --stats-root: the requests the sievefs daemon served during the
           first and the last warm epoch, by opcode (user.sievefs.requests of MNT).
           Prints {"items", "bytes", "scan", "first", "warm": [...], "stats"}.
"""
import json
import os
import random
import sys
import tarfile
import time


def gen(out, n, shards):
    os.makedirs(out, exist_ok=True)
    rng = random.Random(15)
    per = (n + shards - 1) // shards
    for k in range(shards):
        with tarfile.open(os.path.join(out, f"shard-{k}.tar"), "w", format=tarfile.USTAR_FORMAT) as tf:
            for i in range(k * per, min(n, (k + 1) * per)):
                size = rng.randint(4 << 10, 100 << 10)
                head = b"P5\n256 %d\n255\n" % ((size - 16) // 256)
                data = head + rng.randbytes((size - 16) // 256 * 256)
                ti = tarfile.TarInfo(f"shard-{k}/{i:06d}.pgm")
                ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
                tf.addfile(ti, _Bytes(data))


class _Bytes:
    def __init__(self, b):
        self.b, self.off = b, 0

    def read(self, n=-1):
        n = len(self.b) - self.off if n < 0 else n
        out = self.b[self.off:self.off + n]
        self.off += len(out)
        return out


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def collate_list(batch):
    return [x for x, _ in batch], [y for _, y in batch]


def imagefolder_epoch(ds, workers, collate):
    import torch

    kw = {"collate_fn": collate_list} if collate == "list" else {}
    dl = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers,
                                     generator=torch.Generator().manual_seed(0), **kw)
    n = nbytes = 0
    for x, _ in dl:
        n += len(x)
        nbytes += sum(t.numel() for t in x) if isinstance(x, list) else x.numel()
    return n, nbytes


def read_epoch(root, paths, fast):
    if fast:
        import sievefs
        rd = sievefs.read_bytes
    else:
        def rd(p):
            with open(p, "rb") as f:
                return f.read()
    nbytes = 0
    for p in paths:
        nbytes += len(rd(os.path.join(root, p)))
    return len(paths), nbytes


def tar_epoch(root, paths):
    n = nbytes = 0
    for p in paths:
        # WebDataset's tar reader: a sequential stream of members, grouped
        # by key downstream (not done here: it costs the same everywhere).
        with tarfile.open(os.path.join(root, p), mode="r|") as tf:
            for m in tf:
                if m.isfile():
                    nbytes += len(tf.extractfile(m).read())
                    n += 1
    return n, nbytes


class Stats:
    """The daemon's request counters: the mount root's extended attribute
    user.sievefs.requests, a JSON object of the requests served by FUSE
    opcode, read before and after an epoch.  What reading it costs (one or
    two GETXATTR) is measured by reading it twice and taken off."""

    KEY = "user.sievefs.requests"

    def __init__(self, root):
        self.root = root

    def snap(self):
        if not self.root:
            return None
        try:
            return json.loads(os.getxattr(self.root, self.KEY))
        except (OSError, ValueError):
            return None

    @staticmethod
    def diff(a, b, cost=None):
        if a is None or b is None:
            return None
        d = {k: b[k] - a.get(k, 0) - (cost or {}).get(k, 0) for k in b}
        return {k: v for k, v in d.items() if v > 0}


def run(args):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("loader", choices=["imagefolder", "read", "tar"])
    ap.add_argument("root")
    ap.add_argument("--list")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--warm", type=int, default=2)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--collate", default="default")
    ap.add_argument("--stats-root", help="a sievefs mount's root: count the daemon's requests")
    a = ap.parse_args(args)

    if a.loader == "imagefolder":
        import torch
        from torchvision import datasets, transforms

        torch.set_num_threads(1)
        if a.fast:
            import sievefs
            cls = sievefs.ImageFolder
        else:
            cls = datasets.ImageFolder
    paths = []
    if a.list:
        with open(a.list) as f:
            paths = [line.rstrip("\n") for line in f if line.strip()]
    stats = Stats(a.stats_root)
    if a.cold:
        drop_caches()
        time.sleep(0.3)

    t0 = time.perf_counter()
    if a.loader == "imagefolder":
        ds = cls(a.root, transform=transforms.PILToTensor())
        epoch = lambda: imagefolder_epoch(ds, a.workers, a.collate)  # noqa: E731
    elif a.loader == "read":
        epoch = lambda: read_epoch(a.root, paths, a.fast)  # noqa: E731
    else:
        epoch = lambda: tar_epoch(a.root, paths)  # noqa: E731
    scan = time.perf_counter() - t0

    times = []
    res = {}
    for i in range(1 + a.warm):
        counted = i == 0 or i == a.warm  # the cold epoch and the last warm one
        if counted:
            before = stats.snap()
            cost = Stats.diff(before, stats.snap())
            before = stats.snap()
        t0 = time.perf_counter()
        n, nbytes = epoch()
        times.append(time.perf_counter() - t0)
        if counted:
            res["stats_first" if i == 0 else "stats"] = Stats.diff(before, stats.snap(), cost)
    res.update(items=n, bytes=nbytes, scan=round(scan, 4), first=round(times[0], 4),
               warm=[round(t, 4) for t in times[1:]])
    print(json.dumps(res))


def main():
    if sys.argv[1:2] == ["gen"]:
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ["run"]:
        run(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
