"""Prompts for language-model generators: a short system prompt, one worked example, the request.

Small models (SmolLM2-135M) stay on task only with a short system prompt and a
worked example in the same format as the real request; larger models do not
mind. The candidates block lists exactly the slate's items (display title,
facts, reason) so the model has every title it may use in front of it.

It knows requests and items; it does not know tokenizers, HTTP or gradio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.dialogue.answers import answer_text
from workbench.dialogue.types import Recommendation

if TYPE_CHECKING:  # at run time the generators package imports this module (openai_compat)
    from workbench.dialogue.generators.base import GenerationRequest

#: Turns of conversation shown to the model (older turns are left out).
MAX_PROMPT_TURNS = 6
#: Characters kept from each turn.
MAX_TURN_CHARS = 400

SYSTEM_PROMPT = (
    "You are a friendly movie recommender. Reply in 2 to 4 short sentences. "
    "Recommend only the films listed under Candidates, using their exact titles and years. "
    "Never mention any other film."
)

_TASKS = {
    "recommend": "Recommend the candidates to the user and say briefly why each fits.",
    "more_like": "Recommend the candidates as films similar to what the user liked.",
    "refine": "Present the candidates as the updated picks that follow the user's new wishes.",
    "why": "Explain why the candidate was recommended, using its reason.",
    "feedback": "Thank the user for the feedback, then recommend the candidates.",
    "greeting": "Greet the user, then recommend the candidates.",
    "chitchat": "Answer the user briefly and kindly, then recommend the candidates.",
    "other": "Answer politely that you recommend movies, then recommend the candidates.",
    "ask_fact": "Answer the user's question about the film, then recommend the candidates.",
    "compare": "Answer the user's question about the films, then recommend the candidates.",
    "seen": "Note that the user has seen the film, then recommend the candidates.",
    "not_seen": "Note that the user has not seen the film, then recommend the candidates.",
    "thanks_bye": "Say goodbye warmly, then recommend the candidates.",
    "capabilities": "Say briefly that you recommend films and answer questions about them, then recommend the candidates.",
}
_TASKS_NO_CANDIDATES = {
    "greeting": "Greet the user and ask what kind of movie they would like. Do not name any film.",
    "chitchat": "Answer the user briefly and kindly and ask what movie they would like. Do not name any film.",
    "why": "Ask the user which recommended film they want explained. Do not name any film.",
    "thanks_bye": "Say goodbye warmly in one short sentence and wish the user a good film. Do not name any film.",
    "capabilities": ("Say in two short sentences that you recommend films from a catalogue (the user names a film, "
                     "genre, actor or mood) and answer questions about the films you show. Do not name any film."),
    "other": "Acknowledge the user's message in a few words and ask what movie they would like. Do not name any film.",
    "ask_fact": "Ask the user which film they mean. Do not name any film.",
    "compare": "Ask the user which films they mean. Do not name any film.",
}
#: The task when the user asked about films: the fact comes from the catalogue, stated as given.
ANSWER_TASK = ("Answer the user's question in one or two sentences using only this fact from the catalogue: "
               "{fact} Do not recommend any film.")
#: Off topic, the first time: back to films.
_TASK_STEER = ("The message is not about films. Say in one short sentence, without apologising, that you help "
               "with films, and ask what the user would like to watch. Do not name any film.")
#: Off topic again, right after a steer: no second steer.
_TASK_NEUTRAL = "Reply in a few neutral words. Do not name any film and do not ask a question."
_TASK_NOTHING_FOUND = (
    "No film matched. Apologise briefly and ask the user to relax a constraint. Do not name any film."
)

_EXAMPLE_USER = (
    "Candidates:\n"
    "- Heat (1995): crime, thriller; directed by Michael Mann; with Al Pacino, Robert De Niro. "
    "Reason: a tense crime film like Collateral (2004)\n"
    "- The Town (2010): crime, drama; directed by Ben Affleck. Reason: a heist thriller\n"
    "\nConversation:\nUser: I loved Collateral, I want another tense crime movie.\n"
    "\nTask: Recommend the candidates to the user and say briefly why each fits."
)
_EXAMPLE_ASSISTANT = (
    "Since you loved Collateral, try Heat (1995), Michael Mann's heist epic with Al Pacino and "
    "Robert De Niro. The Town (2010) is another tense heist thriller you should enjoy."
)

#: Added to the task when the engine asks a question after the slate.
ASK_TASK = "End the reply by asking the user: {question}"

#: Every instruction text a language model reads (the grounder drops sentences that copy them).
INSTRUCTIONS: tuple[str, ...] = (
    SYSTEM_PROMPT, *_TASKS.values(), *_TASKS_NO_CANDIDATES.values(), _TASK_NOTHING_FOUND,
    ASK_TASK.split(":")[0], ANSWER_TASK.split(":")[0], _TASK_NEUTRAL, _TASK_STEER,
)
#: Prompt text that is neither instruction nor reply (the worked example's request, less its
#: candidates, whose facts a reply may state): a reply copying it is off task (``eval replies``).
PROMPT_EXAMPLES: tuple[str, ...] = tuple(
    line for line in _EXAMPLE_USER.splitlines() if line.strip() and not line.startswith("- ")
)


def describe_candidate(rec: Recommendation) -> str:
    """One line of the candidates block: title, a few facts, the reason."""
    item = rec.item
    facts = []
    if item.genres:
        facts.append(", ".join(g.lower() for g in item.genres[:3]))
    if item.directors:
        facts.append("directed by " + ", ".join(item.directors[:2]))
    if item.cast:
        facts.append("with " + ", ".join(item.cast[:3]))
    line = f"- {item.display_title}"
    if facts:
        line += ": " + "; ".join(facts) + "."
    if rec.reason.strip():
        line += f" Reason: {' '.join(rec.reason.split()).rstrip('.')}"
    return line


def task_line(request: GenerationRequest) -> str:
    intent = request.intent if request.intent in _TASKS else "other"
    if request.answer is not None:
        task = ANSWER_TASK.format(fact=answer_text(request.answer))
        if request.recommendations:
            task = task.replace("Do not recommend any film.", "Then recommend the candidates.")
        return task
    if request.act == "chat":
        return _TASK_NEUTRAL
    if request.act == "steer":
        return _TASK_STEER
    if not request.recommendations:
        return _TASKS_NO_CANDIDATES.get(intent, _TASK_NOTHING_FOUND)
    return _TASKS[intent]


def render_request(request: GenerationRequest) -> str:
    """The user message for one request: candidates, conversation, notes, task."""
    lines = ["Candidates:"]
    if request.recommendations:
        lines += [describe_candidate(r) for r in request.recommendations]
    else:
        lines.append("(none)")
    if request.answer is not None and request.answer.items:
        # the films asked about, with their facts: the reply may name them
        lines += ["", "Films asked about:"]
        lines += [describe_candidate(Recommendation(item, rank, 0.0)) for rank, item in
                  enumerate(request.answer.items, 1)]
    lines += ["", "Conversation:"]
    for turn in request.turns[-MAX_PROMPT_TURNS:]:
        who = "User" if turn.role == "user" else "You"
        text = " ".join(turn.text.split())
        if len(text) > MAX_TURN_CHARS:
            text = text[:MAX_TURN_CHARS] + "..."
        lines.append(f"{who}: {text}")
    if request.notes:
        lines += ["", "Notes to mention: " + " ".join(n.strip() for n in request.notes)]
    task = task_line(request)
    if request.question.strip() and request.recommendations:
        task += " " + ASK_TASK.format(question=" ".join(request.question.split()))
    lines += ["", "Task: " + task]
    return "\n".join(lines)


def build_messages(request: GenerationRequest, *, example: bool = True) -> list[dict[str, str]]:
    """Chat messages (``role``/``content`` dicts) for ``request``: system, worked example, request."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    if example:
        messages += [
            {"role": "user", "content": _EXAMPLE_USER},
            {"role": "assistant", "content": _EXAMPLE_ASSISTANT},
        ]
    messages.append({"role": "user", "content": render_request(request)})
    return messages


_PREFIXES = {
    "recommend": "You might enjoy {title}",
    "more_like": "If you liked that, try {title}",
    "refine": "Here is an updated pick: {title}",
    "why": "I recommended {title} because",
    "feedback": "Thanks for telling me! Next, try {title}",
    "greeting": "Hi! You might enjoy {title}",
    "chitchat": "Sure! You might enjoy {title}",
    "other": "I can help with movies. You might enjoy {title}",
    "seen": "Got it! Next, try {title}",
    "not_seen": "Got it! You might enjoy {title}",
    "ask_fact": "You might also enjoy {title}",
    "compare": "You might also enjoy {title}",
    "thanks_bye": "Enjoy! And if you want one more, try {title}",
    "capabilities": "I recommend films. You might enjoy {title}",
}


def reply_prefix(request: GenerationRequest) -> str:
    """The opening words of the reply, written for the model ("You might enjoy Heat (1995)").

    Local models continue from it: a 135M model that has already named the first
    candidate stays on the slate far more often. Empty when there is no slate.
    """
    if not request.recommendations or request.answer is not None:
        return ""
    intent = request.intent if request.intent in _PREFIXES else "other"
    return _PREFIXES[intent].format(title=request.recommendations[0].item.display_title)
