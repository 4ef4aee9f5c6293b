"""The progress display's figures (section i/n, words, tokens/s, ETA)."""


def test_progress_eta_counts_only_this_session():
    import io
    import time

    from rich.console import Console

    from longform.progress import RunProgress

    buf = io.StringIO()
    p = RunProgress(5000, console=Console(file=buf, width=200))
    p.started = time.monotonic() - 100  # 100 s into this session
    p.event("section_start", index=7, n_sections=12, title="T", budget=400)
    p.event("call", completion_tokens=300, latency_s=10.0, cached=False, words_so_far=2800, section_words=200)
    p.event("section_done", index=7, n_sections=12, title="T", words=400, budget=400, words_so_far=3000)
    # 400 words in 100 s -> 2000 words left take ~500 s (not the 2,600 earlier words' rate)
    assert 450 <= p.eta_s() <= 550
    assert p.tokens_per_s() == 30.0
    assert "section 8/12" in buf.getvalue() and "3,000/5,000 words" in buf.getvalue()
