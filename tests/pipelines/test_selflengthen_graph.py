"""Self-Lengthen's control flow on a scripted fake backend (not a model: see the tests marked `model`)."""

import asyncio
import json
import re

import pytest
from longform.agents.extender import ExtenderSettings
from longform.pipelines import registry, selflengthen
from longform.pipelines.selflengthen import SelfLengthenSettings

from longform.errors import UserError
from longform.text import count_words
from tests.fakes import ScriptedFakeBackend, fake_model, prose, prose_zh


def run(backend, target, tmp_path, thread_id="t1", **kw):
    model = fake_model(backend, str(tmp_path / "calls.jsonl"))
    return asyncio.run(selflengthen.run(model, kw.pop("instruction", "Write a travel guide to Kyoto."), target,
                                        checkpoint_path=tmp_path / "ck.sqlite", thread_id=thread_id, **kw))


def expanding(first_words=250, factor=2.5, zh=False):
    """A fake writer: a first response of `first_words`; an expansion `factor` times its outline."""

    def reply(messages, params):
        user = messages[1]["content"]
        for head, tail in (("Original outline:\n\n", "\n\nInstruction:"), ("原始大纲：\n\n", "\n\n指令：")):
            if head in user:
                n = round(factor * count_words(user.split(head, 1)[1].split(tail, 1)[0]))
                return prose_zh(n) if zh else prose(n)
        return prose_zh(first_words) if zh else prose(first_words)

    return reply


def calls(tmp_path):
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines() if line.strip()]


def test_registered_with_settings():
    assert "selflengthen" in registry.names()
    s = registry.settings_for("selflengthen", registry.MethodOptions(max_rounds=3, extra={"growth": 1.5, "state_target": False}))
    assert s.extender.max_rounds == 3 and s.extender.growth == 1.5 and s.generator.state_target is False
    s = registry.settings_for("selflengthen", registry.MethodOptions(extra={"selflengthen": {"gen_tries": 1}}))
    assert s.gen_tries == 1
    with pytest.raises(UserError, match="unknown setting.*grwoth"):
        registry.settings_for("selflengthen", registry.MethodOptions(extra={"grwoth": 2}))


@pytest.mark.parametrize("target", [900, 2000])
def test_rounds_lengthen_to_the_target(tmp_path, target):
    r = run(ScriptedFakeBackend(default=expanding()), target, tmp_path)
    assert 0.9 * target <= r.words <= 1.2 * target
    assert r.plan_meta["first_words"] == 250 and r.plan_meta["kept_rounds"] >= 1
    rounds = r.sections[1:]
    assert all(rd["kept"] for rd in rounds)
    assert [rd["before"] for rd in rounds[1:]] == [rd["candidate"] for rd in rounds[:-1]]  # each round starts from the last kept
    tags = [c["tag"] for c in calls(tmp_path)]
    assert tags[0] == "generate" and tags[1] == "round-1:expand" and tags[2] == "round-1:continue1"
    # one model call per graph step: every call has its own tag
    assert len(tags) == len(set(tags))


def test_expand_sees_the_first_half_and_rest_continuations_the_next_pieces(tmp_path):
    first = "\n\n".join(prose(40) for _ in range(10))
    backend = ScriptedFakeBackend([first], default=expanding(factor=1.5))
    s = SelfLengthenSettings(extender=ExtenderSettings(max_rounds=1, rest_piece_words=100))
    r = run(backend, 5000, tmp_path, settings=s)
    paras = first.split("\n\n")
    prompts = [req[0][1]["content"] for req in backend.requests[1:]]
    assert "\n\n".join(paras[:5]) in prompts[0] and paras[5] not in prompts[0]
    # the rest, in order, two 40-word paragraphs a piece (at most 100 words)
    for k, prompt in enumerate(prompts[1:]):
        assert "\n\n".join(paras[5 + 2 * k : 7 + 2 * k]) in prompt
        assert [m["role"] for m in backend.requests[1 + 1 + k][0]] == ["system", "user"]
    assert len(prompts) == 1 + 3  # pieces: paragraphs 6-7, 8-9, 10
    assert r.sections[1]["events"][-1].startswith("outline_done")


def test_whole_mode_continues_with_the_whole_text_as_outline(tmp_path):
    first = "\n\n".join(prose(40) for _ in range(6))
    backend = ScriptedFakeBackend([first], default=lambda m, p: prose(300))
    s = SelfLengthenSettings(extender=ExtenderSettings(max_rounds=1, continue_mode="whole"))
    run(backend, 600, tmp_path, settings=s)
    cont = backend.requests[2][0]
    assert first in cont[1]["content"]  # the whole current text is the outline
    assert [m["role"] for m in cont] == ["system", "user", "assistant", "user"]


def test_a_round_that_does_not_grow_is_rejected_and_rounds_are_bounded(tmp_path):
    first = prose(400)
    backend = ScriptedFakeBackend([first], default=lambda m, p: prose(30))  # every round ends shorter
    s = SelfLengthenSettings(extender=ExtenderSettings(max_rounds=3, max_round_calls=2, round_words_per_call=10_000))
    r = run(backend, 2000, tmp_path, settings=s)
    assert r.text == first.strip() and r.words == 400  # honest: nothing longer was kept
    assert [rd["kept"] for rd in r.sections[1:]] == [False, False, False]
    assert all("not_longer" in rd["reasons"] for rd in r.sections[1:])
    assert len(backend.requests) <= 1 + 3 * (1 + selflengthen.ext.round_call_limit(2000, s.extender))


def test_a_round_with_a_repeated_long_ngram_is_cut_before_it(tmp_path):
    first = prose(200)
    rep = "the river ran past the old mill and the stone bridge every day"
    chunk = prose(150) + f"\n\nOne morning {rep}. " + prose(100) + f"\n\nThen {rep} again."
    backend = ScriptedFakeBackend([first], default=lambda m, p: chunk)
    r = run(backend, 1000, tmp_path, settings=SelfLengthenSettings(extender=ExtenderSettings(max_rounds=2)))
    assert r.text.count(rep) <= 1
    assert selflengthen.ext.check_response(r.text, "en").passed


def test_meta_text_is_dropped_from_rounds(tmp_path):
    first = prose(200)

    def reply(messages, params):
        return f"Here is the enriched version of the text:\n\n{prose(250)}\n\nI hope this expanded text helps!"

    r = run(ScriptedFakeBackend([first], default=reply), 600, tmp_path)
    assert "enriched version" not in r.text and "hope this" not in r.text
    assert r.sections[1]["kept"]


def test_generator_retries_a_failing_first_response_with_new_seeds(tmp_path):
    backend = ScriptedFakeBackend(["Tea is", "", prose(300)], default=lambda m, p: prose(300))
    r = run(backend, 300, tmp_path)
    assert r.sections[0]["calls"] == 3 and r.plan_meta["first_words"] == 300
    seeds = [p.seed for _, p in backend.requests[:3]]
    assert len(set(seeds)) == 3
    assert r.plan_meta["rounds"] == 0  # the first response already reached the target


def test_generator_tries_are_bounded(tmp_path):
    backend = ScriptedFakeBackend(default=lambda m, p: "Tea is" if "Original outline" not in m[-1]["content"] else prose(50))
    s = SelfLengthenSettings(gen_tries=2, extender=ExtenderSettings(max_rounds=1, max_round_calls=1))
    r = run(backend, 500, tmp_path, settings=s)
    gen_calls = [c for c in calls(tmp_path) if c["tag"].startswith("generate")]
    assert len(gen_calls) == 2 and r.sections[0]["calls"] == 2


def test_first_response_given_extends_with_the_extender_model(tmp_path):
    gen_backend = ScriptedFakeBackend([])
    ext_backend = ScriptedFakeBackend(default=expanding())
    r = asyncio.run(selflengthen.run(
        fake_model(gen_backend), "Write about tea.", 800, first_response=prose(200),
        extender=fake_model(ext_backend), checkpoint_path=tmp_path / "ck.sqlite", thread_id="x"))
    assert gen_backend.requests == [] and ext_backend.requests
    assert r.plan_meta["first_words"] == 200 and r.words >= 720


def test_stalling_model_is_bounded(tmp_path):
    backend = ScriptedFakeBackend(["Tea is good."], default=lambda m, p: "Tiny.")
    s = SelfLengthenSettings()
    r = run(backend, 5000, tmp_path, settings=s)
    e = s.extender
    assert len(backend.requests) <= s.gen_tries + e.max_rounds * (1 + selflengthen.ext.round_call_limit(5000, e))
    assert r.words < 5000


def test_past_the_target_is_cut_at_a_sentence(tmp_path):
    r = run(ScriptedFakeBackend(default=lambda m, p: prose(1500)), 500, tmp_path)
    assert r.words <= 500 * 1.2 and r.text.endswith(".")


class Boom(Exception):
    pass


def test_resume_never_requests_a_finished_step(tmp_path):
    script = [prose(700), prose(200), prose(250), Boom("killed")]  # the rest of 700 words: two pieces
    model = fake_model(ScriptedFakeBackend(script), str(tmp_path / "calls.jsonl"))
    model.retry = type(model.retry)(max_attempts=1)
    with pytest.raises(Boom):
        asyncio.run(selflengthen.run(model, "Write about tea.", 1500, checkpoint_path=tmp_path / "ck.sqlite",
                                     thread_id="r"))
    before = [c["tag"] for c in calls(tmp_path)]
    assert before == ["generate", "round-1:expand", "round-1:continue1"]
    backend2 = ScriptedFakeBackend(default=lambda m, p: prose(300))
    r = asyncio.run(selflengthen.run(fake_model(backend2, str(tmp_path / "calls.jsonl")), "Write about tea.", 1500,
                                     checkpoint_path=tmp_path / "ck.sqlite", thread_id="r", resume=True))
    after = [c["tag"] for c in calls(tmp_path)][len(before):]
    assert r.resumed and after[0] == "round-1:continue2"
    assert not any(t in before for t in after)
    assert r.plan_meta["first_words"] == 700
    backend3 = ScriptedFakeBackend([])
    r2 = asyncio.run(selflengthen.run(fake_model(backend3), "Write about tea.", 1500, checkpoint_path=tmp_path / "ck.sqlite",
                                      thread_id="r", resume=True))
    assert backend3.requests == [] and r2.text == r.text


def test_chinese_run_counts_characters(tmp_path):
    r = run(ScriptedFakeBackend(default=lambda m, p: prose_zh(300)), 900, tmp_path, instruction="写一篇关于茶叶历史的文章")
    assert r.lang == "zh" and 0.9 * 900 <= r.words <= 1.2 * 900
    assert "原始大纲" in calls(tmp_path)[1]["messages"][1]["content"]


def test_recursion_limit_covers_bounds():
    s = SelfLengthenSettings()
    e = s.extender
    for target in (500, 2000, 10000):
        calls = selflengthen.ext.round_call_limit(target, e)
        assert calls >= e.max_round_calls and calls * e.round_words_per_call >= target
        assert selflengthen.recursion_limit(s, target) >= s.gen_tries + e.max_rounds * (1 + calls + 1) + 2


def test_run_json_fields(tmp_path):
    r = run(ScriptedFakeBackend(default=lambda m, p: prose(300)), 800, tmp_path)
    assert r.method == "selflengthen" and r.sections[0]["title"] == "first response"
    assert all(re.match(r"round \d+", s["title"]) for s in r.sections[1:])
    assert r.usage["calls"] == len(calls(tmp_path))


def test_an_expansion_shorter_than_its_source_keeps_the_source_so_rounds_still_grow(tmp_path):
    """A weak model summarises what it should expand. The first half (several paragraphs) comes back at
    half its length, the rest's pieces (one paragraph each) at 1.5x: a round made of the summary loses
    more than the pieces gain and is rejected every time; keeping the source where the expansion is
    shorter makes every round grow."""
    first = "\n\n".join(prose(60, start=i * 60) for i in range(10))  # 600 words in 10 paragraphs

    def reply(messages, params):
        user = messages[1]["content"]
        if "Original outline:\n\n" not in user:
            return first
        outline = user.split("Original outline:\n\n", 1)[1].split("\n\nInstruction:", 1)[0]
        n = count_words(outline)
        return prose(n // 2 if n > 200 else round(n * 1.5))  # fresh words each call

    s = SelfLengthenSettings(extender=ExtenderSettings(max_rounds=3))
    r = run(ScriptedFakeBackend(default=reply), 2000, tmp_path, settings=s)
    rounds = r.sections[1:]
    assert rounds and all(rd["kept"] for rd in rounds), [(rd["before"], rd["candidate"], rd["reasons"], rd["events"]) for rd in rounds]
    assert all(rd["candidate"] > rd["before"] for rd in rounds)
    assert r.words > 600
