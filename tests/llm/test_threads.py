"""The embedded model's thread choice: usable cores, and the governor that keeps the fastest count.
Control flow only: a scripted clock stands in for decode times."""

import os

from longform.llm.threads import ThreadGovernor, candidate_threads, usable_cores


class Decoder:
    """Decodes tokens on a fake clock: seconds per token depend on the thread count and the load."""

    def __init__(self, cost: dict[int, float]):
        self.cost = dict(cost)
        self.t = 0.0
        self.threads = None
        self.sets: list[int] = []

    def clock(self) -> float:
        return self.t

    def set_threads(self, n: int) -> None:
        self.threads = n
        self.sets.append(n)

    def run(self, gov: ThreadGovernor, tokens: int) -> float:
        """Decode `tokens` tokens as llama.cpp would (one on_token per token); returns seconds spent."""
        start = self.t
        gov.begin_call()
        for _ in range(tokens):
            self.t += self.cost[self.threads]
            gov.on_token()
        return self.t - start


def test_usable_cores_follow_affinity_and_candidates():
    assert usable_cores() == len(os.sched_getaffinity(0))
    assert candidate_threads(2) == [2, 1]
    assert candidate_threads(1) == [1]
    assert candidate_threads(16) == [16, 8, 1]


def test_idle_machine_stays_on_all_cores_and_probing_costs_little():
    d = Decoder({2: 0.010, 1: 0.018})
    gov = ThreadGovernor([2, 1], d.set_threads, clock=d.clock)
    spent = d.run(gov, 2000)
    assert gov.current == 2
    assert spent <= 1.05 * 2000 * 0.010  # within 5% of always using the faster count


def test_collapse_switches_to_one_thread_and_back_when_the_load_goes():
    d = Decoder({2: 0.010, 1: 0.018})
    gov = ThreadGovernor([2, 1], d.set_threads, clock=d.clock)
    d.run(gov, 300)
    assert gov.current == 2
    d.cost[2] = 0.100  # another job takes a core: two threads collapse (10x slower per token)
    d.cost[1] = 0.020
    spent = d.run(gov, 1000)
    assert gov.current == 1
    assert spent <= 1.2 * 1000 * 0.020  # within 20% of the best fixed choice under load
    d.cost[2], d.cost[1] = 0.010, 0.018  # the other job ends
    d.run(gov, 3000)
    assert gov.current == 2


def test_a_probe_of_a_collapsed_count_is_cut_short():
    d = Decoder({2: 2.0, 1: 0.05})  # on a crowded machine one spinning token took seconds
    gov = ThreadGovernor([2, 1], d.set_threads, clock=d.clock, start=1)
    spent = d.run(gov, 3000)
    assert gov.current == 1
    # each re-test of 2 threads costs one 2 s token, not a 14-token window (28 s)
    probes = sum(1 for a, b in zip(d.sets, d.sets[1:]) if (a, b) == (1, 2))
    assert probes >= 2
    assert spent <= 3000 * 0.05 + probes * 2.0 + 5.0


def test_single_candidate_never_switches():
    d = Decoder({1: 0.02})
    gov = ThreadGovernor([1], d.set_threads, clock=d.clock)
    d.run(gov, 500)
    assert d.sets == [1] and gov.switches == 0
