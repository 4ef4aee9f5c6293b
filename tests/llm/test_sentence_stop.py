import numpy as np

from longform.llm.sentence_stop import SentenceEndStop, ends_sentence
from longform.llm.types import GenParams


def test_sentence_end_tokens_close_sentences_not_list_numbers():
    for t in (".", " .", "?", "!\"", ".”", ".)", "。", "！", "...", ".\n", ".**", "._"):
        assert ends_sentence(t), t
    for t in ("the", " ", "", ",", "1.", " 12.", "2.3.", ":", "Mr"):
        assert not ends_sentence(t), t


def test_the_end_is_forced_only_after_the_floor_and_right_after_a_sentence_end():
    stop = SentenceEndStop(3, prompt_len=2, sentence_end_tokens=[9], end_token=0)
    fresh = lambda: np.array([0.0, 5.0, 1.0], dtype=np.float32)
    # A sentence end within the first 3 reply tokens: nothing happens.
    assert (stop(np.array([7, 7, 9]), fresh()) == fresh()).all()
    assert (stop(np.array([7, 7, 4, 9]), fresh()) == fresh()).all()
    # 3 reply tokens, the last not a sentence end: nothing happens.
    assert (stop(np.array([7, 7, 4, 4, 4]), fresh()) == fresh()).all() and not stop.stopped
    # Past the floor and just after a sentence end: the end token wins.
    out = stop(np.array([7, 7, 4, 4, 4, 9]), fresh())
    assert int(np.argmax(out)) == 0 and out[0] > 1e3 and stop.stopped


def test_the_field_enters_cache_keys_only_when_set():
    assert "end_at_sentence_after" not in GenParams().to_dict()
    assert GenParams(end_at_sentence_after=40).to_dict()["end_at_sentence_after"] == 40
