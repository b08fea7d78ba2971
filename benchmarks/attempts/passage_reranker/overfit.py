"""Overfit 16 (question, paragraph) pairs: does the BCE loss move? as-is vs head-lr vs from STS-B CE."""
import sys, time, copy
import common as c
import numpy as np, torch
from sentence_transformers import CrossEncoder
from semsim.models.locate import resolve
from semsim.training.cross_encoder import stsb_cross_encoder_dir
torch.manual_seed(0)
d = c.build()
qs = list(d["train"]["run"])[:4]
pairs, labels = [], []
for q in qs:
    run = d["train"]["run"][q]; rel = d["train"]["rel"][q]
    pos = next(iter(rel)); negs = [x for x in run[:10] if x not in rel][:3]
    for x, y in [(pos, 1.0)] + [(n, 0.0) for n in negs]:
        pairs.append((d["qtexts"][q], d["texts"][x])); labels.append(y)
print("labels", labels, "| check pos in rel:", all((pairs[i*4][1] == d["texts"][next(iter(d["train"]["rel"][q]))]) for i, q in enumerate(qs)))
y = torch.tensor(labels)
def run(tag, path, lr_body, lr_head, steps=12):
    ce = CrossEncoder(path, num_labels=1, max_length=192, device="cpu"); m = ce.model; m.train()
    feats = ce.tokenizer([p[0] for p in pairs], [p[1] for p in pairs], truncation="longest_first", max_length=192, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = m.bert(**feats)
        print(tag, "CLS hidden std across pairs %.4f | pooler out std across pairs %.4f" % (h.last_hidden_state[:, 0].std(0).mean(), h.pooler_output.std(0).mean()))
    head = [p for n, p in m.named_parameters() if "pooler" in n or "classifier" in n]
    body = [p for n, p in m.named_parameters() if not ("pooler" in n or "classifier" in n)]
    opt = torch.optim.AdamW([{"params": body, "lr": lr_body}, {"params": head, "lr": lr_head}])
    t0 = time.time(); losses = []
    for s in range(steps):
        logit = m(**feats).logits.view(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(round(loss.item(), 3))
    print(tag, "losses", losses, "| %.1f s/step" % ((time.time() - t0) / steps), flush=True)
P = resolve("all-MiniLM-L6-v2").location
run("MiniLM lr2e-5", P, 2e-5, 2e-5)
run("MiniLM body2e-5 head1e-3", P, 2e-5, 1e-3)
run("STSB-CE lr2e-5", str(stsb_cross_encoder_dir()), 2e-5, 2e-5)
