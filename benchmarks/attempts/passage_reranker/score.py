"""Combine saved score chunks and report. usage: score.py TAG SPLIT"""
import sys, glob, pickle, json
import common as c
tag, split = sys.argv[1], sys.argv[2]
d = c.build(); sc = {}
for f in sorted(glob.glob(f"/tmp/ce_exp/scores_{tag}_{split}_*.pkl")): sc.update(pickle.load(open(f, "rb")))
qids = [q for q in d[split]["run"] if q in sc]
rr = {q: sorted(d[split]["run"][q], key=lambda x: -sc[q][x]) for q in qids}
rel = {q: d[split]["rel"][q] for q in qids}
base = c.rank_metrics({q: d[split]["run"][q] for q in qids}, rel); new = c.rank_metrics(rr, rel)
out = c.report(base, new, f"{tag} {split}")
open("/tmp/ce_exp/results.jsonl", "a").write(json.dumps({"tag": tag, "split": split, **out}) + "\n")
