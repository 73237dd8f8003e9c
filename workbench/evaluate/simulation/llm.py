"""The simulated user played by a language model (iEvaLM's free-form mode), through the generator backends.

:class:`LLMSimulator` prompts a generator (an OpenAI-compatible endpoint or a transformers model, the
same backends the app's replies use) with iEvaLM's rules and the target's catalogue facts, never its
title, and the recommender's latest reply. A model may still name the film: every message is checked
with :func:`~workbench.evaluate.simulation.attribute.leaks` (the title and each of its words that is not a
function word) and each leaking word is redacted (``redactions`` counts the messages redacted). A
backend that fails, or a message left empty, is replaced by the attribute simulator's answer
(``fallbacks`` counts them), so a run never stops on one bad reply.

It knows the generator protocol, prompts for the user's side and the title check; it does not know
the engine or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from workbench.catalog import Catalog, Item
from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.errors import EvaluationError, WorkbenchError
from workbench.evaluate.simulation.attribute import AttributeSimulator, leaks, target_facts, title_words
from workbench.text import MESSAGE_TOKEN_RE, norm_token

#: iEvaLM's rules for the simulated user, with the target's facts filled in.
USER_PROMPT = (
    "You are a person chatting with a movie recommender. You have one film in mind and want it "
    "recommended, but you must never say its title or any word of it. What you know about the film: {facts}. "
    "Answer only what the recommender asks, in one short sentence, using only those facts. If its "
    "suggestions do not include your film, start with \"Not those.\" If it asks nothing, ask for "
    "something else. Never name any film."
)
#: Characters kept from the recommender's reply in the prompt.
MAX_REPLY_CHARS = 1200
REDACTED = "..."


def describe(item: Item) -> str:
    """The target's facts as the prompt states them (no title)."""
    facts = target_facts(item)
    parts = []
    if facts["genre"]:
        parts.append("genre " + ", ".join(facts["genre"][:3]))
    if facts["decade"]:
        parts.append("from the " + facts["decade"][0])
    if facts["director"]:
        parts.append("directed by " + " and ".join(facts["director"]))
    if facts["actor"]:
        parts.append("starring " + " and ".join(facts["actor"]))
    if facts["tag"]:
        parts.append("about " + ", ".join(facts["tag"]))
    text = "; ".join(parts) or "nothing in particular"
    return redact(text, item) if leaks(text, item) else text


def redact(text: str, item: Item) -> str:
    """``text`` with every word of ``item``'s title that is not a function word (and the whole title)
    replaced by ``...``."""
    distinctive, sequence = title_words(item)
    out, last = [], 0
    matches = list(MESSAGE_TOKEN_RE.finditer(text))
    norms = [norm_token(m.group()) for m in matches]
    drop = {j for j, t in enumerate(norms) if t in distinctive}
    n = len(sequence)
    for j in range(len(norms) - n + 1) if n else ():
        if tuple(norms[j:j + n]) == sequence:
            drop |= set(range(j, j + n))
    for j, m in enumerate(matches):
        if j in drop:
            out.append(text[last:m.start()] + REDACTED)
            last = m.end()
    out.append(text[last:])
    return re.sub(r"\.\.\.(?:\s*\.\.\.)+", REDACTED, "".join(out)).strip()


class LLMSimulator:
    """A simulated user written by ``generator``; deterministic only if the backend is (temperature 0).

    Args:
        catalog: where targets' facts come from.
        generator: any :class:`~workbench.dialogue.generators.base.Generator` that sends
            ``GenerationRequest.messages`` (the OpenAI-compatible and transformers backends).
    """

    mode = "llm"

    def __init__(self, catalog: Catalog, generator: Generator):
        self.catalog = catalog
        self.generator = generator
        self.fallback = AttributeSimulator(catalog)
        self.redactions = 0
        self.fallbacks = 0

    def counts(self) -> dict[str, int]:
        """Messages redacted for naming the film, and answers the attribute simulator gave instead."""
        return {"redacted": self.redactions, "fell_back": self.fallbacks}

    def messages(self, item: Item, assistant_text: str, hit: bool) -> tuple[dict[str, str], ...]:
        shown = " ".join(assistant_text.split())[:MAX_REPLY_CHARS]
        verdict = "include your film" if hit else "do not include your film"
        return (
            {"role": "system", "content": USER_PROMPT.format(facts=describe(item))},
            {"role": "user", "content": f"The recommender says: {shown}\nIts suggestions {verdict}. "
                                        "Write your reply to the recommender."},
        )

    def reply(self, target_id: str, assistant_text: str, slate: Sequence[str], turn: int = 0) -> str:
        item = self.catalog[target_id]
        hit = item.item_id in {self.catalog.canonical_id(i) for i in slate if i in self.catalog}
        request = GenerationRequest(turns=(), intent="other", messages=self.messages(item, assistant_text, hit))
        try:
            text = " ".join(self.generator.generate(request).split())
        except WorkbenchError:
            text = ""
        if text and leaks(text, item):
            self.redactions += 1
            text = redact(text, item)
        if not text.strip(" .") or leaks(text, item):
            self.fallbacks += 1
            return self.fallback.reply(target_id, assistant_text, slate, turn)
        return text


def llm_simulator(catalog: Catalog, settings: object) -> LLMSimulator:
    """The simulator over the settings' generator backend (``openai`` or ``transformers``)."""
    from workbench.dialogue.generators.factory import load_generator
    from workbench.dialogue.generators.fallback import FallbackGenerator

    generator = load_generator(settings)  # type: ignore[arg-type]
    if isinstance(generator, FallbackGenerator):
        # its fallback is the recommender's template reply: the simulator falls back on its own instead
        generator = generator.primary
    if generator.name == "template":
        raise EvaluationError("--mode llm needs a language model: set WORKBENCH_GENERATOR to openai or transformers "
                              "(the template generator cannot play a user)")
    return LLMSimulator(catalog, generator)


__all__ = ["MAX_REPLY_CHARS", "REDACTED", "USER_PROMPT", "LLMSimulator", "describe", "llm_simulator", "redact"]
