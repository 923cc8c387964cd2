#!/usr/bin/env python3
"""Writes the first N_TRAIN / N_TEST examples of an IDX dataset (MNIST layout, plain or .gz) as gzipped IDX.

  idx_subset.py SRC_DIR OUT_DIR N_TRAIN N_TEST

The first examples in file order (no shuffling, so the subset is the same every time it is made).
Used by bench/gpu/pack.sh for the Fashion-MNIST subset the GPU kit carries.
"""
import gzip
import os
import struct
import sys


def read(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rb") as f:
                return f.read()
    raise SystemExit("idx_subset: error: %s[.gz] not found" % path)


def subset(data, n, name):
    magic, count = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or dims not in (1, 3):
        raise SystemExit("idx_subset: error: %s is not an unsigned-byte IDX file (magic %#x)" % (name, magic))
    shape = struct.unpack(">" + "I" * (dims - 1), data[8:8 + 4 * (dims - 1)]) if dims > 1 else ()
    if n > count:
        raise SystemExit("idx_subset: error: %s has %d examples, %d asked" % (name, count, n))
    header = 4 + 4 * dims
    per = 1
    for d in shape:
        per *= d
    return struct.pack(">II", magic, n) + data[8:header] + data[header:header + n * per]


def main(argv):
    if len(argv) != 4:
        raise SystemExit("usage: idx_subset.py SRC_DIR OUT_DIR N_TRAIN N_TEST")
    src, out, n_train, n_test = argv[0], argv[1], int(argv[2]), int(argv[3])
    os.makedirs(out, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            name = "%s-%s" % (split, kind)
            with gzip.open(os.path.join(out, name + ".gz"), "wb", compresslevel=9) as f:
                f.write(subset(read(os.path.join(src, name)), n, name))
    print("idx_subset: wrote %d train / %d test examples to %s" % (n_train, n_test, out))


if __name__ == "__main__":
    main(sys.argv[1:])
