"""Replaying a logged conversation: folding a message into a state without replying.

:func:`observe` is what the chat engine does with a message it does not answer, and what the
ReDial evaluation does with every earlier message of a dialogue before it ranks: a user message
updates preferences and constraints; an assistant message's items count as mentioned and as
already recommended.

It knows the understander and the conversation state; it does not know ranking, generators or gradio.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.dialogue.state import ConversationState
from workbench.dialogue.understand import Understander, Understanding


def observe(understander: Understander, state: ConversationState, role: str, text: str, *,
            linked: Sequence[str] = ()) -> Understanding:
    """Fold ``text`` (said by ``role``) into ``state``; returns what was understood."""
    u = understander.understand(text, last_slate=state.last_slate, linked=linked)
    if role == "user":
        state.apply(u)
    else:
        ids = [m.item_id for m in u.mentions]
        for item_id in ids:
            if item_id not in state.mentioned:
                state.mentioned.append(item_id)
        state.record_slate(ids)
    state.add_turn(role, text)
    return u
