"""Setting cpu_threads: torch computes with the configured threads once the models are wired.

Guards the fix for issue 17: on a busy 2-core machine torch's default (one thread per CPU) made a
query encoding 5-13x and an LLM prefill 3-6x slower than one thread (bench/first_token.py).
"""

from __future__ import annotations

import pytest

from workbench.config import Settings
from workbench.device import set_cpu_threads

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_set_cpu_threads_sets_torch_and_ignores_zero(restore_threads):
    set_cpu_threads(1)
    assert torch.get_num_threads() == 1
    set_cpu_threads(0)  # "automatic" is resolved by Settings, never passed as 0 to torch
    assert torch.get_num_threads() == 1


def test_load_core_applies_the_setting_before_models_compute(restore_threads, tmp_path, monkeypatch):
    from workbench import services

    seen = []

    def fake_catalog(*args, **kwargs):
        seen.append(torch.get_num_threads())
        raise RuntimeError("stop here: only the thread count is under test")

    monkeypatch.setattr("workbench.catalog.load_catalog", fake_catalog)
    torch.set_num_threads(2)
    with pytest.raises(RuntimeError, match="stop here"):
        services.load_core(Settings(cpu_threads=1, cache_dir=str(tmp_path)))
    assert seen == [1]


def test_the_transformers_generator_sets_its_threads_at_load(restore_threads, tmp_path):
    pytest.importorskip("transformers")
    from tests.generator_fixtures import build_tiny_model
    from workbench.dialogue.generators import TransformersGenerator

    torch.set_num_threads(2)
    TransformersGenerator(str(build_tiny_model(tmp_path / "lm")), device="cpu", threads=1).load()
    assert torch.get_num_threads() == 1


# generator_dtype: bfloat16 where the CPU computes it natively, float32 where it would be emulated


def test_auto_dtype_follows_the_cpus_native_bfloat16(monkeypatch):
    from workbench import device

    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: True)
    assert device.resolve_dtype("auto", "cpu") is torch.bfloat16
    assert device.resolve_dtype("auto", "mps") is torch.float32
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)
    assert device.resolve_dtype("auto", "cpu") is torch.float32
    assert device.resolve_dtype("float16", "cpu") is torch.float16  # an explicit choice passes through


def test_the_transformers_generator_loads_and_streams_in_the_dtype_asked(tmp_path):
    pytest.importorskip("transformers")
    from tests.generator_fixtures import build_tiny_model
    from workbench.dialogue.generators import GenerationRequest, TransformersGenerator
    from workbench.dialogue.types import Turn

    path = str(build_tiny_model(tmp_path / "lm"))
    req = GenerationRequest(turns=(Turn("user", "hello there"),), recommendations=(), intent="chitchat")
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        gen = TransformersGenerator(path, device="cpu", dtype=name, max_new_tokens=8).load()
        assert gen.dtype == name
        assert {p.dtype for p in gen._model.parameters()} == {dtype}
        assert "".join(gen.stream(req)).strip()  # prefix cache and decoding work in that dtype


def test_a_dtype_torch_does_not_know_is_refused_by_the_settings_and_the_generator(tmp_path):
    pytest.importorskip("transformers")
    from tests.generator_fixtures import build_tiny_model
    from workbench.dialogue.generators import TransformersGenerator
    from workbench.errors import ConfigError, GenerationError

    with pytest.raises(ConfigError, match="generator_dtype.*float8"):
        Settings.from_env({"WORKBENCH_GENERATOR_DTYPE": "float8"})
    # the setting refuses it above; a direct caller of the generator learns at load
    with pytest.raises(GenerationError, match="float8"):
        TransformersGenerator(str(build_tiny_model(tmp_path / "lm")), device="cpu", dtype="float8").load()
