"""Does a reward model trained by `longform train rm` rank pairs it never saw? Held-out accuracy
against chance (0.5) and against a "longer answer wins" baseline, measured in the same run.

    python bench/train_rm_heldout.py [--n 40] [--steps 30] [--out out/bench/rm-heldout] [--model smollm2]

Data (an `rm` split in `make dataset`'s format): the embedded SmolLM2 writes one short answer to each
of N English instructions from LongBench-Write; each answer is the chosen side of a pair whose
rejected side shows one failure the dataset filters catch: an answer to another instruction
(off-topic), the answer cut off a third of the way in (truncated), or its first sentence looped
(repetition). A quarter of the instructions (and so of the pairs) are held out by instruction.
Answers are cached in OUT/answers.jsonl, so a rerun only retrains.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KINDS = ("off_topic", "truncated", "loop")


def instructions(n: int) -> list[str]:
    rows = [json.loads(x) for x in (Path(os.environ.get("LONGFORM_SHARED", REPO.parent / "shared")) / "benchmarks"
                                    / "longbench_write_en.jsonl").read_text().splitlines() if x.strip()]
    return [r["prompt"] for r in rows if r.get("length", 0) <= 1000][:n]


def answers(ins: list[str], path: Path) -> list[str]:
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done[r["instruction"]] = r["answer"]
    todo = [i for i in ins if i not in done]
    if todo:
        from llama_cpp import Llama

        from longform.llm.embedded import default_gguf_path

        llm = Llama(model_path=str(default_gguf_path()), n_ctx=1024, n_threads=1, verbose=False)
        with open(path, "a") as fh:
            for k, i in enumerate(todo):
                out = llm.create_chat_completion(messages=[{"role": "user", "content": i + " Answer in about 80 words."}],
                                                 max_tokens=160, temperature=0.7, seed=k)
                text = out["choices"][0]["message"]["content"].strip()
                done[i] = text
                fh.write(json.dumps({"instruction": i, "answer": text}) + "\n")
                fh.flush()
                print(f"answer {len(done)}/{len(ins)}: {len(text.split())} words", file=sys.stderr)
    return [done[i] for i in ins]


def degrade(kind: str, answer: str, other: str) -> str:
    if kind == "off_topic":
        return other
    words = answer.split()
    if kind == "truncated":
        return " ".join(words[: max(3, len(words) // 3)])
    first = re.split(r"(?<=[.!?])\s+", answer.strip())[0]
    return " ".join([first] * 5)


def rows(ins: list[str], ans: list[str]) -> list[dict]:
    out = []
    for k, (i, a) in enumerate(zip(ins, ans)):
        kind = KINDS[k % len(KINDS)]
        rej = degrade(kind, a, ans[(k + 1) % len(ans)])
        out.append({"id": f"{k:04x}", "kind": kind,
                    "chosen": [{"role": "user", "content": i}, {"role": "assistant", "content": a}],
                    "rejected": [{"role": "user", "content": i}, {"role": "assistant", "content": rej}],
                    "chosen_length_score": None, "rejected_length_score": None})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--out", default="out/bench/rm-heldout")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ins = instructions(args.n)
    ans = answers(ins, out / "answers.jsonl")
    n_eval = len(ins) // 4  # held out by instruction; off-topic partners come from the same side
    train_rows, eval_rows = rows(ins[:-n_eval], ans[:-n_eval]), rows(ins[-n_eval:], ans[-n_eval:])
    from longform.dataset_card import write_splits

    for name, rs in (("train", train_rows), ("eval", eval_rows)):
        write_splits(out / name, {"sft": [], "dpo": [], "rm": [{k: v for k, v in r.items() if k != "kind"} for r in rs],
                                  "raw": []})
    from longform.train import run_training

    ck = run_training("rm", {"model": args.model, "data": str(out / "train"), "eval_data": str(out / "eval"),
                             "output_dir": str(out / f"rm-{args.model}"), "max_length": 1024, "max_steps": args.steps,
                             "save_steps": max(10, args.steps), "per_device_train_batch_size": args.batch,
                             "learning_rate": args.lr, "device": "cpu", "overwrite": True})
    rec = json.loads((ck / "training_record.json").read_text())
    from longform.reward_models.trained_rm import load_reward_model

    rm = load_reward_model(ck)
    by_kind: dict[str, list[bool]] = {}
    longer: list[bool] = []
    for r in eval_rows:
        c, j = rm.score_conversations([r["chosen"], r["rejected"]])
        by_kind.setdefault(r["kind"], []).append(c > j)
        longer.append(len(r["chosen"][1]["content"].split()) > len(r["rejected"][1]["content"].split()))
    acc = rec["eval"]["accuracy"]
    print(f"rm held-out pairs: {len(eval_rows)} (trained on {len(train_rows)}, {rec['steps']} steps, "
          f"loss {rec['losses'][0]['loss']:.3f} -> {rec['losses'][-1]['loss']:.3f})")
    print(f"accuracy {acc:.3f}  | chance 0.500 -> ratio {acc / 0.5:.2f} | longer-wins baseline "
          f"{sum(longer) / len(longer):.3f}")
    for kind, wins in sorted(by_kind.items()):
        print(f"  {kind}: {sum(wins)}/{len(wins)}")
    print(f"wall time {rec['wall_time_s']:.0f}s; checkpoint {ck}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
