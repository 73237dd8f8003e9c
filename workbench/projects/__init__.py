"""Annotation projects: prepared conversations, each judged by N different annotators.

``tasks`` (task contexts and their sources: files, saved datasets, ReDial), ``store`` (the
:class:`ProjectStore` protocol and its SQLite implementation: claims with leases, answers,
counts), ``create`` (answering every task once with the engine, resumably), ``service`` (the
gradio-free use cases the Annotate tab, the API and the CLI call) and ``export``.
Importing this package imports neither ``datasets`` nor the engine.
"""

from __future__ import annotations

from workbench.projects.create import create_project
from workbench.projects.service import ProjectService, open_project_service, projects_path
from workbench.projects.store import DEFAULT_LEASE_S, ProjectStore, SQLiteProjectStore
from workbench.projects.tasks import Task, read_tasks, redial_tasks

__all__ = [
    "DEFAULT_LEASE_S",
    "ProjectService",
    "ProjectStore",
    "SQLiteProjectStore",
    "Task",
    "create_project",
    "open_project_service",
    "projects_path",
    "read_tasks",
    "redial_tasks",
]
