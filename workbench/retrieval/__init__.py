"""Retrieval: free-text search over the catalogue.

``embed`` (embedders: texts to unit vectors), ``index`` (FAISS and brute-force item indexes over
those vectors, with manifests), ``lexical`` (BM25 over titles, people and tags) and ``hybrid``
(:class:`~workbench.retrieval.hybrid.HybridRetriever`: dense plus lexical, fused; what the engine
searches with). Importing this package imports nothing else.
"""
