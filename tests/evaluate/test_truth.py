"""The truth detector of ``eval replies`` (issue 26.3): each kind of unsupported content is found,
clean replies are not flagged, and the detector shares no code with the grounder it audits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import TINY_ITEMS
from workbench.catalog import Item
from workbench.evaluate.truth import TRUTH_KINDS, TruthDetector, truth_block

GIRLS = Item("g1", "Girls Trip", 2017, ("Comedy",), ("Malcolm D. Lee",), ("Regina Hall", "Queen Latifah"))
SHOP = Item("s1", "Little Shop of Horrors", 1986, ("Comedy", "Musical"), ("Frank Oz",), ("Rick Moranis",))
ITEMS = [*TINY_ITEMS, GIRLS, SHOP]
BY_ID = {i.item_id: i for i in ITEMS}
SLATE = [BY_ID["3"], BY_ID["5"], GIRLS, SHOP]  # Heat (1995), Collateral (2004), Girls Trip, Little Shop of Horrors
DETECTOR = TruthDetector(ITEMS)

CASES = [
    ("You might enjoy Heat (1995). You can find them here: https://www.youtube.com/watch?v=x", {"link", "shop"}),
    ("Heat (1995) is tense. Email me at a@b.org.", {"link"}),
    ("Heat is tense. You could also find it on Netflix.", {"shop"}),
    ("Try Heat. There is a great deal on Heat toys at a toy store.", {"shop"}),
    ("Heat is tense. Note: If you prefer, you could ask the user if they like crime.", {"instruction"}),
    ("Heat is a tense film. Assistant: anything else?", {"instruction"}),
    ("Collateral is tense. Heat ( Is there a director", {"cut"}),
    ("Collateral is a tense film with", {"cut"}),
    ("Tom Hanks's action thriller about a heist is Heat.", {"person"}),
    ("Girls Trip is a comedy by Zelda Kowalski.", {"person"}),
    ("Try Heat (1995) and Frank Oz's Collateral (2004).", {"person"}),
    ("I'm sorry for your loss. Please go ahead and relax.", {"off_task"}),
    ("Sorry, no film matches. Maybe later.", {"off_task"}),
    # clean
    ("Heat (1995), Michael Mann's heist epic, stars Al Pacino and Robert De Niro.", set()),
    ("If you like Rachel McAdams, try Girls Trip (2017), a comedy with Regina Hall.", set()),
    ("Little Shop of Horrors (1986) is a fun musical.", set()),
    ("Collateral (2004) is a tense thriller; Heat (1995) too.", set()),
]


@pytest.mark.parametrize(("reply", "kinds"), CASES)
def test_each_kind_is_found_and_clean_replies_pass(reply: str, kinds: set[str]) -> None:
    """One row per kind, and clean replies (true credits, a person the user named, a title with "Shop")."""
    assert DETECTOR.kinds(reply, SLATE, user_text="Anything with Rachel McAdams?") == kinds


def test_a_condolence_after_a_loss_is_on_task() -> None:
    assert DETECTOR.kinds("I'm sorry for your loss. Heat is a gentle film.", SLATE, "my dog died") == set()


def test_truth_block_shares_before_and_after() -> None:
    """Shares per kind before/after, "any", counts after and the replaced share, from hand-made sets."""
    block = truth_block([{"link"}, {"shop", "person"}, set(), set()], [set(), {"person"}, set(), set()],
                        [True, False, False, False])
    assert block["n"] == 4 and block["before"]["link"] == 0.25 and block["before"]["any"] == 0.5
    assert block["after"]["person"] == 0.25 and block["after"]["link"] == 0.0 and block["after"]["any"] == 0.25
    assert block["counts_after"] == {k: int(k == "person") for k in TRUTH_KINDS}
    assert block["replaced_by_template"] == 0.25


def test_the_detector_imports_nothing_from_the_grounder() -> None:
    """The audit is independent: truth.py imports no dialogue module (grounding, rules, people, facts,
    echo, titles, sentences), at module level or inside functions."""
    source = Path(__file__).resolve().parents[2] / "workbench" / "evaluate" / "truth.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    first_party = {m for m in imported if m.startswith("workbench")}
    assert first_party == {"workbench.catalog"}, first_party
