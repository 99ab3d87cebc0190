"""Releases: record what shipped, answer questions about it, sign it, publish it, rebuild it.

``repro release`` records one ``[[release]]`` table per version in repro.lock (model and
validation in repro.lockfile), after `repro verify` proved two independent builds
bit-identical. Fields (keys sorted, no nulls; absent = none):

  version, commit, tag (git describe --exact-match --tags), context, dockerfile,
  dockerfile_sha256, source_date_epoch, build_args, target, platforms (as requested),
  base = [{reference, digest}] (the pinned bases in force), digest (the image digest:
  the index for a multi-platform image, else the manifest), image = [{platform, manifest,
  config, size, layer = [{digest, size, instruction}]}] (sizes are compressed bytes;
  an image's size is its config plus its layers), buildkit, buildx, repository (where
  --push put it), verified_at (UTC; the only field that is not a function of the source).

Signatures (repro.release.attest) are stored next to repro.lock, one per version, in
``.repro/releases/<version>.dsse.json``: a DSSE envelope around an in-toto Statement v1
whose subject is the image digest and whose predicate (type https://repro.dev/release/v1)
is the ``[[release]]`` table itself.

``repro publish`` pushes that envelope as an OCI artifact (artifactType
application/vnd.dsse.envelope.v1+json, ``subject`` = the image) and lists it in the
referrers tag ``sha256-<hex>`` (an OCI index), the fallback the OCI distribution spec
defines for registries without the referrers API.
"""
