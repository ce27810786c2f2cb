#!/usr/bin/python3
"""Train a small PyTorch image classifier on a sievefs mount.

usage: train_imagefolder.py TRAIN_DIR --eval EVAL_DIR [options]

How a sievefs mount looks to a training script (MNT is where
`sievefs mount STORE MNT` put it):

  MNT/<dataset>/v1/ ... vN/       every version, the tree as ingested, e.g.
                                  MNT/digits/v2/train/00001.pgm
                                  MNT/digits/v2/train/00001.cls
  MNT/<dataset>/latest -> vN      the newest version; tags are symlinks too
  MNT/<dataset>/<view>/           a view (`sievefs view add STORE SPEC.yaml`):
                                  a filter, sample and split of one version.
                                  With `split:` and `layout: {by: label}` it
                                  is an ImageFolder tree:
                                  MNT/digits/clean/train/3/train/00001.pgm
                                      <view>/<split>/<label>/<original path>

Two ways to get a file's class (--labels):

  folder  (default) the class is the first directory under the root, as in
          torchvision's ImageFolder: point TRAIN_DIR at <view>/<split>.
          ImageFolder walks the class directories recursively, so the
          original path kept under each class directory does no harm, and
          it ignores sidecar members (.cls, .json) since they are not images.
  xattr   the class is the sample attribute `label`, which the mount shows
          as the extended attribute user.sievefs.attr.label of every member
          (`getfattr -n user.sievefs.attr.label FILE`).  Use it on a version
          tree (MNT/digits/v2/train).  It follows `sievefs relabel`: a
          relabel changes the attribute in the new version, while the bytes
          of the .cls member stay those that were ingested.

Images are read through the sievefs Python module (contrib/python, installed
by `make install`; --loader sievefs, the default where it is found): one
open and no ioctl per file, decoded from memory.  --loader pil reads them
as torchvision's default loader does (open(), then PIL opens raw images a
second time by name); both give the same pixels.

Both directories are read-only and immutable (a version never changes), so
a run is reproducible: the same TRAIN_DIR and --seed give the same model.

Example:
  sievefs mount /srv/sievefs /mnt/ds
  ./train_imagefolder.py /mnt/ds/digits/clean/train \\
      --eval /mnt/ds/digits/v1/val --eval-labels xattr

Needs Debian's python3-torch, python3-torchvision and python3-pil (run it
with /usr/bin/python3 if another Python comes first on PATH).
"""
import argparse
import json
import os
import random
import sys
import time

import torch
from PIL import Image
from torch import nn
from torchvision import datasets, transforms

try:
    import sievefs
except ImportError:  # not installed: the copy in this source tree, if any
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    try:
        import sievefs
    except ImportError:
        sievefs = None

XATTR_LABEL = "user.sievefs.attr.label"


def pil_grey(path):
    # ImageFolder's default loader converts to RGB; these digits are grey.
    with open(path, "rb") as f:
        return Image.open(f).convert("L")


def sievefs_grey(path):
    # The one-line change: sievefs.open_image(path) for Image.open(path).
    return sievefs.open_image(path).convert("L")


load_grey = pil_grey


def folder_samples(root):
    """(path, class name) for every image under root/<class>/..., via ImageFolder."""
    cls = sievefs.ImageFolder if load_grey is sievefs_grey else datasets.ImageFolder
    ds = cls(root, loader=load_grey)
    return [(path, ds.classes[i]) for path, i in ds.samples]


def xattr_samples(root):
    """(path, label attribute) for every image under root, in path order.
    Images whose sample has no label attribute are skipped."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if not name.lower().endswith(datasets.folder.IMG_EXTENSIONS):
                continue
            path = os.path.join(d, name)
            try:
                label = os.getxattr(path, XATTR_LABEL).decode()
            except OSError:  # ENODATA: no label attribute
                continue
            out.append((path, label))
    return out


def samples(root, how):
    s = folder_samples(root) if how == "folder" else xattr_samples(root)
    if not s:
        sys.exit(f"{root}: no labelled images found (--labels {how})")
    return s


def load(samples_, class_index, size):
    """Decode every image once into one tensor.  The data here is small; for
    a large dataset wrap the same reading in a torch Dataset and a
    DataLoader with num_workers > 0 instead."""
    tf = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor()])
    xs, ys = [], []
    for path, label in samples_:
        xs.append(tf(load_grey(path)))
        ys.append(class_index.get(label, -1))  # -1: a class the model never saw
    return torch.stack(xs), torch.tensor(ys)


class SmallCNN(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(32 * 16, 64), nn.ReLU(),
            nn.Linear(64, classes))

    def forward(self, x):
        return self.net(x)


def main():
    ap = argparse.ArgumentParser(
        description="Train a small CNN on a sievefs mount and evaluate it.",
        epilog="See the top of this file for the mount layout.")
    ap.add_argument("train_dir", help="training images, e.g. MNT/digits/clean/train")
    ap.add_argument("--eval", required=True, metavar="DIR",
                    help="evaluation images, e.g. MNT/digits/v1/val")
    ap.add_argument("--labels", choices=["folder", "xattr"], default="folder",
                    help="where TRAIN_DIR's classes come from (default folder)")
    ap.add_argument("--eval-labels", choices=["folder", "xattr"],
                    help="where the --eval classes come from (default: as --labels)")
    ap.add_argument("--loader", choices=["sievefs", "pil"],
                    default="sievefs" if sievefs else "pil",
                    help="read images through the sievefs module (default where it is"
                         " found) or as torchvision's default loader does")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3,
                    help="initial learning rate, decayed to 0 along a cosine (default 3e-3)")
    ap.add_argument("--size", type=int, default=8, help="images are resized to SIZE x SIZE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: a model this small gains nothing from more)")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON line with the results at the end")
    args = ap.parse_args()
    global load_grey
    if args.loader == "sievefs":
        if sievefs is None:
            sys.exit("--loader sievefs: the sievefs module is not installed (make install)")
        load_grey = sievefs_grey

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)

    t0 = time.monotonic()
    train = samples(args.train_dir, args.labels)
    val = samples(args.eval, args.eval_labels or args.labels)
    # Class names (directory names or attribute values) index the outputs,
    # in sorted order (numerically when they are all numbers, so "10" > "9").
    names = sorted({c for _, c in train},
                   key=lambda c: (0, int(c), c) if c.lstrip("-").isdigit() else (1, 0, c))
    class_index = {c: i for i, c in enumerate(names)}
    x, y = load(train, class_index, args.size)
    vx, vy = load(val, class_index, args.size)
    load_s = time.monotonic() - t0

    model = SmallCNN(len(names))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.monotonic()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(y), generator=gen)
        total = 0.0
        for i in range(0, len(y), args.batch_size):
            b = perm[i:i + args.batch_size]
            opt.zero_grad()
            loss = loss_fn(model(x[b]), y[b])
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        sched.step()
        if not args.json and (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: loss {total / len(y):.4f}", file=sys.stderr)
    train_s = time.monotonic() - t0

    model.eval()
    with torch.no_grad():
        pred = model(vx).argmax(1)
    acc = (pred == vy).float().mean().item() * 100

    result = {"train_dir": args.train_dir, "train_samples": len(y), "classes": len(names),
              "eval_dir": args.eval, "eval_samples": len(vy), "accuracy": round(acc, 2), "loader": args.loader,
              "load_seconds": round(load_s, 2), "train_seconds": round(train_s, 2)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{len(y)} training images in {len(names)} classes ({args.loader} loader); "
              f"accuracy on {len(vy)} images of {args.eval}: {acc:.2f}% "
              f"(loading {load_s:.1f} s, training {train_s:.1f} s)")


if __name__ == "__main__":
    main()
