"""Read files from a sievefs mount with as few round trips to the daemon as
a file allows.

Python's built-in open() asks isatty() of every file it opens, an ioctl
that the kernel forwards to a FUSE daemon every time; PIL's Image.open(path)
then opens a raw image (PGM, BMP, ...) a second time by name to mmap it.
This module reads a file with one os.open, one os.fstat and os.read until
its size, never an ioctl, decodes images from memory, and reads the
sample's attributes (the user.sievefs.* extended attributes) on the same
file descriptor.  It works on any filesystem, sievefs or not.

One-line changes:

    torchvision:  datasets.ImageFolder(root, ...)  ->  sievefs.ImageFolder(root, ...)
                  or keep ImageFolder and pass loader=sievefs.loader
    PIL:          Image.open(path)                 ->  sievefs.open_image(path)
    bytes:        open(path, 'rb').read()          ->  sievefs.read_bytes(path)

Pure Python: importing it needs neither torch nor PIL (ImageFolder imports
torchvision when first used, open_image PIL).
"""
import io
import os

__all__ = ["read_bytes", "read_sample", "attributes", "xattr", "open_image", "loader",
           "ImageFolder", "XATTR_PREFIX", "ATTR_PREFIX"]
__version__ = "0.1.0"

XATTR_PREFIX = "user.sievefs."
ATTR_PREFIX = XATTR_PREFIX + "attr."

# Extensions torchvision's ImageFolder accepts (torchvision.datasets.folder),
# for the fallback without torchvision.
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _read_fd(fd):
    """The file's bytes: its size from fstat, then reads until that size or
    end of file.  A size of 0 (procfs, pipes) means read to the end."""
    size = os.fstat(fd).st_size
    if size <= 0:
        chunks = []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                return b"".join(chunks)
            chunks.append(b)
    data = os.read(fd, size)
    if len(data) == size or not data:
        return data
    chunks = [data]
    got = len(data)
    while got < size:
        b = os.read(fd, size - got)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def _attrs_fd(fd, names):
    """{name: value} of the sample attributes NAMES (all when None) read on
    the open file FD; one getxattr each, plus one listxattr for all."""
    if names is None:
        try:
            keys = [k[len(ATTR_PREFIX):] for k in os.listxattr(fd) if k.startswith(ATTR_PREFIX)]
        except OSError:  # ENOTSUP: not a filesystem with extended attributes
            return {}
    else:
        keys = [names] if isinstance(names, str) else list(names)
    out = {}
    for k in keys:
        try:
            out[k] = os.getxattr(fd, ATTR_PREFIX + k).decode("utf-8", "replace")
        except OSError:  # ENODATA: the sample has no such attribute
            pass
    return out


def read_bytes(path):
    """The contents of PATH: one open, no ioctl (unlike open(path, 'rb'))."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return _read_fd(fd)
    finally:
        os.close(fd)


def read_sample(path, attrs=None):
    """(bytes, {attribute: value}) of PATH with one open: the sample's
    attributes (user.sievefs.attr.NAME) are read on the same descriptor.
    ATTRS: a name or a list of names to read (attributes the sample lacks
    are left out), None for all of them (one more round trip to list them)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return _read_fd(fd), _attrs_fd(fd, attrs)
    finally:
        os.close(fd)


def attributes(file, names=None):
    """{attribute: value} of the sample a file on a sievefs mount belongs
    to.  FILE is a path (read without opening the file) or an open file
    descriptor; NAMES as in read_sample."""
    return _attrs_fd(file, names)


def xattr(file, key, default=None):
    """One raw user.sievefs.KEY attribute as str (KEY: sample, version,
    shard, xxh64, attr.NAME), or DEFAULT when the file has none."""
    try:
        return os.getxattr(file, XATTR_PREFIX + key).decode("utf-8", "replace")
    except OSError:
        return default


def _decode(data):
    from PIL import Image

    # From memory: an image opened by name would be opened again to be
    # mmapped (raw formats); one from a BytesIO never is.
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def open_image(path, attrs=False):
    """PATH decoded into a loaded PIL image, in its own mode (what
    Image.open(path) then .load() gives).  With ATTRS (a name, a list of
    names, or None for all) returns (image, {attribute: value})."""
    if attrs is False:
        return _decode(read_bytes(path))
    data, a = read_sample(path, attrs)
    return _decode(data), a


def loader(path):
    """torchvision's default loader, the fast way: PATH as an RGB PIL
    image.  Pass it as loader= to any torchvision dataset that takes one."""
    return _decode(read_bytes(path)).convert("RGB")


def _is_image(path):
    return path.lower().endswith(IMG_EXTENSIONS)


class _FolderBase:
    """ImageFolder without torchvision: the same classes, class_to_idx,
    samples (sorted) and targets, for use without torch."""

    def __init__(self, root, transform=None, target_transform=None, loader=loader,
                 is_valid_file=None):
        self.root = os.fspath(root)
        self.transform, self.target_transform, self.loader = transform, target_transform, loader
        self.classes, self.class_to_idx = self.find_classes(self.root)
        ok = is_valid_file or _is_image
        self.samples = []
        for c in self.classes:
            top = os.path.join(self.root, c)
            for d, dirs, files in sorted(os.walk(top, followlinks=True)):
                for name in sorted(files):
                    p = os.path.join(d, name)
                    if ok(p):
                        self.samples.append((p, self.class_to_idx[c]))
        if not self.samples:
            raise FileNotFoundError(f"Found no valid file for the classes under {self.root}")
        self.imgs = self.samples
        self.targets = [t for _, t in self.samples]

    @staticmethod
    def find_classes(directory):
        classes = sorted(e.name for e in os.scandir(directory) if e.is_dir())
        if not classes:
            raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
        return classes, {c: i for i, c in enumerate(classes)}

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target


def _make_image_folder():
    try:
        from torchvision.datasets import ImageFolder as base
    except ImportError:
        base = _FolderBase

    class ImageFolder(base):
        """torchvision.datasets.ImageFolder reading through sievefs.loader
        (a subclass of it; without torchvision, a class with the same
        fields).  Same arguments, plus ATTRS: when not False, items are
        (image, target, {attribute: value}), the attributes read on the
        image's own descriptor (a name, a list, or None for all)."""

        def __init__(self, root, transform=None, target_transform=None, loader=loader,
                     is_valid_file=None, attrs=False, **kw):
            super().__init__(root, transform=transform, target_transform=target_transform,
                             loader=loader, is_valid_file=is_valid_file, **kw)
            self.attrs = attrs

        def __getitem__(self, index):
            if self.attrs is False:
                return super().__getitem__(index)
            path, target = self.samples[index]
            if self.loader is loader:
                img, a = open_image(path, self.attrs)
                sample = img.convert("RGB")
            else:
                sample, a = self.loader(path), attributes(path, self.attrs)
            if self.transform is not None:
                sample = self.transform(sample)
            if self.target_transform is not None:
                target = self.target_transform(target)
            return sample, target, a

    ImageFolder.__module__ = __name__
    ImageFolder.__qualname__ = "ImageFolder"
    return ImageFolder


def __getattr__(name):
    # ImageFolder is built on first use, so that importing sievefs does not
    # import torch; kept in the module so that pickling finds the same class.
    if name == "ImageFolder":
        cls = _make_image_folder()
        globals()["ImageFolder"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
