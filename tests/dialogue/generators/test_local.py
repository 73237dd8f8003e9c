"""The decode-thread stream the in-process backends share (workbench/dialogue/generators/local.py):
the llama.cpp and OpenVINO backends run through it, but their packages are absent in CI, so it is
checked here with plain worker functions."""

from __future__ import annotations

import threading

import pytest

from workbench.dialogue.generators.local import threaded_reply
from workbench.errors import GenerationError


def test_pieces_follow_the_prefix_and_stop_at_the_sentence_cap():
    stopped = threading.Event()

    def run(emit, stop):
        for piece in ["Heat is tense.", " Collateral too.", " Alien is scary.", " More."]:
            if stop.wait(0.01):
                break
            emit(piece)
        stopped.set()

    reply = "".join(threaded_reply(run, "You might enjoy", name="fake", timeout_s=5, max_sentences=2,
                                   thread_name="test-decode"))
    assert reply == "You might enjoyHeat is tense. Collateral too."
    assert stopped.wait(2)  # the worker saw stop and ended instead of decoding on


def test_a_worker_error_reaches_the_consumer_named():
    def run(emit, stop):
        emit("Heat ")
        raise RuntimeError("model crashed")

    with pytest.raises(GenerationError, match="fake: generation failed: model crashed"):
        list(threaded_reply(run, "", name="fake", timeout_s=5, max_sentences=0, thread_name="test-decode"))


def test_a_silent_worker_is_a_timeout_naming_the_setting():
    def run(emit, stop):
        stop.wait(5)

    with pytest.raises(GenerationError, match="no text within 0.2s \\(setting generator_timeout_s\\)"):
        list(threaded_reply(run, "", name="fake", timeout_s=0.2, max_sentences=0, thread_name="test-decode"))
