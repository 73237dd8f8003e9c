"""PostgreSQL set-up (issue 18): the setting, the versioned migrations, refusing a newer schema.

Guards: ``WORKBENCH_DATABASE_URL`` is validated at start-up naming the variable (and never echoing
a password); the schema is created once however many replicas start at the same moment, and a
second start applies nothing; a database migrated by a newer workbench stops start-up with both
versions in the message and nothing written; an unreachable server is a clear error, not a hang.
"""

from __future__ import annotations

import threading

import psycopg
import pytest

from workbench.config import Settings
from workbench.database import SCHEMA_VERSION, Database, migrate, redact, schema_version
from workbench.errors import ConfigError
from workbench.feedback.backends import open_feedback_store
from workbench.feedback.pg_store import PostgresFeedbackStore


@pytest.mark.parametrize("url", ["mysql://u:hunter2@h/db", "hunter2", "sqlite:///x.db"])
def test_a_database_url_that_is_not_postgresql_is_refused_without_echoing_it(url):
    with pytest.raises(ConfigError, match="WORKBENCH_DATABASE_URL.*postgresql://") as caught:
        Settings.from_env({"WORKBENCH_DATABASE_URL": url})
    assert "hunter2" not in str(caught.value)


def test_hub_sync_and_a_database_together_are_refused():
    with pytest.raises(ConfigError, match="WORKBENCH_DATABASE_URL.*FEEDBACK_HUB_REPO"):
        Settings.from_env({"WORKBENCH_DATABASE_URL": "postgresql://h/db", "FEEDBACK_HUB_REPO": "me/fb"})


def test_redact_hides_only_the_password():
    assert redact("postgresql://ann:s3cret@db:5432/wb?sslmode=require") == \
        "postgresql://ann:***@db:5432/wb?sslmode=require"
    assert redact("postgresql://ann@db/wb") == "postgresql://ann@db/wb"


def test_the_setting_selects_the_postgresql_store_and_migrates_it(pg_url, tmp_path):
    store = open_feedback_store(Settings(database_url=pg_url, feedback_dir=str(tmp_path / "unused")))
    assert isinstance(store, PostgresFeedbackStore) and len(store) == 0
    with psycopg.connect(pg_url) as conn:
        assert schema_version(conn) == SCHEMA_VERSION
    assert not (tmp_path / "unused").exists()  # no shards when the database holds the records
    store.close()


def test_replicas_starting_together_migrate_once(pg_url):
    errors: list[BaseException] = []
    dbs = [Database(pg_url) for _ in range(4)]

    def start(db: Database) -> None:
        try:
            db.open()
        except BaseException as exc:  # collected: a failure in a thread must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version FROM workbench_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
        assert migrate(conn) == 0  # a restart applies nothing
    for db in dbs:
        db.close()


def test_a_newer_schema_is_refused_naming_both_versions(pg_url):
    Database(pg_url).open().close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO workbench_migrations (version, name) VALUES (%s, 'from the future')",
                     (SCHEMA_VERSION + 1,))
    with pytest.raises(ConfigError, match=rf"schema is at version {SCHEMA_VERSION + 1}, newer than this "
                                          rf"workbench knows \(version {SCHEMA_VERSION}\); upgrade"):
        open_feedback_store(Settings(database_url=pg_url))


def test_an_unreachable_server_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("workbench.database.CONNECT_TIMEOUT_S", 1.0)
    url = f"postgresql://nobody:pw@/wb?host={tmp_path}&port=1"  # no server on this socket
    with pytest.raises(ConfigError, match=r"WORKBENCH_DATABASE_URL.*cannot connect to postgresql://nobody:\*\*\*@"):
        Database(url).open()


def test_the_team_compose_example_uses_only_known_settings():
    """docs/team-compose.yml stays honest: the app environment it sets starts the workbench."""
    import yaml
    from conftest import PROJECT_ROOT

    compose = yaml.safe_load((PROJECT_ROOT / "docs" / "team-compose.yml").read_text(encoding="utf-8"))
    env = compose["services"]["app1"]["environment"]
    settings = Settings.from_env({k: str(v) for k, v in env.items()})
    assert settings.database_url.startswith("postgresql://") and settings.generator == "openai"
    assert settings.openai_base_url == "http://vllm:8000/v1"


@pytest.mark.parametrize(("ci", "outcome"), [("1", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_no_server_fails_in_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    """CI must not go green by skipping the PostgreSQL store it is meant to check (.ci/run sets CI)."""
    import pg_support

    if ci:
        monkeypatch.setenv("CI", ci)
    else:
        monkeypatch.delenv("CI", raising=False)
    with pytest.raises(outcome, match="no initdb|cannot run in CI"):
        pg_support._unavailable("no initdb/pg_ctl on PATH")
