"""Unit writer: what a unit's prompt shows (plan, neighbours, constraints) and how a revision is applied."""

from longform.agents import unit_writer

from longform.text import count_words
from tests.fakes import prose

CTX = {"instruction": "Write a 3-week diary.", "overview": "A gardener's spring.", "n_units": 3, "target_words": 300,
       "outline": ["Week 1: seeds", "Week 2: the fox", "Week 3: harvest"], "global_rules": ["first person"]}
ITEMS = [{"n": k, "label": f"Week {k}", "title": t, "summary": s} for k, t, s in
         [(1, "Seeds", "Sowing."), (2, "The fox", "A fox visits."), (3, "Harvest", "We pick beans.")]]


def test_messages_show_the_plan_the_neighbours_and_the_constraints():
    item = {**ITEMS[1], "requirements": ['mention "the fox"'], "keywords": ["the fox"]}
    m = unit_writer.write_messages(CTX, item, ITEMS[0], ITEMS[2], budget=95, draft="", words_needed=95, lang="en")
    system, user = m[0]["content"], m[1]["content"]
    assert "Week 3: harvest" in system and "first person" in system and "A gardener's spring." in system
    assert "Week 1: Seeds Sowing." in user and "Week 3: Harvest We pick beans." in user
    assert '"the fox"' in user and "about 95 words" in user
    other = unit_writer.write_messages(CTX, {**ITEMS[0], "requirements": [], "keywords": []}, None, ITEMS[1], budget=95,
                                       draft="", words_needed=95, lang="en")
    assert other[0] == m[0]  # the fixed prefix is byte-identical across units
    cont = unit_writer.write_messages(CTX, item, ITEMS[0], ITEMS[2], budget=95, draft="Some text.", words_needed=40, lang="en")
    assert cont[2] == {"role": "assistant", "content": "Some text."} and "40 more words" in cont[3]["content"]


def test_revision_keeps_the_new_paragraph_inside_the_budget():
    text = prose(100)
    out = unit_writer.apply_revision(text, "The fox came back at dusk.", 100)
    assert out.endswith("The fox came back at dusk.") and abs(count_words(out) - 100) <= 10
    assert unit_writer.apply_revision(text, "  ", 100) == text


def test_echoes_of_the_prompt_and_requirements_are_stripped():
    item = {**ITEMS[1], "requirements": ['Week 2 must mention "the red umbrella"'], "keywords": ["the red umbrella"]}
    m = unit_writer.write_messages(CTX, item, ITEMS[0], ITEMS[2], budget=95, draft="", words_needed=95, lang="en")
    out = ("The part before: Week 7: Seeds Sowing.\nWrite about 95 words of prose in English.\n\n"
           'Week 2 must mention "the red umbrella". I found the red umbrella by the shed after the storm.\n\n'
           "A fox visits. The fox came at dusk and ate the lettuce.")
    kept = unit_writer.strip_echo(out, m, allowed=unit_writer.plan_texts(CTX, item, ITEMS[0], ITEMS[2]),
                                  forbidden=[CTX["instruction"], *item["requirements"]])
    assert kept == "I found the red umbrella by the shed after the storm.\n\nA fox visits. The fox came at dusk and ate the lettuce."


def test_prompt_wording_and_short_fragments_are_stripped_too():
    item = {**ITEMS[1], "requirements": ['Week 2 is paired with "a local cider"'], "keywords": ["a local cider"]}
    m = unit_writer.revise_messages(CTX, item, ITEMS[0], ITEMS[2], budget=95, text="We dug the beds. The soil was wet.",
                                    requirements=item["requirements"], keywords=item["keywords"], lang="en")
    out = ('The market sold fish, and it must contain the exact words "a local cider" in its description.\n\n'
           "A local cider.\n\nWe drank a local cider by the shed.")
    kept = unit_writer.strip_echo(out, m, allowed=unit_writer.plan_texts(CTX, item, ITEMS[0], ITEMS[2]),
                                  forbidden=[CTX["instruction"], *item["requirements"]], data=["We dug the beds."])
    assert kept == "We drank a local cider by the shed."
