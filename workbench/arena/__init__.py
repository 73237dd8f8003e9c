"""The blind side-by-side arena: systems, pairing, votes and the Bradley-Terry leaderboard.

``systems`` (named, hashed configurations of a turn), ``engines`` (one chat engine per system over
the app's loaded parts), ``votes`` (a vote as two feedback records), ``leaderboard`` (strengths
and bootstrap intervals) and ``service`` (the use cases the Arena tab and the API call:
:class:`~workbench.arena.service.ArenaService`). Importing this package imports nothing else.
"""
