import asyncio

from longform.pipelines import direct

from tests.fakes import ScriptedFakeBackend, fake_model, prose


def test_direct_is_one_call_with_a_large_window(tmp_path):
    backend = ScriptedFakeBackend([prose(500) + " And a cut-off"])
    r = asyncio.run(direct.run(fake_model(backend), "Write about tea.", 2000, checkpoint_path=tmp_path / "ck.sqlite"))
    small = ScriptedFakeBackend([prose(50)])
    asyncio.run(direct.run(fake_model(small), "Write a haiku.", 20))
    assert small.requests[0][1].max_tokens < 200  # never more than 4x the target
    assert len(backend.requests) == 1
    assert backend.requests[0][1].max_tokens >= 4096  # as large as the window allows (the layer caps at 3/4)
    assert r.words == 500 and r.text.endswith(".")
    # resume of a finished run asks nothing
    b2 = ScriptedFakeBackend([])
    r2 = asyncio.run(direct.run(fake_model(b2), "Write about tea.", 2000, checkpoint_path=tmp_path / "ck.sqlite", resume=True))
    assert b2.requests == [] and r2.text == r.text
