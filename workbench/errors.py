"""The workbench's exception hierarchy.

Every error we raise on purpose is a :class:`WorkbenchError`; the UI catches it
once at its boundary and shows the message. Messages name what was wrong and
where it came from (file, row, field, limit) so that a user can fix it.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(WorkbenchError):
    """A setting is unknown, ill-typed or out of range."""


class CatalogError(WorkbenchError):
    """A catalogue or interactions file is unreadable or invalid."""


class EmbeddingError(WorkbenchError):
    """An embedding model could not be loaded or used."""


class ItemIndexError(WorkbenchError):
    """An item index is missing, corrupt, or does not match its catalogue/model.

    Not called ``IndexError`` so that it never shadows the builtin.
    """


class RecommenderError(WorkbenchError):
    """A recommender was misused (not fitted, bad history, bad saved model)."""


class GenerationError(WorkbenchError):
    """A dialogue generator failed (model load, endpoint error, timeout)."""


class DialogueError(WorkbenchError):
    """A chat message or conversation state was invalid (too long, empty, wrong session)."""


class FeedbackError(WorkbenchError):
    """A feedback record is invalid or could not be stored or read."""


class EvaluationError(WorkbenchError):
    """An evaluation dataset is missing or malformed."""


class ProjectError(WorkbenchError):
    """An annotation project, task, claim or submission was invalid (unknown name, not claimed, twice)."""


class ArenaError(WorkbenchError):
    """An arena pair or vote the arena cannot take (unknown pair, a second vote, a bad vote)."""
