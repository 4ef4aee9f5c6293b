"""The progress display's figures (section i/n, words, tokens/s, ETA)."""

import io

from rich.console import Console

from longform.progress import RunProgress


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _progress(target: int, clock: Clock, **kw) -> tuple[RunProgress, io.StringIO]:
    buf = io.StringIO()
    return RunProgress(target, console=Console(file=buf, width=200), clock=clock, **kw), buf


def _write(p: RunProgress, clock: Clock, seconds: float, words_so_far: int, section_words: int = 100) -> None:
    clock.t += seconds
    p.event("call", completion_tokens=int(seconds * 10), latency_s=seconds, cached=False,
            words_so_far=words_so_far, section_words=section_words)


def test_eta_comes_from_the_writing_rate_not_from_loading_and_planning():
    clock = Clock()
    p, _ = _progress(20_000, clock)
    p.event("plan_start", sections=50)
    clock.t += 600  # a slow plan: ten minutes before the first word
    p.event("plan_done", sections=50, fallback=False)
    for k in range(1, 11):  # then 100 words every 10 s
        _write(p, clock, 10, 100 * k)
    # 19,000 words left at 10 words/s: ~1,900 s (an average since the start would say ~13,000 s)
    assert 1_700 <= p.eta_s() <= 2_100


def test_eta_follows_the_recent_rate_when_the_machine_slows_down():
    clock = Clock()
    p, _ = _progress(10_000, clock, window_s=300)
    p.event("plan_done", sections=25, fallback=False)
    words = 0
    for _ in range(60):  # 10 minutes at 10 words/s
        words += 100
        _write(p, clock, 10, words)
    for _ in range(40):  # then 400 s at 2.5 words/s (another job took the cores)
        words += 25
        _write(p, clock, 10, words)
    left = 10_000 - words
    assert 0.8 * left / 2.5 <= p.eta_s() <= 1.2 * left / 2.5


def test_eta_counts_down_between_events_and_is_zero_when_done():
    clock = Clock()
    p, _ = _progress(1_000, clock)
    p.event("plan_done", sections=3, fallback=False)
    _write(p, clock, 50, 500)  # 10 words/s: 50 s left
    assert 45 <= p.eta_s() <= 55
    clock.t += 20
    assert 25 <= p.eta_s() <= 35
    _write(p, clock, 1, 1_000)
    assert p.eta_s() == 0.0


def test_eta_unknown_before_any_writing_and_through_regenerations_only():
    clock = Clock()
    p, _ = _progress(1_000, clock)
    assert p.eta_s() is None
    p.event("plan_done", sections=3, fallback=False)
    _write(p, clock, 30, 0, section_words=0)  # a regenerated chunk: no words gained
    assert p.eta_s() is None


def test_resumed_run_counts_only_this_session():
    clock = Clock()
    p, buf = _progress(5000, clock)
    clock.t += 5  # model load
    p.event("section_start", index=7, n_sections=12, title="T", budget=400)
    _write(p, clock, 10, 2800, section_words=200)  # the first event carries 2,600 earlier words
    _write(p, clock, 10, 3000, section_words=400)
    p.event("section_done", index=7, n_sections=12, title="T", words=400, budget=400, words_so_far=3000)
    # 400 words in this session's 20 s of writing -> 2,000 words left take ~100 s
    assert 90 <= p.eta_s() <= 110
    assert p.tokens_per_s() == 10.0
    assert "section 8/12" in buf.getvalue() and "3,000/5,000 words" in buf.getvalue()
