"""Self-Lengthen's iterative training loop (`longform selflengthen iterate`): a generator and an
extender, both trained on the extender's lengthened outputs, iteration after iteration.

config.py        the config dataclasses (one-line help per field) and the YAML loader
self_instruct.py step 1: new instructions from seeds, judged for calling for long output
steps.py         the five steps of an iteration, each resumable
journal.py       per-item journals and the per-iteration step state
records.py       per-iteration records and the summary table
loop.py          the iterations, one after another, each using the last one's checkpoints
"""
