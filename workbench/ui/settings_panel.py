"""The settings panel: generator backend and model, number of recommendations, filters.

The panel's values are inputs of every turn, so a change applies to the next
turn of that browser session only (other users are not affected).
:func:`parse_prefs` turns the raw widget values into
:class:`~workbench.chat.turns.TurnPrefs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.chat.turns import TurnPrefs
from workbench.config import GENERATOR_BACKENDS
from workbench.errors import ConfigError
from workbench.filters import CANONICAL_GENRES, ItemFilter
from workbench.limits import MAX_SLATE
from workbench.services import Services

#: Release years the year filters accept.
YEAR_MIN, YEAR_MAX = 1900, 2030

BACKEND_LABELS = {
    "auto": "Auto (LLM when loaded, else template)",
    "template": "Template (instant, deterministic)",
    "transformers": "Local LLM (transformers)",
    "openai": "OpenAI-compatible endpoint",
    "llamacpp": "Local GGUF (llama.cpp)",
    "openvino": "Local LLM (OpenVINO int8)",
}


#: The year fields' labels (error messages name the field as the user sees it).
YEAR_FROM_LABEL, YEAR_TO_LABEL = "Released from", "Released until"


def parse_year(value: Any, name: str) -> int | None:
    """A year field's value -> a year, or ``None`` (no limit) when it is empty.

    The fields are textboxes, not ``gr.Number``: Gradio's number box shows an empty value as 0 and
    then rejects its own 0 against ``minimum`` with a bare "Error" on every turn (issue 16, item 1).
    Here an empty or blank value means no limit and a bad one raises :class:`ConfigError` naming the field.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        year = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a year such as 1995 (or empty for no limit), got {value!r}") from None
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ConfigError(f"{name}: year must be {YEAR_MIN}-{YEAR_MAX} (or empty for no limit), got {year}")
    return year


def parse_prefs(
    backend: str | None,
    model: str | None,
    k: Any,
    genres: list[str] | None,
    exclude_genres: list[str] | None,
    year_from: Any,
    year_to: Any,
) -> TurnPrefs:
    """Widget values -> :class:`TurnPrefs`; bad values raise :class:`ConfigError` naming the field."""
    backend = backend or "auto"
    if backend not in GENERATOR_BACKENDS:
        raise ConfigError(f"generator backend must be one of {', '.join(GENERATOR_BACKENDS)}, got {backend!r}")
    try:
        k_int = int(k) if k not in (None, "") else 5
    except (TypeError, ValueError):
        raise ConfigError(f"number of recommendations: expected 1-{MAX_SLATE}, got {k!r}") from None
    if not 1 <= k_int <= MAX_SLATE:
        raise ConfigError(f"number of recommendations: expected 1-{MAX_SLATE}, got {k_int}")
    lo, hi = parse_year(year_from, YEAR_FROM_LABEL), parse_year(year_to, YEAR_TO_LABEL)
    if lo is not None and hi is not None and lo > hi:
        raise ConfigError(f"{YEAR_FROM_LABEL} ({lo}) is after {YEAR_TO_LABEL} ({hi})")
    unknown = [g for g in (genres or []) + (exclude_genres or []) if g not in CANONICAL_GENRES]
    if unknown:
        raise ConfigError(f"genre filter: unknown genre {unknown[0]!r}")
    filters = ItemFilter.make(genres=genres or (), exclude_genres=exclude_genres or (), year_min=lo, year_max=hi)
    return TurnPrefs(backend, (model or "").strip(), k_int, None if filters.is_empty else filters)


@dataclass
class SettingsPanel:
    backend: gr.Dropdown
    model: gr.Dropdown
    k: gr.Slider
    genres: gr.Dropdown
    exclude_genres: gr.Dropdown
    year_from: gr.Textbox
    year_to: gr.Textbox

    @property
    def inputs(self) -> list[gr.components.Component]:
        return [self.backend, self.model, self.k, self.genres, self.exclude_genres, self.year_from, self.year_to]


def model_update(services: Services, backend: str) -> dict[str, Any]:
    """The model dropdown for ``backend``: its configured model plus any already loaded."""
    choices = services.generators.model_choices(backend if backend != "auto" else "transformers")
    return gr.update(
        choices=choices,
        value=choices[0] if choices else None,
        interactive=backend in ("transformers", "openai"),
    )


def build_settings_panel(services: Services) -> SettingsPanel:
    """The collapsible settings panel (call inside a Blocks context)."""
    s = services.settings
    genres = sorted(set(CANONICAL_GENRES))
    with gr.Accordion("Settings: generator, number of recommendations, filters", open=False,
                      elem_id="wb-settings"):
        gr.Markdown("Changes apply from your next message, for this browser tab only.",
                    elem_classes=["wb-hint"])
        with gr.Row():
            backend = gr.Dropdown(
                [(BACKEND_LABELS[b], b) for b in GENERATOR_BACKENDS], value=s.generator,
                label="Generator", elem_id="wb-backend",
            )
            start_backend = s.generator if s.generator != "auto" else "transformers"
            models = services.generators.model_choices(start_backend)
            model = gr.Dropdown(
                models, value=models[0] if models else None, label="Model",
                allow_custom_value=services.generators.allow_custom_models,
                interactive=s.generator in ("transformers", "openai"), elem_id="wb-model",
                info="Hub id or local path" if services.generators.allow_custom_models else None,
            )
            k = gr.Slider(1, MAX_SLATE, value=min(s.k, MAX_SLATE), step=1, label="Recommendations",
                          elem_id="wb-k")
        with gr.Row():
            include = gr.Dropdown(genres, multiselect=True, label="Only these genres", elem_id="wb-genres")
            exclude = gr.Dropdown(genres, multiselect=True, label="Never these genres",
                                  elem_id="wb-exclude-genres")
            # Textboxes: empty means no limit (a gr.Number shows empty as 0 and then rejects it).
            year_from = gr.Textbox("", label=YEAR_FROM_LABEL, placeholder="any year", max_lines=1,
                                   max_length=4, elem_id="wb-year-from")
            year_to = gr.Textbox("", label=YEAR_TO_LABEL, placeholder="any year", max_lines=1,
                                 max_length=4, elem_id="wb-year-to")
    return SettingsPanel(backend, model, k, include, exclude, year_from, year_to)


def wire(services: Services, settings: SettingsPanel) -> None:
    """Offer the chosen backend's models in the model dropdown."""
    settings.backend.change(lambda b: model_update(services, b), settings.backend, settings.model,
                            queue=False, api_visibility="private")
