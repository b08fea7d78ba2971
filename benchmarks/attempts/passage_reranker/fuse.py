"""Rank fusion of dense order and CE order: score = w/(60+rank_ce) + (1-w)/(60+rank_dense). usage: fuse.py TAG SPLIT [W]"""
import sys, glob, pickle, json
import numpy as np
import common as c
tag, split = sys.argv[1], sys.argv[2]
ws = [float(sys.argv[3])] if len(sys.argv) > 3 else [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0]
d = c.build(); sc = {}
for f in sorted(glob.glob(f"/tmp/ce_exp/scores_{tag}_{split}_*.pkl")): sc.update(pickle.load(open(f, "rb")))
qids = [q for q in d[split]["run"] if q in sc]; rel = {q: d[split]["rel"][q] for q in qids}
base = c.rank_metrics({q: d[split]["run"][q] for q in qids}, rel)
for w in ws:
    rr = {}
    for q in qids:
        docs = d[split]["run"][q]; ce_rank = {x: r for r, x in enumerate(sorted(docs, key=lambda x: -sc[q][x]))}
        f = {x: w / (60 + ce_rank[x]) + (1 - w) / (60 + r) for r, x in enumerate(docs)}
        rr[q] = sorted(docs, key=lambda x: -f[x])
    c.report(base, c.rank_metrics(rr, rel), f"{tag} {split} fuse w={w}")
