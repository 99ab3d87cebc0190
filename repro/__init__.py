"""repro: a reproducible-build verifier for container images."""

__version__ = "0.1.0"
