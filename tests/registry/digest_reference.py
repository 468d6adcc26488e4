#!/usr/bin/env python3
"""Independent reference for test_registry.c: the SHA-256 values of the fixture sources.

A file hashes as itself; a directory as the sha256sum-style listing of its regular files
("<hex>  <relative path>\\n", sorted bytewise by path). Run: python3 digest_reference.py
"""
import hashlib
import os
import tempfile


def digest_dir(root):
    files = []
    for dirpath, _, names in os.walk(root):
        files += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
    files.sort(key=lambda p: p.encode())
    listing = "".join("%s  %s\n" % (hashlib.sha256(open(os.path.join(root, f), "rb").read()).hexdigest(), f)
                      for f in files)
    return hashlib.sha256(listing.encode()).hexdigest()


with tempfile.TemporaryDirectory() as d:
    # The same fixture as make_fixture() in test_registry.c.
    os.makedirs(os.path.join(d, "model", "sub"))
    for rel, data in (("model/b.txt", b"a"), ("model/sub/a.txt", b"bb"), ("model/a.txt", b"c")):
        with open(os.path.join(d, rel), "wb") as f:
            f.write(data)
    print("FILE_SHA256", hashlib.sha256(b"weights v1\n").hexdigest())
    print("DIR_SHA256 ", digest_dir(os.path.join(d, "model")))
