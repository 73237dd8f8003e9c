"""The Gradio app: gradio is imported here and nowhere else in the workbench.

``build_demo(services)`` builds the Blocks (it never launches); ``launch_options()``
holds the theme, CSS and favicon that Gradio 6 takes at ``launch()``.
"""

from workbench.ui.app import build_demo, launch_options, serving_options

__all__ = ["build_demo", "launch_options", "serving_options"]
