"""`repro lock`: pin every image reference to a digest, keep repro.lock, check it in CI.

``discover`` finds Dockerfiles, ``scan`` reads them into sites (or takes repro.lock's
record of an unchanged file), ``check`` is the hermetic verdict, ``plan`` decides a lock
run (pure), ``online`` asks what tags serve now, and ``service`` runs each flow with the
adapters it is given and writes all or nothing. Nothing is imported here, so the
hermetic check loads neither the registry vocabulary nor the OCI core.
"""
