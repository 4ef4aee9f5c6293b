"""The array-job templates in deploy/ run as written: each template's commands, rendered for N = 2,
run here one shard after the other (as the scheduler would run them on two nodes), then the merge;
the result must be the whole dataset. Real embedded model, a tiny job; the Kubernetes run reuses
the SLURM run's per-shard request caches, so it checks the commands, not the model, a second time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INSTRUCTIONS = ["Write about 60 words on a lighthouse.", "Write about 60 words on a winter market.",
                "Write about 60 words on a paper kite."]

pytestmark = pytest.mark.model


def write_config(root: Path, name: str) -> Path:
    ins = root / "instructions.jsonl"
    ins.write_text("".join(json.dumps({"instruction": i}) + "\n" for i in INSTRUCTIONS), encoding="utf-8")
    cfg = {"name": name, "source": {"path": str(ins)},
           "generation": {"methods": ["direct"], "samples": 1, "concurrency": 1, "default_target_words": 60},
           "model": {"model": "embedded", "n_ctx": 512, "threads": 1},
           "output": {"dir": str(root / "out"), "part_rows": 1}}
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **env}, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return p


def assert_whole_dataset(ds: Path) -> None:
    stats = json.loads((ds / "stats.json").read_text())
    assert stats["records"] == len(INSTRUCTIONS) and stats["failed"] == 0
    assert sorted(json.loads(p.read_text())["shard"] for p in (ds / "work").glob("shard-*/job.json")) == [[0, 2], [1, 2]]
    raw = pq.read_table(ds / "raw").to_pylist()
    assert sorted(r["instruction"] for r in raw) == sorted(INSTRUCTIONS)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("caches")


def test_slurm_array_job_and_merge(tmp_path, cache_dir):
    cfg = write_config(tmp_path, "slurm")
    env = {"LONGFORM_CONFIG": str(cfg), "LONGFORM_CACHE_DIR": str(cache_dir), "SLURM_ARRAY_TASK_COUNT": "2"}
    for k in range(2):
        run(["bash", str(ROOT / "deploy/slurm/dataset_shard.sbatch")], {**env, "SLURM_ARRAY_TASK_ID": str(k)})
    assert sorted(p.name for p in cache_dir.glob("*.sqlite")) == ["requests-shard-0-of-2.sqlite",
                                                                   "requests-shard-1-of-2.sqlite"]
    run(["bash", str(ROOT / "deploy/slurm/dataset_merge.sbatch")], env)
    assert_whole_dataset(tmp_path / "out" / "slurm")


def test_slurm_shard_outside_an_array_job_says_how_to_submit(tmp_path):
    p = subprocess.run(["bash", str(ROOT / "deploy/slurm/dataset_shard.sbatch")], capture_output=True, text=True,
                       env={**os.environ, "LONGFORM_CONFIG": "x.yaml", "LONGFORM_CACHE_DIR": str(tmp_path)})
    assert p.returncode != 0 and "sbatch --array" in p.stderr


def render(template: Path, fields: dict[str, str]) -> list[dict]:
    """What `envsubst` with exactly these field names does: the pod's own $VARIABLES stay."""
    text = template.read_text()
    for name, value in fields.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, "a template field was left unfilled"
    return list(yaml.safe_load_all(text))


def container_command(job: dict) -> tuple[list[str], dict[str, str]]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    return container["command"], {e["name"]: e["value"] for e in container.get("env", [])}


def test_kubernetes_indexed_job_and_merge(tmp_path, cache_dir):
    cfg = write_config(tmp_path, "k8s")
    fields = {"N": "2", "IMAGE": "longform:test", "CONFIG": str(cfg), "PVC": "data", "CACHE_DIR": str(cache_dir)}
    (job,) = render(ROOT / "deploy/kubernetes/dataset-job.yaml", fields)
    spec = job["spec"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == 2
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] >= 60  # time to store finished records
    command, env = container_command(job)
    for k in range(2):  # the pods Kubernetes would start, with the index it gives each
        run(command, {**env, "JOB_COMPLETION_INDEX": str(k)})
    (merge,) = render(ROOT / "deploy/kubernetes/dataset-merge.yaml", fields)
    command, env = container_command(merge)
    run(command, env)
    assert_whole_dataset(tmp_path / "out" / "k8s")
    # the run script fills exactly the template's fields (envsubst would blank the pod's own variables)
    script = (ROOT / "deploy/kubernetes/run.sh").read_text()
    fields_line = next(line for line in script.splitlines() if line.startswith("fields="))
    assert all(f"${{{k}}}" in fields_line for k in fields) and 'envsubst "$fields"' in script
