import sys, time, logging
import common as c
import numpy as np, torch
from transformers.utils import logging as hl
hl.set_verbosity_warning()
from sentence_transformers import CrossEncoder
from semsim.models.locate import resolve
d = c.build()
P = resolve("all-MiniLM-L6-v2").location
ce = CrossEncoder(P, num_labels=1, max_length=256, device="cpu")
print("activation_fn:", ce.activation_fn, "| config act:", getattr(ce.config, "sentence_transformers", None))
m = ce.model
print(type(m).__name__, "pooler:", hasattr(m.bert, "pooler") and m.bert.pooler is not None)
from safetensors import safe_open
with safe_open(P + "/model.safetensors", "pt") as f:
    keys = list(f.keys())
print("ckpt has pooler:", [k for k in keys if "pooler" in k], "n keys", len(keys))
print("pooler w std", m.bert.pooler.dense.weight.std().item(), "classifier w std", m.classifier.weight.std().item(), "bias", m.classifier.bias.item())
# truncation check
q = list(d["train"]["run"])[0]
enc = ce.tokenizer(d["qtexts"][q], d["texts"][d["train"]["run"][q][0]], truncation=True, max_length=256)
print("decoded first 30 tokens:", ce.tokenizer.decode(enc["input_ids"][:30]))
lens = [len(ce.tokenizer(d["qtexts"][q], d["texts"][x])["input_ids"]) for q in list(d["val"]["run"])[:30] for x in d["val"]["run"][q][:5]]
print("pair token lengths: median", np.median(lens), "p90", np.percentile(lens, 90), "max", max(lens))
# zero-shot logits spread on a few pairs
pairs = [(d["qtexts"][q], d["texts"][x]) for q in list(d["val"]["run"])[:4] for x in d["val"]["run"][q][:5]]
t0 = time.time(); s = ce.predict(pairs, batch_size=20); dt = time.time() - t0
print("untrained MiniLM CE sigmoid scores:", np.round(s, 4), "pairs/s", round(len(pairs) / dt, 1))
