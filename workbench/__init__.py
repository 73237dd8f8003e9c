"""Chat-Rec Workbench: a conversational recommender demo and labelling workbench.

Importing the package has no side effects: no model loading, no file writes,
no network. Construction happens in :func:`workbench.services.build_services`.
"""

__version__ = "0.1.0"
