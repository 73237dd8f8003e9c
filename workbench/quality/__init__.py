"""Quality of the collected judgements: inter-annotator agreement and the dashboard's numbers.

``agreement`` (Krippendorff's alpha per question, per-annotator agreement with the majority, the
most split units) and ``dashboard`` (the frames the Dashboard tab plots). Gradio-free: the CLI,
the tab and the tests call the same functions.
"""
