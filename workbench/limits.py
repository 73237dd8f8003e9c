"""One set of named limits shared by the catalogue, the engine, the UI and the feedback store.

Every producer keeps within these, so anything the app shows can be saved: the UI's textboxes,
the engine's message check, the catalogue loader and the record validator all read the same
constants. This module knows numbers only; it imports nothing.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 2_000
"""A user message (UI textbox, API, engine, and the record's ``user_message``)."""

MAX_TEXT_CHARS = 4_000
"""A reply, a stored conversation turn, an item reason."""

MAX_COMMENT_CHARS = 2_000
"""An annotator's comment."""

MAX_ANNOTATOR_CHARS = 100
"""An annotator name typed into the UI or sent to the API."""

MAX_ID_CHARS = 200
"""Annotator, session id, item ids, backend/model ids, hashes."""

MAX_TITLE_CHARS = 500
"""An item title in the catalogue."""

MAX_DISPLAY_TITLE_CHARS = MAX_TITLE_CHARS + len(" (9999)")
"""A title as shown and stored with a slate item: the catalogue title plus its year."""

MAX_LIST_FIELD_ITEMS = 100
"""Entries in a catalogue list field (genres, cast, ...)."""

MAX_CONVERSATION_TURNS = 200
"""Turns of conversation stored with one record."""

MAX_SLATE_ITEMS = 50
"""Items on one stored slate."""

MAX_SLATE = 10
"""Items the UI shows per turn (card slots)."""

MAX_SOURCES = 20
"""Per-source scores stored with one item."""

MAX_TURN_INDEX = 1_000_000
MAX_RANK = 1_000_000
