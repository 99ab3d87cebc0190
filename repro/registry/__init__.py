"""The registry wing: everything repro says to an OCI distribution registry.

``model`` is the wing's vocabulary (what use cases may name); ``auth`` reads docker
credentials; ``client`` is the one HTTP client (endpoints, mirrors); ``resolver``
resolves many references at once for `repro lock`; ``image`` reads a registry image as a
repro.oci BlobSource; ``referrers`` attaches small artifacts to an image and finds them
again; ``skopeo`` pushes an OCI archive byte for byte. Nothing here imports a use case,
the renderer or the CLI. This package imports nothing itself, so naming the model stays
cheap.
"""
