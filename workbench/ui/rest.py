"""The JSON API: plain HTTP routes under ``/api/v1`` beside the Gradio app, without its queue.

``POST /api/v1/chat`` with ``{"message", "session_id", "k"}`` returns exactly what the
``gradio_client`` endpoint ``/chat`` returns; ``/api/v1/feedback`` takes ``/feedback``'s arguments
as JSON fields; the project endpoints live under ``/api/v1/projects/{name}/...``. Each route
calls the same use case as its ``gradio_client`` endpoint (the ``*_api`` functions of
:mod:`workbench.ui.api`, :mod:`workbench.ui.projects_api`, :mod:`workbench.ui.arena_api`), with the
same session registry, owner, sign-in and checks, so a refusal reads the same on both paths. What
a Gradio call pays and these do not: the queue's join, its SSE stream and its event bookkeeping.

The routes are a table (:data:`ENDPOINTS`). A use case's parameters named in :data:`SUPPLIED`
come from the server (the services, the session registry, the caller's identity); every other
parameter is a JSON field of the body, or a path parameter (``{name}`` is the ``project``). So a
project endpoint added later is exposed by one row::

    Endpoint("/projects/{name}/next_review", next_review_api, "Claim the next review task"),

and appears in the OpenAPI schema (``/openapi.json``) with its fields. Errors a caller can fix
come back as HTTP 4xx with ``{"error": message}``: 400 for a :class:`~workbench.errors.WorkbenchError`
(its message, as ``gradio_client`` shows it) or a malformed body, 401 when sign-in is on and the
caller has not signed in, 503 ``busy`` when more turns wait than the queue holds.

This module parses, calls one use case and formats; it knows HTTP, not recommendations.
"""

from __future__ import annotations

import base64
import hmac
import inspect
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import WorkbenchError
from workbench.limits import MAX_SLATE_ITEMS
from workbench.services import Services
from workbench.ui.api import chat_api, client_owner, feedback_api, status_api
from workbench.ui.arena_api import arena_pair_api, arena_vote_api
from workbench.ui.projects_api import next_task_api, skip_task_api, submit_task_api
from workbench.ui.review_api import next_review_api, submit_review_api

API_PREFIX = "/api/v1"
#: Path parameters and the use-case parameter each one fills.
PATH_FIELDS = {"name": "project"}
#: Largest request body accepted (bytes): a message, a slate's judgements and a comment fit many times.
MAX_BODY_BYTES = 256 * 1024


@dataclass
class ApiBackends:
    """What the JSON API and the ``gradio_client`` endpoints share, built once by ``build_demo``."""

    services: Services
    registry: Any  # workbench.chat.session.SessionRegistry of API sessions (both paths continue each other's)
    arena: Any = None  # workbench.arena.service.ArenaService, or None


@dataclass(frozen=True)
class Endpoint:
    """One route: ``path`` (under :data:`API_PREFIX`) -> use case ``call`` -> its JSON."""

    path: str
    call: Callable[..., dict[str, Any]]
    summary: str
    method: str = "POST"
    #: Runs a conversational turn: shares the turn limit (``turn_concurrency``, ``max_queue``).
    turn: bool = False


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("/chat", chat_api, "One conversational turn (as gradio_client's /chat)", turn=True),
    Endpoint("/feedback", feedback_api, "Save one feedback record for a turn /chat returned (as /feedback)"),
    Endpoint("/status", status_api, "Catalogue size, index id, generator and start-up status", method="GET"),
    Endpoint("/projects/{name}/next_task", next_task_api, "Claim the next task of a project (as /next_task)"),
    Endpoint("/projects/{name}/submit_task", submit_task_api, "Submit judgements of a claimed task (as /submit_task)"),
    Endpoint("/projects/{name}/skip_task", skip_task_api, "Pass on a claimed task (as /skip_task)"),
    Endpoint("/projects/{name}/next_review", next_review_api, "Claim the next disputed task to review (as /next_review)"),
    Endpoint("/projects/{name}/submit_review", submit_review_api, "Set a task's final answer (as /submit_review)"),
    Endpoint("/arena/pair", arena_pair_api, "One message to two anonymous systems (as /arena_pair)", turn=True),
    Endpoint("/arena/vote", arena_vote_api, "Vote on a pair; reveals the systems (as /arena_vote)"),
)

#: Use-case parameters the server supplies (never read from the body).
SUPPLIED = ("services", "registry", "arena", "owner", "request", "profile", "behind_proxy")

#: JSON type and description of the body fields, by name (one place for every endpoint's fields).
FIELDS: dict[str, tuple[str, str]] = {
    "message": ("string", "What the user says."),
    "session_id": ("string", "The conversation to continue, as a previous chat returned it; empty starts one."),
    "k": ("integer", f"Number of recommendations, 1-{MAX_SLATE_ITEMS} (0: the server's default)."),
    "turn": ("integer", "The turn number chat returned."),
    "annotator": ("string", "Who judges (a name); with sign-in on, the signed-in user (leave it empty)."),
    "judgements": ("object", 'item_id -> {"label": "like" | "dislike" | "not_seen", "rating": 1-5}.'),
    "reply_label": ("string", '"like", "dislike" or empty.'),
    "comment": ("string", "Optional free text."),
    "idempotency_key": ("string", "Optional; a retry with the same key saves nothing new."),
    "project": ("string", "The project name (`python -m workbench project list`)."),
    "task_id": ("string", "The task_id next_task returned."),
    "reason": ("string", "Optional: why the task is skipped."),
    "pair_session_id": ("string", "The arena conversation to continue; empty starts one with a new pair."),
    "pair_id": ("string", "The pair_id arena/pair returned."),
    "vote": ("string", '"a", "b", "tie" or "both_bad".'),
    "reviewer": ("string", "One of the project's reviewers; with sign-in on, the signed-in user (leave it empty)."),
    "note": ("string", "Optional: why this is the final answer."),
}


class ApiRefusal(Exception):
    """A request refused before any use case ran: its HTTP status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Caller:
    """Who is calling, shaped like the ``gr.Request`` the use cases read (``username``, ``client``, ``headers``)."""

    username: str | None
    client: Any
    headers: Mapping[str, str]


# ---------------------------------------------------------------------------
# the table -> arguments


def client_fields(call: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters of ``call`` that a client sends (all but :data:`SUPPLIED`), in order."""
    return [p for p in inspect.signature(call).parameters.values() if p.name not in SUPPLIED
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def path_fields(path: str) -> dict[str, str]:
    """``{path parameter: use-case parameter}`` for the ``{...}`` parts of ``path``."""
    return {name: PATH_FIELDS.get(name, name) for name in re.findall(r"{(\w+)}", path)}


def arguments(endpoint: Endpoint, body: Mapping[str, Any], path_params: Mapping[str, str],
              supplied: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments for ``endpoint.call``: the body's fields, the path's, and ``supplied``.

    Raises:
        ApiRefusal: 400 for a field the endpoint does not take or a required one missing.
    """
    fields = client_fields(endpoint.call)
    from_path = {path_fields(endpoint.path)[k]: v for k, v in path_params.items()}
    names = [p.name for p in fields if p.name not in from_path]
    unknown = sorted(set(body) - set(names))
    if unknown:
        raise ApiRefusal(400, f"{unknown[0]}: not a field of {API_PREFIX}{endpoint.path} "
                              f"(its fields: {', '.join(names) or 'none'})")
    kwargs = {**body, **from_path}
    missing = [p.name for p in fields if p.default is p.empty and p.name not in kwargs]
    if missing:
        raise ApiRefusal(400, f"{missing[0]}: required (the fields of {API_PREFIX}{endpoint.path}: {', '.join(names)})")
    params = inspect.signature(endpoint.call).parameters
    kwargs.update({k: v for k, v in supplied.items() if k in params})
    return kwargs


# ---------------------------------------------------------------------------
# sign-in, as Gradio's own routes check it


async def signed_in(request: Any) -> tuple[str | None, bool]:
    """The user signed in to this server and whether sign-in is on.

    Gradio's login cookie (``POST /login``, as the browser and ``gradio_client`` sign in) or HTTP
    Basic credentials, checked by the same auth function (so the same failed-login limits apply).
    """
    app = request.app
    dependency = getattr(app, "auth_dependency", None)
    auth = getattr(app, "auth", None)
    if dependency is not None:
        user = dependency(request)
        return (await user if inspect.isawaitable(user) else user), True
    if auth is None:
        return None, False
    cookie_id = getattr(app, "cookie_id", "")
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(f"access-token-unsecure-{cookie_id}")
    user = getattr(app, "tokens", {}).get(token)
    if user:
        return user, True
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            name, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise ApiRefusal(401, "Authorization: malformed Basic credentials") from None
        if callable(auth):
            ok = auth(name, password)
            ok = await ok if inspect.isawaitable(ok) else ok
        else:
            ok = name in auth and hmac.compare_digest(str(auth[name]), password)
        if ok:
            return name, True
    return None, True


def oauth_profile(request: Any) -> Any:
    """The Hugging Face profile of a caller signed in with OAuth (on a Space), else ``None``."""
    if "session" not in request.scope:
        return None
    info = request.session.get("oauth_info") or {}
    return info.get("userinfo")


# ---------------------------------------------------------------------------
# running: turns share a limit, the rest run on the thread pool


@dataclass
class TurnGate:
    """At most ``running`` turns at once and ``waiting`` more queued; past that, 503 busy."""

    running: int
    waiting: int
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _limiter: Any = None

    async def run(self, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        import anyio.to_thread

        with self._lock:
            if self._in_flight >= self.running + self.waiting:
                raise ApiRefusal(503, f"the server is busy ({self._in_flight} turns running or waiting); "
                                      "try again in a few seconds")
            self._in_flight += 1
            if self._limiter is None:  # made inside the event loop that uses it
                self._limiter = anyio.CapacityLimiter(self.running)
        try:
            return await anyio.to_thread.run_sync(fn, limiter=self._limiter)
        finally:
            with self._lock:
                self._in_flight -= 1


def error_response(status: int, message: str) -> Any:
    from starlette.responses import JSONResponse

    headers = {"Retry-After": "2"} if status == 503 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_body(request: Any) -> dict[str, Any]:
    """The request's JSON object (``{}`` when the body is empty)."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiRefusal(413, f"the body has {len(raw):,} bytes; the limit is {MAX_BODY_BYTES:,}")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiRefusal(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiRefusal(400, f"the body must be a JSON object of fields, got {type(body).__name__}")
    return body


def make_handler(endpoint: Endpoint, backends: ApiBackends, gate: TurnGate) -> Callable[..., Any]:
    """The ASGI handler of ``endpoint``: parse, sign-in, one use case, JSON (or ``{"error"}``)."""
    import anyio.to_thread
    from starlette.responses import JSONResponse

    services = backends.services
    behind_proxy = services.settings.on_space

    async def handle(request: Any) -> Any:
        try:
            body = await read_body(request) if endpoint.method != "GET" else {}
            user, required = await signed_in(request)
            if required and not user:
                raise ApiRefusal(401, "Not authenticated: sign in first (POST /login, or HTTP Basic credentials)")
            caller = Caller(user, request.client, request.headers)
            profile = oauth_profile(request)
            supplied = {"services": services, "registry": backends.registry, "arena": backends.arena,
                        "request": caller, "profile": profile, "behind_proxy": behind_proxy,
                        "owner": client_owner(caller, profile, behind_proxy=behind_proxy)}
            kwargs = arguments(endpoint, body, request.path_params, supplied)

            def call() -> dict[str, Any]:
                return endpoint.call(**kwargs)

            out = await (gate.run(call) if endpoint.turn else anyio.to_thread.run_sync(call))
        except ApiRefusal as exc:
            return error_response(exc.status, str(exc))
        except WorkbenchError as exc:  # the one place this boundary turns our errors into responses
            return error_response(400, str(exc))
        return JSONResponse(out)

    handle.__name__ = endpoint.call.__name__
    return handle


# ---------------------------------------------------------------------------
# routes and schema


def request_schema(endpoint: Endpoint) -> dict[str, Any]:
    """The JSON schema of ``endpoint``'s body, from its use case's parameters and :data:`FIELDS`."""
    from_path = set(path_fields(endpoint.path).values())
    props: dict[str, Any] = {}
    required = []
    for p in client_fields(endpoint.call):
        if p.name in from_path:
            continue
        kind, help_text = FIELDS.get(p.name, ("", ""))
        prop: dict[str, Any] = {"description": help_text} if help_text else {}
        if kind:
            prop["type"] = kind
        if p.default is p.empty:
            required.append(p.name)
        elif p.default is not None:
            prop["default"] = p.default
        props[p.name] = prop
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def openapi_schema(endpoints: tuple[Endpoint, ...] = ENDPOINTS, version: str = "") -> dict[str, Any]:
    """The OpenAPI 3 document of the JSON API."""
    error = {"description": "A refusal the caller can fix",
             "content": {"application/json": {"schema": {"type": "object", "required": ["error"],
                                                           "properties": {"error": {"type": "string"}}}}}}
    paths: dict[str, Any] = {}
    for ep in endpoints:
        op: dict[str, Any] = {
            "summary": ep.summary,
            "description": inspect.getdoc(ep.call) or "",
            "operationId": ep.call.__name__,
            "responses": {"200": {"description": "The use case's JSON",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": error, "401": error, **({"503": error} if ep.turn else {})},
        }
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"},
                   "description": FIELDS.get(field_name, ("", ""))[1]}
                  for name, field_name in path_fields(ep.path).items()]
        if params:
            op["parameters"] = params
        if ep.method != "GET":
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": request_schema(ep)}}}
        paths.setdefault(API_PREFIX + ep.path, {})[ep.method.lower()] = op
    return {"openapi": "3.1.0",
            "info": {"title": "Chat-Rec Workbench JSON API", "version": version or "1",
                     "description": "Plain JSON routes beside the Gradio app; see docs/api.md."},
            "paths": paths}


def rest_routes(backends: ApiBackends, endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> list[Any]:
    """Starlette routes for ``endpoints`` plus the schema at ``/openapi.json`` (and under the prefix)."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    s = backends.services.settings
    gate = TurnGate(running=s.resolved_turn_concurrency, waiting=s.max_queue)
    routes = [Route(API_PREFIX + ep.path, make_handler(ep, backends, gate), methods=[ep.method])
              for ep in endpoints]
    schema = openapi_schema(endpoints, backends.services.app_version)

    async def openapi(request: Any) -> Any:
        return JSONResponse(schema)

    routes += [Route("/openapi.json", openapi, methods=["GET"]),
               Route(API_PREFIX + "/openapi.json", openapi, methods=["GET"])]
    return routes
