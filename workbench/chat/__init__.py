"""The Chat tab's use cases (sessions, turns, judgements on replies and slates), shared by the Blocks UI
and the named API; no gradio here (the Annotate tab runs on :mod:`workbench.projects`).

* :mod:`~workbench.chat.session`: per-user sessions, their exchanges and unsaved judgements.
* :mod:`~workbench.chat.turns`: running, undoing and clearing conversation turns in a session.
* :mod:`~workbench.chat.identity`: who is annotating (a typed name or a Hugging Face username).
* :mod:`~workbench.chat.judgements`: turning judgements into feedback records and saving them.

``workbench.ui`` parses widget and API values, calls these, and formats the results.
"""
