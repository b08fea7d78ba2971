"""Train a passage cross-encoder with CrossEncoderTrainer. usage: train.py NAME INIT LR HEAD_LR NQ [MAXLEN]"""
import sys, time, json, random
import common as c
import torch
from datasets import Dataset
from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
from semsim.models.locate import resolve
from semsim.training.cross_encoder import stsb_cross_encoder_dir
name, init, lr, head_lr, nq = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
maxlen = int(sys.argv[6]) if len(sys.argv) > 6 else 192
path = {"minilm": resolve("all-MiniLM-L6-v2").location, "stsb": str(stsb_cross_encoder_dir())}[init]
d = c.build()
qids = sorted(d["train"]["run"]); random.Random(0).shuffle(qids)
rows = {"query": [], "passage": [], "label": []}
for q in qids[:nq]:      # 1 positive + 3 hard negatives from MiniLM's top 10 (= mine_hard_negatives range_max=10)
    rel = d["train"]["rel"][q]; negs = [x for x in d["train"]["run"][q][:10] if x not in rel][:3]
    for x, y in [(next(iter(rel)), 1.0)] + [(n, 0.0) for n in negs]:
        rows["query"].append(d["qtexts"][q]); rows["passage"].append(d["texts"][x]); rows["label"].append(y)
ds = Dataset.from_dict(rows)
print(name, "pairs", len(ds), "positives", sum(rows["label"]), flush=True)
torch.manual_seed(0)
model = CrossEncoder(path, num_labels=1, max_length=maxlen, device="cpu")
args = CrossEncoderTrainingArguments(output_dir=f"/tmp/ce_exp/ckpt_{name}", num_train_epochs=1, per_device_train_batch_size=16,
    learning_rate=lr, warmup_steps=0.1, save_strategy="no", report_to=[], seed=0, logging_steps=5, disable_tqdm=True,
    dataloader_pin_memory=False, learning_rate_mapping=({r"pooler|classifier": head_lr} if head_lr != lr else {}))
tr = CrossEncoderTrainer(model=model, args=args, train_dataset=ds, loss=BinaryCrossEntropyLoss(model))
t0 = time.time(); tr.train(); secs = time.time() - t0
losses = [h["loss"] for h in tr.state.log_history if "loss" in h]
model.save(f"/tmp/ce_exp/models/{name}")
rec = {"name": name, "init": init, "lr": lr, "head_lr": head_lr, "questions": nq, "pairs": len(ds), "steps": tr.state.global_step,
       "maxlen": maxlen, "train_s": round(secs, 1), "loss_first5": losses[0] if losses else None, "loss_last5": losses[-1] if losses else None, "losses": losses}
print(json.dumps(rec), flush=True)
open("/tmp/ce_exp/attempts.jsonl", "a").write(json.dumps(rec) + "\n")
