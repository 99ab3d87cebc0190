"""Adapters to build engines. ``buildx`` is the only module that imports python_on_whales."""
