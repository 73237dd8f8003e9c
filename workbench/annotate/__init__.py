"""Annotation use cases, shared by the Blocks UI and the named API; no gradio here.

* :mod:`~workbench.annotate.session`: per-user sessions, their exchanges and unsaved judgements.
* :mod:`~workbench.annotate.turns`: running, undoing and clearing conversation turns in a session.
* :mod:`~workbench.annotate.identity`: who is annotating (a typed name or a Hugging Face username).
* :mod:`~workbench.annotate.judgements`: turning judgements into feedback records and saving them.

``workbench.ui`` parses widget and API values, calls these, and formats the results.
"""
