#!/usr/bin/python3
"""Helper of python_loader.sh: the sievefs Python module (contrib/python)
on a real mount against plain open() and torchvision.

usage: python_loader.py gen DIR N      N images in DIR/<class>/NNNN.{pgm,png} + .cls
       python_loader.py check ROOT     prints "PASS what" / "FAIL what: why" lines
       python_loader.py load ROOT      every item of sievefs.ImageFolder(ROOT, attrs=["label"])
       python_loader.py plain ROOT     open(p, "rb").read() of every image (the control)
"""
import io
import os
import sys


def gen(out, n):
    from PIL import Image

    for i in range(n):
        c = str(i % 3)
        d = os.path.join(out, c)
        os.makedirs(d, exist_ok=True)
        w, h = 5 + i % 7, 3 + i % 11
        px = bytes((i * 7 + k) % 256 for k in range(w * h))
        if i % 4 == 3:  # a few PNGs (RGB), the rest raw PGMs (mmapped by PIL when opened by name)
            img = Image.frombytes("L", (w, h), px).convert("RGB")
            img.save(os.path.join(d, f"{i:04d}.png"))
        else:
            Image.frombytes("L", (w, h), px).save(os.path.join(d, f"{i:04d}.pgm"))
        with open(os.path.join(d, f"{i:04d}.cls"), "w") as f:
            f.write(c + "\n")


def images(root):
    out = []
    for d, _, files in sorted(os.walk(root)):
        out += [os.path.join(d, f) for f in sorted(files) if f.endswith((".pgm", ".png"))]
    return out


def check(root):
    import sievefs
    from PIL import Image

    def report(ok, what, why=""):
        print(("PASS " if ok else "FAIL ") + what + ("" if ok else ": " + why))

    report("torch" not in sys.modules, "import sievefs does not import torch")
    paths = images(root)
    bad = [p for p in paths if sievefs.read_bytes(p) != open(p, "rb").read()]
    report(paths and not bad, f"read_bytes gives the bytes open().read() gives ({len(paths)} images)",
           f"{len(bad)} differ, e.g. {bad[:1]}")

    def pil(p):
        with open(p, "rb") as f:
            return Image.open(f).convert("RGB")

    bad = [p for p in paths
           if sievefs.loader(p).tobytes() != pil(p).tobytes() or sievefs.loader(p).mode != "RGB"]
    report(not bad, "loader() decodes to the RGB pixels of torchvision's default loader", str(bad[:1]))
    bad = [p for p in paths if sievefs.open_image(p).mode != Image.open(p).mode]
    report(not bad, "open_image() keeps the image's mode, as Image.open", str(bad[:1]))

    cls = {p: open(os.path.splitext(p)[0] + ".cls").read().strip() for p in paths}
    bad = [p for p in paths if sievefs.attributes(p, ["label"]) != {"label": cls[p]}
           or sievefs.attributes(p).get("label") != cls[p]]
    report(not bad, "attributes() gives the label of the .cls sidecar", str(bad[:1]))
    bad = []
    for p in paths:
        data, a = sievefs.read_sample(p, "label")
        img, a2 = sievefs.open_image(p, attrs=None)
        if data != open(p, "rb").read() or a != {"label": cls[p]} or a2.get("label") != cls[p]:
            bad.append(p)
    report(not bad, "read_sample() and open_image(attrs=) give bytes and label in one go", str(bad[:1]))
    report(sievefs.attributes(paths[0], ["nope"]) == {}, "an attribute the sample lacks is left out")
    key = os.path.relpath(os.path.splitext(paths[0])[0], os.path.dirname(root))
    report(sievefs.xattr(paths[0], "sample") == key, "xattr('sample') is the sample key",
           f"{sievefs.xattr(paths[0], 'sample')!r}, wanted {key!r}")

    try:
        from torchvision import datasets
    except ImportError:
        datasets = None
    ds = sievefs.ImageFolder(root)
    if datasets is not None:
        ref = datasets.ImageFolder(root)
        report(isinstance(ds, datasets.ImageFolder), "sievefs.ImageFolder is a torchvision ImageFolder")
        report(ds.samples == ref.samples and ds.classes == ref.classes,
               "sievefs.ImageFolder lists the samples and classes torchvision's does",
               f"{len(ds.samples)} vs {len(ref.samples)}")
        bad = [i for i in range(len(ds)) if ds[i][0].tobytes() != ref[i][0].tobytes()
               or ds[i][1] != ref[i][1]]
        report(not bad, "sievefs.ImageFolder items equal torchvision's", str(bad[:1]))
    else:
        for what in ("is a torchvision ImageFolder", "lists torchvision's samples", "items"):
            print(f"SKIP sievefs.ImageFolder {what}: torchvision not installed")
    # Without torchvision: the fallback class, built in a fresh interpreter.
    code = ("import sys; sys.modules['torchvision'] = None; import sievefs; "
            f"ds = sievefs.ImageFolder({root!r}); "
            "print(repr((ds.classes, [(s, t) for s, t in ds.samples])))")
    import subprocess
    r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    want = repr((ds.classes, [(s, t) for s, t in ds.samples]))
    report(r.returncode == 0 and r.stdout.strip() == want,
           "without torchvision, sievefs.ImageFolder lists the same samples", r.stdout[:200])
    item = sievefs.ImageFolder(root, attrs=["label"])[0]
    report(len(item) == 3 and item[2] == {"label": ds.classes[item[1]]},
           "ImageFolder(attrs=[...]) items are (image, target, attributes)", repr(item[1:]))


def load(root):
    import sievefs

    ds = sievefs.ImageFolder(root, attrs=["label"])
    n = 0
    for i in range(len(ds)):
        _, target, attrs = ds[i]
        n += attrs.get("label") == ds.classes[target]
    print(n)


def plain(root):
    n = 0
    for p in images(root):
        with open(p, "rb") as f:
            n += len(f.read()) > 0
    print(n)


def main():
    cmd = sys.argv[1:2]
    if cmd == ["gen"]:
        gen(sys.argv[2], int(sys.argv[3]))
    elif cmd == ["check"]:
        check(sys.argv[2])
    elif cmd == ["load"]:
        load(sys.argv[2])
    elif cmd == ["plain"]:
        plain(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
