"""CPU threads of the real embedded model in tests.

One thread by default: on a busy 2-core machine llama.cpp degrades gracefully with one. llama.cpp's
kernels (and so the sampled text) depend on the thread count as well as the CPU, so the suite is
also run with another count (`make test-threads`, LONGFORM_TEST_THREADS=2) to catch tests that
assert what one build happened to sample instead of what the program guarantees.
"""

import os

THREADS: int = int(os.environ.get("LONGFORM_TEST_THREADS", "1"))
THREADS_ARGV: list[str] = ["--threads", str(THREADS)]
# The governed default (None) unless a count is forced for the whole run.
FIXTURE_THREADS: int | None = int(os.environ["LONGFORM_TEST_THREADS"]) if "LONGFORM_TEST_THREADS" in os.environ else None
