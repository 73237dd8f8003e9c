"""Grounding beyond titles (issue 16.3, 16.5): false claims about a slate film, instruction echo and
repeated sentences are corrected or dropped, and counted by kind in ``fixes_by_kind``."""

from __future__ import annotations

import pytest

from tests.conftest import TINY_ITEMS
from workbench.catalog import Catalog, Item
from workbench.dialogue.grounding import Grounder, ground, ground_stream

PHILADELPHIA = Item("p1", "Philadelphia", 1993, ("Drama", "Legal"), ("Jonathan Demme",),
                    ("Tom Hanks", "Denzel Washington", "Antonio Banderas"))
NEMO = Item("n1", "Finding Nemo", 2003, ("Animated", "Family", "Adventure", "Comedy"), ("Andrew Stanton",),
            ("Albert Brooks", "Ellen DeGeneres", "Willem Dafoe"))
EXTRA = [PHILADELPHIA, NEMO,
         Item("z1", "Zootopia", 2016, ("Animated", "Comedy"), ("Byron Howard", "Rich Moore"),
              ("Ginnifer Goodwin", "Jason Bateman", "Idris Elba"))]
CATALOG = Catalog([*TINY_ITEMS, *EXTRA], source="facts-test")
BY_ID = {i.item_id: i for i in CATALOG}
SLATE = (PHILADELPHIA, NEMO, BY_ID["3"], BY_ID["5"], BY_ID["z1"])  # + Heat (1995), Collateral (2004)

# (reply, expected grounded reply, expected fixes_by_kind)
CASES = [
    # person claims
    pytest.param("I recommended Philadelphia (1993) because of the director, Michael Mann.",
                 "I recommended Philadelphia (1993) because of the director, Jonathan Demme.", {"person": 1},
                 id="wrong-sole-director-corrected"),
    pytest.param("Philadelphia (1993), directed by Ridley Scott, is moving.",
                 "Philadelphia (1993), directed by Jonathan Demme, is moving.", {"person": 1},
                 id="directed-by-corrected"),
    pytest.param("Finding Nemo (2003) has a great cast including Tom Hanks, Tim Allen, Jason Bateman, "
                 "Idris Elba. Heat is tense.", "Heat is tense.", {"person": 4}, id="cast-all-wrong-dropped"),
    pytest.param("Finding Nemo (2003) stars Albert Brooks and Tom Hanks.",
                 "Finding Nemo (2003) stars Albert Brooks.", {"person": 1}, id="wrong-name-cut-from-list"),
    pytest.param("Try Philadelphia, starring Al Pacino. Heat is tense.", "Heat is tense.", {"person": 1},
                 id="starring-wrong-dropped"),
    pytest.param("Try Philadelphia (1993). It stars Sigourney Weaver. Heat is tense.",
                 "Try Philadelphia (1993). Heat is tense.", {"person": 1}, id="pronoun-refers-to-last-film"),
    pytest.param("Zootopia (2016), directed by Andrew Stanton, is fun.", "", {"person": 1},
                 id="two-directors-not-guessed"),
    # true claims and names the catalogue does not know are left alone
    pytest.param("Philadelphia (1993), directed by Jonathan Demme and starring Tom Hanks, is moving.",
                 "Philadelphia (1993), directed by Jonathan Demme and starring Tom Hanks, is moving.", {},
                 id="true-claims-kept"),
    pytest.param("Finding Nemo (2003) stars Albert Fishman.", "", {"person": 1},
                 id="unknown-name-dropped-by-the-person-rule"),
    pytest.param("If you like Tom Hanks, try Finding Nemo (2003).",
                 "If you like Tom Hanks, try Finding Nemo (2003).", {}, id="name-without-claim"),
    pytest.param("Heat (1995) and Collateral (2004) were both directed by Michael Mann.",
                 "Heat (1995) and Collateral (2004) were both directed by Michael Mann.", {},
                 id="two-films-one-director"),
    pytest.param("With Tom Cruise and Al Pacino, Heat and Collateral are tense.",
                 "With Tom Cruise and Al Pacino, Heat and Collateral are tense.", {}, id="cast-of-either-film"),
    # years and decades
    pytest.param("Finding Nemo, which was released in 2007, is lovely.",
                 "Finding Nemo, which was released in 2003, is lovely.", {"year": 1}, id="wrong-year-corrected"),
    pytest.param("Philadelphia is a 1980s classic.", "Philadelphia is a 1990s classic.", {"year": 1},
                 id="wrong-decade-corrected"),
    pytest.param("Heat is an 80s film.", "Heat is an 90s film.", {"year": 1}, id="short-decade"),
    pytest.param("Heat came out in 1995.", "Heat came out in 1995.", {}, id="true-year"),
    pytest.param("If you want 80s films, Heat (1995) is close.", "If you want 80s films, Heat (1995) is close.", {},
                 id="decade-not-attributed"),
    pytest.param("Heat and Collateral came out in 1999.", "", {"year": 1}, id="year-fits-no-film-dropped"),
    pytest.param("Inception (2012) bends minds.", "Inception (2010) bends minds.", {"year": 1},
                 id="wrong-year-in-title-counted-as-year"),
    # genres
    pytest.param("Heat is a romantic comedy. Collateral is tense.", "Collateral is tense.", {"genre": 1},
                 id="wrong-genre-dropped"),
    pytest.param("Finding Nemo, a horror film, is fun. Heat is tense.", "Heat is tense.", {"genre": 1},
                 id="appositive-genre"),
    pytest.param("You might enjoy Heat as a great comedy about cops. Collateral is tense.", "Collateral is tense.",
                 {"genre": 1}, id="as-a-genre"),
    pytest.param("Heat is a tense crime thriller.", "Heat is a tense crime thriller.", {}, id="true-genre"),
    pytest.param("Heat is a great action film.", "Heat is a great action film.", {}, id="near-genre-kept"),
    pytest.param("If you want a comedy, try Heat.", "If you want a comedy, try Heat.", {},
                 id="genre-not-attributed"),
    # instruction echo and repeats
    pytest.param("Your task: Choose a different option based on the provided choices. Heat is tense.",
                 "Heat is tense.", {"echo": 1}, id="your-task"),
    pytest.param("Heat is tense. This is the original request: This is the original request: pick one.",
                 "Heat is tense.", {"echo": 1}, id="original-request"),
    pytest.param("Heat is tense.\nThis is the original request:\nThis is the original request:\n"
                 "This is the original request:", "Heat is tense.", {"echo": 3}, id="original-request-lines"),
    pytest.param("As an AI, I cannot watch films. Heat is tense.", "Heat is tense.", {"echo": 1}, id="as-an-ai"),
    pytest.param("Heat is tense. Heat is tense! Collateral is too. Heat is  tense.",
                 "Heat is tense. Collateral is too.", {"repeat": 2}, id="repeated-sentence"),
    pytest.param("Heat is tense. It is a task for the crew.", "Heat is tense. It is a task for the crew.", {},
                 id="the-word-task-is-fine"),
]


@pytest.mark.parametrize(("reply", "expected", "by_kind"), CASES)
def test_fact_echo_repeat_table(reply: str, expected: str, by_kind: dict[str, int]) -> None:
    """Each reply grounds to the expected text; fixes are counted by kind and sum to ``fixes``."""
    out = ground(reply, SLATE, CATALOG, allowed=[BY_ID["10"]])
    assert out.text == expected
    assert out.fixes_by_kind == by_kind
    assert out.fixes == sum(by_kind.values()) == len(out.events)


def test_instruction_copied_from_the_prompt_is_echo() -> None:
    """A sentence copying six words of the instructions the model read is dropped as echo."""
    system = "You are a friendly movie recommender. Recommend only the films listed under Candidates."
    g = Grounder(CATALOG, instructions=[system])
    out = g.ground("Heat is tense. Recommend only the films listed under Candidates, okay.", SLATE)
    assert out.text == "Heat is tense." and out.fixes_by_kind == {"echo": 1}
    assert g.ground("Recommend only the films you love.", SLATE).fixes == 0


def test_prompts_module_instructions_are_detected() -> None:
    """The real prompt's system prompt and task lines, copied into a reply, are dropped."""
    import workbench.dialogue.generators  # noqa: F401  (prompts imported first is a cycle today)
    from workbench.dialogue import prompts

    g = Grounder(CATALOG, instructions=[prompts.SYSTEM_PROMPT, *prompts._TASKS.values()])
    out = g.ground(f"{prompts._TASKS['recommend']} Heat is tense.", SLATE)
    assert out.text == "Heat is tense." and out.fixes_by_kind == {"echo": 1}


def test_stream_reports_fixes_by_kind_and_matches_whole() -> None:
    """The stream drops the same sentences as grounding the joined text, and counts them alike."""
    reply = ("I recommended Philadelphia (1993) because of the director, Michael Mann. Your task: pick. "
             "Heat is tense. Heat is tense.")
    pieces = [reply[i : i + 5] for i in range(0, len(reply), 5)]
    stream = ground_stream(pieces, SLATE, CATALOG)
    shown = "".join(stream)
    whole = ground(reply, SLATE, CATALOG)
    assert shown == whole.text
    assert stream.fixes_by_kind == whole.fixes_by_kind == {"person": 1, "echo": 1, "repeat": 1}
    assert "Jonathan Demme" in shown and "Michael Mann" not in shown


def test_a_name_with_a_lower_case_the_is_one_person() -> None:
    """"André the Giant" in a cast list is one credited name, not "André" (unknown) and "Giant"."""
    bride = Item("pb", "The Princess Bride", 1987, ("Fantasy", "Comedy"), ("Rob Reiner",),
                 ("Cary Elwes", "Robin Wright", "André the Giant", "Chris Sarandon"))
    catalog = Catalog([*TINY_ITEMS, bride], source="the-giant")
    reply = "The Princess Bride (1987) stars Cary Elwes, Robin Wright, André the Giant and Chris Sarandon."
    out = ground(reply, (bride,), catalog)
    assert out.text == reply and out.fixes == 0
    wrong = ground("The Princess Bride (1987) stars Cary Elwes and Hulk the Giant.", (bride,), catalog)
    assert "Hulk" not in wrong.text and wrong.fixes >= 1  # an unknown name in the list is never shown
