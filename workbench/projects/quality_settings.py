"""A project's quality settings: its gold rate and when an annotator is flagged.

One frozen dataclass, declared once: every field has a default, bounds and help text, and
:meth:`QualitySettings.replace` checks a change (``project create --gold-rate``, ``project
configure``) naming the option and the value it refused. The project stores keep one row per
project (absent: the defaults).

It knows the settings and their bounds; it does not know SQL or how the numbers are computed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ProjectError
from workbench.feedback.inputs import shown


def _setting(default: Any, lo: float, hi: float, help: str) -> Any:
    return field(default=default, metadata={"lo": lo, "hi": hi, "help": help})


@dataclass(frozen=True)
class QualitySettings:
    """How gold tasks are mixed in and when an annotator is flagged (see docs/annotation-quality.md)."""

    gold_rate: float = _setting(0.0, 0.0, 1.0, "share of each annotator's tasks that are gold tasks (0: none)")
    min_gold_accuracy: float = _setting(0.7, 0.0, 1.0, "flag an annotator whose gold accuracy is below this ...")
    min_gold_tasks: int = _setting(3, 1, 10_000, "... once they have submitted this many gold tasks")
    max_agreement_drop: float = _setting(
        0.1, 0.0, 2.0, "flag an annotator when the project's alpha rises by more than this without them")
    straight_run: int = _setting(
        6, 2, 10_000, "flag an annotator who gave the same answer to every card of this many tasks in a row")

    def replace(self, **changes: Any) -> QualitySettings:
        """A copy with ``changes`` (``None`` values are ignored), each checked against its bounds.

        Raises:
            ProjectError: an unknown setting or a value of the wrong type or out of bounds.
        """
        known = {f.name: f for f in dataclasses.fields(self)}
        clean = {}
        for name, value in changes.items():
            if value is None:
                continue
            f = known.get(name)
            if f is None:
                raise ProjectError(f"unknown quality setting {name!r} (settings: {', '.join(known)})")
            option = "--" + name.replace("_", "-")
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            integral = f.type in ("int", int)
            ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
                  and lo <= value <= hi and (not integral or int(value) == value))
            if not ok:
                kind = "an integer" if integral else "a number"
                raise ProjectError(f"{option}: must be {kind} {lo:g}-{hi:g} ({f.metadata['help']}), "
                                   f"got {shown(value)}")
            clean[name] = int(value) if integral else float(value)
        return dataclasses.replace(self, **clean)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: The settings' names, in declaration order (the columns of the stores' ``quality_settings`` table).
SETTING_NAMES = tuple(f.name for f in dataclasses.fields(QualitySettings))
