"""Continuous batching (``workbench.dialogue.generators.batching``) on a tiny random model built here.

Guards what issue 27 asked of batched serving: concurrent replies share forward passes yet each
streams its own text and stops at its own token limit; a cancelled reply leaves the batch; a slow
model cannot make a reply miss its deadline.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.generator_fixtures import build_tiny_model  # noqa: E402
from workbench.dialogue.generators.batching import ContinuousBatcher  # noqa: E402

PROMPTS = ["You might enjoy Heat (1995), a tense crime film.", "Hi! What kind of movie"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = build_tiny_model(tmp_path_factory.mktemp("batching-lm"))
    return AutoModelForCausalLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


@pytest.fixture
def batcher(tiny: tuple[Any, Any]) -> Any:
    model, tokenizer = tiny
    b = ContinuousBatcher(model, tokenizer, max_new_tokens=16, max_requests=4).start()
    yield b
    b.close()
    model.__dict__.pop("forward", None)  # undo a test's counting or slow forward


def _count_forwards(model: Any) -> list[int]:
    calls = [0]
    forward = model.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return forward(*args, **kwargs)

    model.forward = counting
    return calls


def _reference(model: Any, tokenizer: Any, prompt: str, limit: int) -> str:
    import torch

    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        out = model.generate(ids, max_new_tokens=limit, do_sample=False, eos_token_id=tokenizer.eos_token_id,
                             pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)


def test_concurrent_requests_share_forward_passes_and_keep_their_own_limits(tiny, batcher) -> None:
    """Two replies started together run in one batch (fewer forward passes than their tokens) and each
    streams exactly what greedy ``generate`` writes for its own prompt and its own token limit."""
    model, tokenizer = tiny
    limits = [5, 11]
    expected = [_reference(model, tokenizer, p, n) for p, n in zip(PROMPTS, limits, strict=True)]
    calls = _count_forwards(model)
    results: list[list[str]] = [[], []]

    def consume(i: int) -> None:
        ids = tokenizer(PROMPTS[i])["input_ids"]
        results[i] = list(batcher.stream(ids, max_new_tokens=limits[i], timeout_s=30))

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(2)]
    with batcher._manager.pause():  # both requests are queued before the first step runs
        for t in threads:
            t.start()
        _wait_for(lambda: batcher.active == 2)
    for t in threads:
        t.join(timeout=60)
    assert ["".join(r) for r in results] == expected
    assert all(results), "each request streams its own pieces"
    assert batcher.generated_tokens <= sum(limits)
    # one forward pass per token each, were they run apart; in a batch they share passes
    assert calls[0] < batcher.generated_tokens


def test_a_cancelled_request_leaves_the_batch(tiny, batcher) -> None:
    """Closing a reply's stream early (its reader left) cancels it: the manager drops it at the next
    step, and the model stops computing for it."""
    model, tokenizer = tiny
    _slow_forward(model, 0.05)
    stream = batcher.stream(tokenizer(PROMPTS[0])["input_ids"], max_new_tokens=16, timeout_s=30)
    next(stream)
    stream.close()
    assert batcher.active == 0
    scheduler = batcher._manager.batch_processor.scheduler
    _wait_for(lambda: not scheduler.active_requests and not scheduler.waiting_requests)
    assert batcher.generated_tokens < 16


def test_a_slow_model_cannot_make_a_request_miss_its_deadline(tiny, batcher) -> None:
    """No token within ``timeout_s`` ends the stream with ``queue.Empty`` (the generator turns it into a
    GenerationError naming the setting) on time, and the request is cancelled."""
    model, tokenizer = tiny
    _slow_forward(model, 1.0)
    t0 = time.perf_counter()
    with pytest.raises(queue.Empty):
        list(batcher.stream(tokenizer(PROMPTS[0])["input_ids"], max_new_tokens=16, timeout_s=0.3))
    assert time.perf_counter() - t0 < 0.3 + 1.5
    assert batcher.active == 0


def test_a_request_longer_than_the_batcher_allows_is_refused(batcher) -> None:
    from workbench.errors import GenerationError

    with pytest.raises(GenerationError, match="exceeds"):
        next(batcher.stream([1, 2, 3], max_new_tokens=17, timeout_s=1))


def _slow_forward(model: Any, seconds: float) -> None:
    forward = model.forward

    def sluggish(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return forward(*args, **kwargs)

    model.forward = sluggish


def _wait_for(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
