"""Rerank dense top-20 with a CE. usage: evalce.py MODEL_PATH SPLIT START END TAG  (saves per-query scores)"""
import sys, time, json, pickle
import common as c
import numpy as np, torch
from sentence_transformers import CrossEncoder
path, split, a, b, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
d = c.build()
ce = CrossEncoder(path, num_labels=1, max_length=192, device="cpu")
qids = list(d[split]["run"])[a:b]
pairs = [(d["qtexts"][q], d["texts"][x]) for q in qids for x in d[split]["run"][q]]
lens = np.array([len(p[0]) + len(p[1]) for p in pairs]); order = np.argsort(lens)   # length-sorted batches: less padding
t0 = time.time()
s_sorted = ce.predict([pairs[i] for i in order], batch_size=32, show_progress_bar=False, activation_fn=torch.nn.Identity())
secs = time.time() - t0
s = np.empty(len(pairs)); s[order] = np.asarray(s_sorted, dtype=float)
res = {q: dict(zip(d[split]["run"][q], s[i*c.K:(i+1)*c.K])) for i, q in enumerate(qids)}
pickle.dump(res, open(f"/tmp/ce_exp/scores_{tag}_{split}_{a}_{b}.pkl", "wb"))
print(tag, split, a, b, "pairs", len(pairs), "secs", round(secs, 1), "pairs/s", round(len(pairs) / secs, 2), flush=True)
