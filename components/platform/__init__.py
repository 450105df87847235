"""Composition of the platform (compose.py), one region's capabilities in order (region.py),
its provider and account (providers.py) and the stack's exports (exports.py). Each capability
brings its own args builder beside its component; this package only orders them."""

from .compose import build_platform

__all__ = ["build_platform"]
