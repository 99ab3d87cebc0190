"""`repro verify --all`: every image a project builds, verified across a pool of builders.

``images`` finds what the project builds (each Dockerfile, each compose service with a
``build:`` section, each bake target) and how; ``pool`` decides which builders build
what, longest image first, A and B on two different builders; ``service`` runs the
single-image verification (repro.verify.service) for each image on the builders the
pool gives it and gathers one report (``model``), whose record ``model`` also writes
and reads.
"""
