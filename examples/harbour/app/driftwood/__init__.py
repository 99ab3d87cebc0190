"""Driftwood: a small web service used as repro's example app."""
