import numpy as np

from longform.llm.min_tokens import EndBlocker
from longform.llm.types import GenParams


def test_end_tokens_are_banned_until_the_floor_then_free():
    blocker = EndBlocker(3, prompt_len=5, end_tokens=[0, 2])
    ids = list(range(10, 15))  # the prompt: 5 tokens
    for _ in range(3):
        scores = np.zeros(6, dtype=np.float32)
        out = blocker(np.array(ids), scores)
        assert out[0] < -1e3 and out[2] < -1e3 and out[1] == 0 and out[5] == 0
        ids.append(7)
    out = blocker(np.array(ids), np.zeros(6, dtype=np.float32))  # 3 reply tokens: the end is allowed
    assert (out == 0).all() and blocker.blocked == 3


def test_min_tokens_enters_cache_keys_only_when_set():
    assert "min_tokens" not in GenParams().to_dict()  # keys of calls made before the field stay valid
    assert GenParams(min_tokens=40).to_dict()["min_tokens"] == 40
