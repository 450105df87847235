"""Replacement metadata derived from upstream provider sources (see generate.py)."""
