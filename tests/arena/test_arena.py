"""The arena's core: systems and their files, blind and balanced pairing, votes in the store,
Bradley-Terry on synthetic votes, the CLI, and arena preferences in the DPO export.

Template generators and the tiny catalogue throughout (fast); real store, real scipy.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter

import numpy as np
import pytest
from arena_support import arena, arena_services, strings_of
from scipy.stats import binomtest, chisquare

from workbench.arena.leaderboard import fit_strengths, leaderboard, leaderboard_json
from workbench.arena.systems import (
    all_systems,
    arena_system_names,
    builtin_systems,
    load_systems_file,
    resolve_systems,
)
from workbench.arena.votes import Vote, read_votes
from workbench.chat.turns import check_message as turns_check_message
from workbench.config import Settings
from workbench.errors import ArenaError, ConfigError, DialogueError, WorkbenchError
from workbench.feedback.export import dpo_rows
from workbench.limits import MAX_MESSAGE_CHARS
from workbench.text import check_message

# ---------------------------------------------------------------------------
# systems


def test_builtin_presets_and_hashed_ids(tmp_path):
    """default/baseline/no-llm exist; ids are name@hash and the hash follows the configuration."""
    s = Settings(index_dir=str(tmp_path))
    systems = resolve_systems(s, index_ids={str(tmp_path): "idx@1"})
    assert {"default", "baseline", "no-llm"} <= set(systems)
    base = systems["baseline"]
    assert base.config["generator"] == "template" and base.config["sources"] == []
    assert base.config["weights"]["prior"] == 1.0 and base.config["weights"]["dense"] == 0.0
    assert systems["no-llm"].config["sources"] == ["recommender", "retriever"]
    ids = {r.system_id for r in systems.values()}
    assert len(ids) == 3 and all(i.startswith(f"{n}@") for n, i in zip(systems, [r.system_id for r in
                                                                                 systems.values()], strict=True))
    # another k, another index, another model: another hash; the same settings: the same hash
    assert resolve_systems(s, index_ids={str(tmp_path): "idx@1"})["default"].config_hash == \
        systems["default"].config_hash
    assert resolve_systems(Settings(index_dir=str(tmp_path), k=7),
                           index_ids={str(tmp_path): "idx@1"})["default"].config_hash != systems["default"].config_hash
    assert resolve_systems(s, index_ids={str(tmp_path): "idx@2"})["default"].config_hash != \
        systems["default"].config_hash


def test_systems_file_toml_and_json(tmp_path):
    toml = tmp_path / "systems.toml"
    toml.write_text('[systems.tuned]\nbase = "no-llm"\ngenerator = "transformers"\nmodel = "runs/dpo"\nk = 3\n'
                    '[systems.tuned.weights]\ndense = 0.9\nhard_constraints = false\n', encoding="utf-8")
    got = load_systems_file(toml)["tuned"]
    assert (got.generator, got.model, got.k, got.sources) == ("transformers", "runs/dpo", 3, ("retriever",
                                                                                              "recommender"))
    assert got.weights == {"dense": 0.9, "hard_constraints": False}
    js = tmp_path / "systems.json"
    js.write_text(json.dumps({"systems": {"pop5": {"base": "baseline", "k": 5}}}), encoding="utf-8")
    s = Settings(systems_file=str(js), arena_systems="default,pop5")
    assert arena_system_names(s) == ["default", "pop5"]
    assert all_systems(s)["pop5"].generator == "template"


@pytest.mark.parametrize("body, message", [
    ('[systems.x]\nmodle = "a"\n', "system 'x': unknown field 'modle'"),
    ('[systems.x]\nk = 0\n', "system 'x': field 'k' must be an integer 1-50"),
    ('[systems.x]\ngenerator = "gpt"\n', "system 'x': field 'generator' must be one of"),
    ('[systems.x]\nsources = ["cf"]\n', "system 'x': field 'sources' must be a list of"),
    ('[systems.x.weights]\ndense = "high"\n', "system 'x': field 'weights.dense' must be a non-negative number"),
    ('[systems.x.weights]\ndensity = 1\n', "system 'x': field 'weights.density': unknown weight"),
    ('[systems.default]\nk = 3\n', "system 'default': 'default' is built in"),
    ('[systems.x]\nbase = "nope"\n', "system 'x': field 'base': no system 'nope'"),
    ('systems = 3\n', "expected one table 'systems'"),
    ('[systems.x\n', "not valid TOML"),
])
def test_systems_file_errors_name_file_system_and_field(tmp_path, body, message):
    path = tmp_path / "s.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_systems_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_arena_systems_setting_is_checked():
    with pytest.raises(ConfigError, match="WORKBENCH_ARENA_SYSTEMS.*no system 'nope'"):
        arena_system_names(Settings(arena_systems="default,nope"))
    with pytest.raises(ConfigError, match="at least two"):
        arena_system_names(Settings(arena_systems="default"))
    assert arena_system_names(Settings()) == ["default", "baseline"]
    assert Settings.from_env({"WORKBENCH_ARENA_SYSTEMS": "no-llm,baseline"}).arena_systems == "no-llm,baseline"


# ---------------------------------------------------------------------------
# pairing, blindness, votes


@pytest.fixture
def three(tiny_catalog, tmp_path):
    services = arena_services(tiny_catalog, tmp_path / "fb", arena_systems="default,baseline,no-llm")
    return services, arena(services, seed=3)


@pytest.mark.parametrize("message", ["x" * (MAX_MESSAGE_CHARS + 1), "   ", None])
def test_engine_chat_and_arena_refuse_a_message_alike(three, message):
    """One rule, one place (issue 29): the engine, the Chat tab/API and the arena refused a bad message
    with three wordings; now each says exactly what :func:`workbench.text.check_message` says."""
    services, a = three
    with pytest.raises(WorkbenchError) as expected:
        check_message(message)
    with pytest.raises(DialogueError) as from_engine:
        services.engine.respond(services.engine.new_state("s"), message)
    with pytest.raises(WorkbenchError) as from_chat:
        turns_check_message(message)
    with pytest.raises(WorkbenchError) as from_arena:
        list(a.stream_pair(a.conversation(), message))
    assert str(from_engine.value) == str(from_chat.value) == str(from_arena.value) == str(expected.value)


def test_pair_payload_is_blind(three):
    """Guards blindness: no system name, id or hash anywhere in the pair JSON, items without scores."""
    _services, a = three
    out = a.pair("I loved Toy Story, something funny?")
    assert set(out) == {"pair_session_id", "pair_id", "a", "b"}
    assert out["a"]["items"] and out["b"]["items"]
    for side in ("a", "b"):
        assert set(out[side]) == {"reply", "items"}
        for item in out[side]["items"]:
            assert not {"score", "sources"} & set(item)
    text = " ".join(strings_of(out)).lower()
    for system in a.systems.values():
        for secret in (system.system_id, system.config_hash, f"{system.name}@"):
            assert secret.lower() not in text
    assert "baseline" not in text and "no-llm" not in text


def test_sides_are_randomised_chi_square(tiny_catalog, tmp_path):
    """Over many draws each system is shown on the left about half the time (chi-square, p > 0.001)."""
    services = arena_services(tiny_catalog, tmp_path / "fb")
    a = arena(services, seed=11)
    left = Counter(a.draw()[0].name for _ in range(400))
    assert set(left) == {"default", "baseline"}
    assert chisquare([left["default"], left["baseline"]]).pvalue > 0.001


def test_pairs_are_balanced_least_voted_first(three):
    """Each new conversation takes a least-voted pair: three systems, 30 voted pairs -> 10 each; and
    conversations still awaiting their vote count, so ones opened at the same time spread over the pairs."""
    services, a = three
    seen = Counter()
    for i in range(30):
        conv = a.conversation("")
        pair = frozenset(s.system.name for s in conv.sides.values())
        seen[pair] += 1
        *_, turn = a.stream_pair(conv, "a comedy please")
        a.vote(turn.pair_id, f"ann{i % 4}", random.Random(i).choice(["a", "b", "tie", "both_bad"]))
    assert sorted(seen.values()) == [10, 10, 10]
    counts = Counter(frozenset((v.a.split("@")[0], v.b.split("@")[0])) for v in a.votes())
    assert counts == seen  # every vote was stored, against the pair that was shown
    opened = Counter(frozenset(s.system.name for s in a.conversation("").sides.values()) for _ in range(3))
    assert sorted(opened.values()) == [1, 1, 1]


def test_vote_records_hold_both_sides_and_a_second_vote_writes_nothing(three):
    services, a = three
    out = a.pair("I loved Toy Story")
    item = out["b"]["items"][0]["item_id"]
    saved = a.vote(out["pair_id"], "alice", "b", "B understood me", {"b": {item: {"label": "like"}}})
    assert saved["saved"] is True and {saved["a_system"], saved["b_system"]} <= set(a.systems)
    records = [r for r in services.store.read().records if r.arena_pair == out["pair_id"]]
    assert sorted(r.arena_side for r in records) == ["a", "b"]
    by_side = {r.arena_side: r for r in records}
    assert by_side["a"].reply == out["a"]["reply"] and by_side["b"].reply == out["b"]["reply"]
    assert [j.item_id for j in by_side["a"].slate] == [i["item_id"] for i in out["a"]["items"]]
    assert all(r.arena_vote == "b" and r.comment == "B understood me" for r in records)
    assert by_side["a"].system_id.startswith(saved["a_system"] + "@")
    assert by_side["b"].system_hash == by_side["b"].system_id.split("@")[1]
    assert json.loads(by_side["b"].system_config)["k"] == services.settings.k
    assert [j.label for j in by_side["b"].slate if j.item_id == item] == ["like"]
    assert saved["record_id"] in {r.record_id for r in records}
    before = len(services.store.read().records)
    with pytest.raises(ArenaError, match="already voted"):
        a.vote(out["pair_id"], "alice", "a")
    assert len(services.store.read().records) == before
    a.vote(out["pair_id"], "bob", "tie")  # another annotator may vote on the same pair
    assert len(read_votes(services.store.read().records)) == 2
    # a fresh service over the same store (a restarted server) still refuses alice's second vote
    assert len(services.store.read().records) == before + 2


@pytest.mark.parametrize("vote, pair_id, message", [
    ("maybe", None, "vote: must be one of a, b, tie, both_bad"),
    ("a", "nope", "pair_id: no pair 'nope'"),
])
def test_bad_votes_write_nothing(three, vote, pair_id, message):
    services, a = three
    out = a.pair("Heat")
    with pytest.raises(ArenaError, match=message):
        a.vote(pair_id or out["pair_id"], "alice", vote)
    assert services.store.read().records == ()


def test_multi_turn_keeps_each_sides_own_state(three):
    """Each side continues its own conversation: its own replies in its history, the same user turns."""
    _services, a = three
    conv = a.conversation("")
    for message in ("I loved Toy Story", "something darker now"):
        *_, turn = a.stream_pair(conv, message)
    sa, sb = conv.sides["a"].state, conv.sides["b"].state
    assert [t.text for t in sa.turns if t.role == "user"] == [t.text for t in sb.turns if t.role == "user"] == [
        "I loved Toy Story", "something darker now"]
    assert [t.text for t in sa.turns if t.role == "assistant"] == [t.text["a"] for t in conv.turns]
    assert [t.text for t in sb.turns if t.role == "assistant"] == [t.text["b"] for t in conv.turns]
    assert len(conv.turns) == 2 and a.pair("more", conv.pair_session_id)["pair_session_id"] == conv.pair_session_id
    with pytest.raises(ArenaError, match="no arena conversation"):
        a.conversation(conv.pair_session_id, owner="ip:10.0.0.9")  # another client's conversation


def test_a_side_whose_model_fails_midway_shows_only_the_replacement(three, monkeypatch):
    """Issue 29: the arena streamed a side's half-written LLM text with the fallback appended under
    it (only the Chat tab cut it); both consume the engine's typed ReplyRestart now."""
    from workbench.dialogue.generators.fallback import FALLBACK_NOTICE_MIDWAY, FallbackGenerator
    from workbench.services import GeneratorChoice

    class HalfWritten:
        name = "fake:half-written"

        def stream(self, request):
            yield f"{request.recommendations[0].item.display_title} is a great pick for you. It "
            raise ConnectionError("the model stopped")

        def generate(self, request):
            return "".join(self.stream(request))

    _services, a = three
    llm = FallbackGenerator(HalfWritten())
    monkeypatch.setattr(a.engines, "generator", lambda system: GeneratorChoice(llm, llm.name, True))
    conv = a.conversation("")
    steps = [(dict(t.text), t.complete) for t in a.stream_pair(conv, "I loved Heat")]
    for side in ("a", "b"):
        shown = [text[side] for text, _ in steps]
        assert any("great pick" in s for s in shown)  # streamed first ...
        first = next(i for i, s in enumerate(shown) if FALLBACK_NOTICE_MIDWAY in s)
        assert all("great pick" not in s for s in shown[first:])  # ... then replaced, not extended
        assert shown[-1].startswith(FALLBACK_NOTICE_MIDWAY)
    turn = conv.turns[-1]
    assert all(turn.shown[side].reply.startswith(FALLBACK_NOTICE_MIDWAY) for side in ("a", "b"))


def test_arena_conversations_live_in_the_session_registry_with_its_lifetime(three):
    """Issue 29: the arena kept its own bounded dict with no lifetime; its conversations now expire
    after SESSION_TTL_S like chat sessions (the registry owns lifetimes and bounds)."""
    from workbench.chat.session import SESSION_TTL_S

    _services, a = three
    conv = a.conversation("", owner="ip:10.0.0.1")
    assert a.conversation(conv.pair_session_id, owner="ip:10.0.0.1") is conv
    conv.last_used -= SESSION_TTL_S + 1
    with pytest.raises(ArenaError, match="no arena conversation"):
        a.conversation(conv.pair_session_id, owner="ip:10.0.0.1")


# ---------------------------------------------------------------------------
# Bradley-Terry


def _synthetic(strengths: dict[str, float], n: int, rng: np.random.Generator, tie_rate: float = 0.0,
               both_bad_rate: float = 0.0) -> list[Vote]:
    names = list(strengths)
    votes = []
    for k in range(n):
        x, y = rng.choice(len(names), 2, replace=False)
        a, b = names[x], names[y]
        u = rng.random()
        if u < both_bad_rate:
            vote = "both_bad"
        elif u < both_bad_rate + tie_rate:
            vote = "tie"
        else:
            p = 1.0 / (1.0 + np.exp(strengths[b] - strengths[a]))
            vote = "a" if rng.random() < p else "b"
        votes.append(Vote(f"p{k}", "ann", a, b, vote))
    return votes


def test_bradley_terry_recovers_the_order_of_known_strengths():
    truth = {"s1@a": 1.2, "s2@b": 0.4, "s3@c": -0.3, "s4@d": -1.3}
    votes = _synthetic(truth, 1500, np.random.default_rng(5), tie_rate=0.1, both_bad_rate=0.1)
    rows = leaderboard(votes, reps=20)
    assert [f"{r.system}@{r.config_hash}" for r in rows] == list(truth)
    assert all(r.ci_low <= r.strength <= r.ci_high for r in rows)
    assert sum(r.both_bad for r in rows) == 2 * sum(v.vote == "both_bad" for v in votes)
    assert sum(r.wins for r in rows) == sum(r.losses for r in rows) == sum(v.vote in "ab" for v in votes)


def test_ties_count_half_and_both_bad_stays_out():
    """Guards the outcome weights: 10 ties alone fit equal strengths; both-bad votes change nothing."""
    i = np.array([0, 1]), np.array([1, 0])
    tied = fit_strengths(2, *i, np.array([5.0, 5.0]))
    assert abs(tied[0] - tied[1]) < 1e-6
    wins = [Vote(f"w{k}", "x", "a@1", "b@2", "a") for k in range(6)] + [Vote("l", "x", "a@1", "b@2", "b")]
    bad = [Vote(f"bb{k}", "x", "a@1", "b@2", "both_bad") for k in range(50)]
    s1 = {r.system: r.strength for r in leaderboard(wins, reps=0)}
    s2 = {r.system: r.strength for r in leaderboard(wins + bad, reps=0)}
    assert s1 == s2 and s1["a"] > s1["b"]
    # on the log-odds scale: 6 wins of 7 -> about log(6) apart (a little less, for the weak prior)
    assert 1.5 < s1["a"] - s1["b"] < np.log(6) + 1e-9


def test_bootstrap_intervals_cover_the_truth_at_about_the_nominal_rate():
    """Over 30 synthetic leaderboards x 3 systems the 95% intervals hold the true (centred) strength
    about 95% of the time: a binomial test against 0.95 does not reject (p > 0.001)."""
    truth = np.array([0.8, 0.0, -0.8])
    names = ["x@1", "y@2", "z@3"]
    covered = total = 0
    for seed in range(30):
        votes = _synthetic(dict(zip(names, truth, strict=True)), 150, np.random.default_rng(100 + seed))
        rows = {f"{r.system}@{r.config_hash}": r for r in leaderboard(votes, reps=40, seed=seed)}
        for name, t in zip(names, truth - truth.mean(), strict=True):
            covered += rows[name].ci_low <= t <= rows[name].ci_high
            total += 1
    assert binomtest(covered, total, 0.95).pvalue > 0.001, f"{covered}/{total} covered"


def test_leaderboard_json_shape():
    votes = [Vote("p1", "ann", "default@abc", "baseline@def", "a"), Vote("p2", "ann", "default@abc",
                                                                         "baseline@def", "both_bad")]
    out = leaderboard_json(votes, reps=10)
    assert set(out) == {"votes", "voided", "systems", "style_control"} and out["votes"] == 2
    assert [set(r) for r in out["systems"]] == [{"system", "config_hash", "rank", "strength", "ci_low", "ci_high",
                                                 "wins", "losses", "ties", "both_bad"}] * 2
    assert set(out["style_control"]) == {"length_coef", "systems"}
    assert [set(r) for r in out["style_control"]["systems"]] == [{"system", "config_hash", "rank", "strength",
                                                                  "ci_low", "ci_high"}] * 2
    top = out["systems"][0]
    assert (top["system"], top["config_hash"], top["wins"], top["both_bad"]) == ("default", "abc", 1, 1)


# ---------------------------------------------------------------------------
# the CLI and the DPO export


def test_cli_leaderboard_and_systems_list(three, capsys, monkeypatch):
    from workbench.cli import main

    services, a = three
    for i in range(6):
        out = a.pair("I loved Toy Story")
        a.vote(out["pair_id"], "alice" if i % 2 else "bob", "a")
    monkeypatch.delenv("WORKBENCH_FEEDBACK_DIR", raising=False)
    assert main(["arena", "leaderboard", "--dir", str(services.store.data_dir), "--json", "--reps", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["votes"] == 6 and sum(r["wins"] for r in out["systems"]) == 6
    assert {r["system"] for r in out["systems"]} <= {"default", "baseline", "no-llm"}
    assert main(["arena", "leaderboard", "--dir", str(services.store.data_dir), "--reps", "5"]) == 0
    text = capsys.readouterr().out
    assert "6 arena votes" in text and "alice (3 votes)" in text and "bob (3 votes)" in text
    assert main(["systems", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["system"] for r in rows} == set(builtin_systems())
    assert all(r["system_id"] == f"{r['system']}@{r['config_hash']}" for r in rows)
    assert main(["systems", "list"]) == 0
    assert "* default@" in capsys.readouterr().out


def test_dpo_export_gains_arena_preferences(tiny_catalog, tmp_path):
    """The winner's reply is chosen, the loser's rejected, the shared conversation the prompt; ties and
    both-bad votes add nothing."""
    services = arena_services(tiny_catalog, tmp_path / "fb")  # default vs baseline: different slates
    a = arena(services, seed=1)
    out = a.pair("I loved Toy Story")
    assert out["a"]["reply"] != out["b"]["reply"]
    a.vote(out["pair_id"], "alice", "b")
    for vote in ("tie", "both_bad"):
        other = a.pair("Heat please")
        a.vote(other["pair_id"], "alice", vote)
    rows = dpo_rows(services.store.read().records, "replies")
    assert rows == [{"prompt": [{"role": "user", "content": "I loved Toy Story"}],
                     "chosen": [{"role": "assistant", "content": out["b"]["reply"]}],
                     "rejected": [{"role": "assistant", "content": out["a"]["reply"]}]}]


def test_old_records_read_with_empty_arena_fields():
    from workbench.feedback.record import FeedbackRecord

    d = {"record_id": "00000000-0000-4000-8000-000000000000", "created_at": "2026-01-01T00:00:00.000000+00:00",
         "annotator": "a", "session_id": "s", "turn_index": 0, "user_message": "hi", "reply": "hello",
         "generator_backend": "template", "comment": "x", "schema_version": 2}
    r = FeedbackRecord.from_dict(d)
    assert (r.system_id, r.arena_pair, r.arena_vote) == ("", "", "")


def test_every_pair_of_three_systems_is_drawn(three):
    _services, a = three
    drawn = {frozenset((x.name, y.name)) for x, y in (a.draw() for _ in range(60))}
    assert drawn == {frozenset(p) for p in itertools.combinations(["default", "baseline", "no-llm"], 2)}


def test_a_pair_waits_for_a_loading_llm_instead_of_crediting_the_template(tiny_catalog, tmp_path):
    """Guards attribution: while a system's LLM loads, the pool would answer with the template; the
    arena refuses the pair (naming no model) instead of storing a template reply under the LLM system."""
    import threading

    from workbench.arena.service import ArenaService
    from workbench.arena.systems import System
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.services import GeneratorPool

    loaded = threading.Event()

    class SlowLLM(TemplateGenerator):
        name = "transformers:slow-test-model"
        ready = False

        def load(self) -> None:
            loaded.wait(30)
            self.ready = True

    services = arena_services(tiny_catalog, tmp_path / "fb")
    services.generators = GeneratorPool(services.settings, services.generators.template,
                                        make=lambda backend, model: SlowLLM())
    s = services.settings
    systems = {"baseline": builtin_systems()["baseline"].resolve(s, "test-index"),
               "llm": System("llm", generator="transformers", model="slow-test-model").resolve(s, "test-index")}
    a = ArenaService(services, systems, rng=random.Random(0))
    with pytest.raises(ArenaError, match="still loading") as err:
        a.pair("I loved Toy Story")
    assert "slow-test-model" not in str(err.value) and "llm" not in str(err.value).replace("language model", "")
    loaded.set()
    assert services.generators.wait("transformers", "slow-test-model", timeout=30)
    out = a.pair("I loved Toy Story")
    saved = a.vote(out["pair_id"], "alice", "a")
    llm_side = "a" if saved["a_system"] == "llm" else "b"
    (record,) = [r for r in services.store.read().records if r.arena_side == llm_side]
    assert (record.generator_backend, record.generator_model) == ("transformers", "slow-test-model")


def test_open_arena_checks_the_systems_at_start_up(tiny_catalog, tmp_path):
    from ui_support import make_services

    from workbench.arena.service import open_arena

    bad = tmp_path / "s.toml"
    bad.write_text('[systems.x]\nk = "five"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.toml: system 'x': field 'k'"):
        open_arena(arena_services(tiny_catalog, tmp_path / "fb", systems_file=str(bad)))
    with pytest.raises(ConfigError, match="no system 'x'"):
        open_arena(arena_services(tiny_catalog, tmp_path / "fb", arena_systems="default,x"))
    assert open_arena(make_services(tiny_catalog, tmp_path / "fb2")) is None  # a scripted engine: no arena
    assert open_arena(arena_services(tiny_catalog, tmp_path / "fb3")) is not None


def test_system_engines_share_what_the_app_loaded(tiny_catalog, tmp_path):
    """Guards "don't load models twice": systems on the app's index share its retriever (embedder and
    index), ranker features, understander, explainer and grounder; two systems on another index share
    one retriever loaded for them; a real search runs on each."""
    from workbench.arena.service import ArenaService
    from workbench.dialogue.engine import default_engine
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import build_index, open_retriever
    from workbench.services import index_id_of

    app_embedder = load_embedder("hash-64")
    build_index(tiny_catalog, app_embedder, "flat", show_progress=False).save(tmp_path / "ix")
    build_index(tiny_catalog, load_embedder("hash-32"), "flat", show_progress=False).save(tmp_path / "ix2")
    systems_file = tmp_path / "systems.toml"
    systems_file.write_text('[systems.other]\nbase = "no-llm"\nindex = "ix2"\nembed_model = "hash-32"\n'
                            '[systems.other-k3]\nbase = "other"\nk = 3\n', encoding="utf-8")
    services = arena_services(tiny_catalog, tmp_path / "fb", embed_model="hash-64", index_dir=str(tmp_path / "ix"),
                              systems_file=str(systems_file), arena_systems="default,no-llm,other,other-k3")
    retriever = open_retriever(tiny_catalog, app_embedder, tmp_path / "ix")
    services.engine = default_engine(tiny_catalog, retriever, generator=TemplateGenerator())
    services.retriever, services.embedder = retriever, app_embedder
    services.index_id = index_id_of(dict(retriever.index.meta), str(tmp_path / "ix"))
    a = ArenaService(services, rng=random.Random(0))
    base = services.engine
    engines = {name: a.engines.engine(system) for name, system in a.systems.items()}
    for name in ("default", "no-llm"):
        e = engines[name]
        assert e.retriever is retriever and e.ranker.features is base.ranker.features
    for e in engines.values():
        assert e.understander is base.understander and e.grounder is base.grounder
        assert e.explainer is base.explainer
    assert engines["other"].retriever is engines["other-k3"].retriever is not retriever
    assert engines["other"].retriever.embedder is not app_embedder
    assert engines["other-k3"].k == 3
    assert a.systems["other"].config["index"] != a.systems["default"].config["index"]
    for e in engines.values():  # each one searches for real
        assert e.respond(e.new_state("s"), "Inception please").recommendations


def test_a_failing_side_changes_neither_conversation(three):
    """Both states commit only when both turns completed: a side that fails midway leaves both as they were."""
    from workbench.errors import GenerationError

    _services, a = three
    conv = a.conversation("")
    failing = conv.sides["b"].system.system_id
    real = a.engines.engine

    class Exploding:
        def __init__(self, engine):
            self.engine = engine

        def stream(self, state, message, **kwargs):
            yield "a first piece "
            raise GenerationError("the test generator exploded")

    a.engines.engine = lambda system: Exploding(real(system)) if system.system_id == failing else real(system)
    with pytest.raises(GenerationError, match="exploded"):
        list(a.stream_pair(conv, "I loved Toy Story"))
    assert conv.turns == [] and conv.sides["a"].state.turns == [] and conv.sides["b"].state.turns == []
    assert not a._pairs  # nothing to vote on
    a.engines.engine = real
    *_, turn = a.stream_pair(conv, "I loved Toy Story")
    assert turn.complete and len(conv.sides["a"].state.turns) == len(conv.sides["b"].state.turns) == 2


def test_arena_votes_become_generator_dpo_examples_with_the_winners_slate(tiny_catalog, tmp_path):
    """`finetune generator --method dpo --feedback DIR` reads arena votes too (issue 14 part 2 with
    issue 12): the example's prompt slate is the one the winning reply was written for."""
    from workbench.evaluate.reply_data import feedback_examples

    services = arena_services(tiny_catalog, tmp_path / "fb")
    a = arena(services, seed=1)
    out = a.pair("I loved Toy Story")
    a.vote(out["pair_id"], "alice", "b")
    (example,), missing = feedback_examples(services.store.read().records, tiny_catalog, "dpo")
    assert missing == 0
    assert (example.target, example.rejected) == (out["b"]["reply"], out["a"]["reply"])
    assert [r.item.item_id for r in example.request.recommendations] == [i["item_id"] for i in out["b"]["items"]]
