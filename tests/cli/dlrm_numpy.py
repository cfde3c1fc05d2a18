#!/usr/bin/env python3
"""Reference reader of an `augur export` directory: the DLRM forward pass in plain numpy.

usage: dlrm_numpy.py EXPORT_DIR SAMPLES_DIR
SAMPLES_DIR holds dense.npy (B x num_dense float32, already log(1+max(x,0))-transformed) and
sparse.npy (B x num_sparse uint64, one id per feature). Prints one probability per line.
An id missing from a table's export was never written and holds its init value, which this
reader cannot reproduce, so it exits with an error naming the id.
Interactions (manifest architecture.interaction_kind, "dot" when absent): dot, or DCNv2
(TorchRec LowRankCrossNet). Without dense features (num_dense 0) there is no bottom MLP and
no bottom_out in Z or in the dot model's top input.
"""
import json
import os
import sys

import numpy as np


def main():
    export, samples = sys.argv[1], sys.argv[2]
    m = json.load(open(os.path.join(export, "manifest.json")))
    arch = m["architecture"]
    kind = arch.get("interaction_kind", "dot")
    has_bottom = arch["num_dense"] > 0
    load = lambda name: np.load(os.path.join(export, name))
    layers = {l["name"]: (load(l["name"] + "_weight.npy"), load(l["name"] + "_bias.npy"))
              for l in m["layers"]}
    bottom = [layers["bottom_%d" % i] for i in range(len(arch["bottom"]))]
    top = [layers["top_%d" % i] for i in range(len(arch["top"]))]
    cross = [(load(c["name"] + "_v.npy"), load(c["name"] + "_w.npy"), load(c["name"] + "_bias.npy"))
             for c in m.get("cross", [])]
    if kind == "dcn" and len(cross) != arch["cross_layers"]:
        sys.exit("manifest lists %d cross layers, architecture says %d"
                 % (len(cross), arch["cross_layers"]))
    tables = sorted(m["tables"], key=lambda t: t["id"])[: arch["num_sparse"]]
    emb = []
    for t in tables:
        ids, values = load(t["ids"]), load(t["values"])
        emb.append(({int(r): i for i, r in enumerate(ids)}, values))

    dense = np.load(os.path.join(samples, "dense.npy")).astype(np.float32)
    sparse = np.load(os.path.join(samples, "sparse.npy"))
    x = dense
    for w, b in bottom:  # ReLU after every bottom layer
        x = np.maximum(x @ w.T + b, 0)
    vecs = [x] if has_bottom else []
    for f, (index, values) in enumerate(emb):
        rows = []
        for r in sparse[:, f]:
            if int(r) not in index:
                sys.exit("table %s: id %d was never written (init value unknown here)"
                         % (tables[f]["name"], int(r)))
            rows.append(values[index[int(r)]])
        vecs.append(np.stack(rows))
    z = np.stack(vecs, axis=1)  # B x V x dim, V = F+1 (F without dense features)
    if kind == "dcn":
        x0 = z.reshape(z.shape[0], -1)
        h = x0
        for v, w, b in cross:
            h = x0 * ((h @ v.T) @ w.T + b) + h
    elif kind == "dot":
        dots = np.einsum("bid,bjd->bij", z, z)
        n = z.shape[1]
        li, lj = np.tril_indices(n, 0 if arch["self_interaction"] else -1)  # i-major, i > j
        h = np.concatenate([x, dots[:, li, lj]], axis=1) if has_bottom else dots[:, li, lj]
    else:
        sys.exit("unknown interaction_kind %r" % kind)
    for k, (w, b) in enumerate(top):
        h = h @ w.T + b
        if k + 1 < len(top):
            h = np.maximum(h, 0)
    p = 1.0 / (1.0 + np.exp(-h[:, 0].astype(np.float64)))
    for v in p:
        print("%.9f" % v)


if __name__ == "__main__":
    main()
