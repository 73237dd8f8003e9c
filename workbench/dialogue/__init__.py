"""Dialogue: understanding a message, conversation state, grounded generators, the engine."""
