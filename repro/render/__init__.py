"""Rendering of results for people (rich) and machines (stable JSON). No computing here."""
