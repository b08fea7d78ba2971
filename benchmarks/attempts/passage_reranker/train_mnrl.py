"""Listwise: MultipleNegativesRankingLoss over (question, positive, 3 hard negatives) + 1 in-batch negative.
usage: train_mnrl.py NAME INIT LR HEAD_LR NQ [QBATCH] [SCALE]"""
import sys, time, json, random
import common as c
import torch
from datasets import Dataset
from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
from sentence_transformers.cross_encoder.losses import MultipleNegativesRankingLoss
from semsim.models.locate import resolve
from semsim.training.cross_encoder import stsb_cross_encoder_dir
name, init, lr, head_lr, nq = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
qb = int(sys.argv[6]) if len(sys.argv) > 6 else 4
scale = float(sys.argv[7]) if len(sys.argv) > 7 else 10.0
path = {"minilm": resolve("all-MiniLM-L6-v2").location, "stsb": str(stsb_cross_encoder_dir())}[init]
d = c.build()
qids = sorted(d["train"]["run"]); random.Random(0).shuffle(qids)
rows = {k: [] for k in ("query", "positive", "neg1", "neg2", "neg3")}
for q in qids[:nq]:
    rel = d["train"]["rel"][q]; negs = [x for x in d["train"]["run"][q][:10] if x not in rel][:3]
    rows["query"].append(d["qtexts"][q]); rows["positive"].append(d["texts"][next(iter(rel))])
    for i, n in enumerate(negs): rows[f"neg{i+1}"].append(d["texts"][n])
ds = Dataset.from_dict(rows)
torch.manual_seed(0)
model = CrossEncoder(path, num_labels=1, max_length=192, device="cpu")
args = CrossEncoderTrainingArguments(output_dir=f"/tmp/ce_exp/ckpt_{name}", num_train_epochs=1, per_device_train_batch_size=qb,
    learning_rate=lr, warmup_steps=0.1, save_strategy="no", report_to=[], seed=0, logging_steps=5, disable_tqdm=True,
    dataloader_pin_memory=False, learning_rate_mapping=({r"pooler|classifier": head_lr} if head_lr != lr else {}))
loss = MultipleNegativesRankingLoss(model, num_negatives=1, scale=scale)
tr = CrossEncoderTrainer(model=model, args=args, train_dataset=ds, loss=loss)
t0 = time.time(); tr.train(); secs = time.time() - t0
losses = [h["loss"] for h in tr.state.log_history if "loss" in h]
model.save(f"/tmp/ce_exp/models/{name}")
rec = {"name": name, "loss": "MNRL(3 hard + 1 in-batch neg)", "init": init, "lr": lr, "head_lr": head_lr, "questions": nq,
       "pairs": nq * 5, "steps": tr.state.global_step, "train_s": round(secs, 1), "losses": losses}
print(json.dumps(rec), flush=True)
open("/tmp/ce_exp/attempts.jsonl", "a").write(json.dumps(rec) + "\n")
