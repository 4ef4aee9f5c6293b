"""`longform eval`: every writing method and model on the published long-output benchmarks.

One file a benchmark (longbench_write, ruler, longen, constraints), each turning its data file
into `Sample`s; `runner` generates (resumable: a journal of finished samples, a checkpoint per
sample, the LLM layer's request cache) and scores through `scoring`; `report` writes report.md,
scatter.png and results.jsonl.
"""
