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
  --push put it), verified_at (UTC; the only field that is not a function of the source);
  and the facts of the verification run that SLSA provenance states: build = [{name,
  builder, digest}] (A and B), started_at, source (the git remote, credentials stripped),
  attest (BuildKit attestations built into the image, compared apart), repro (its version).

Signed statements (repro.release.attest, keys in cosign's formats: repro.release.keys) are
stored next to repro.lock in ``.repro/releases/``, each a DSSE envelope around an in-toto
Statement v1 whose subject is the image digest:

  <version>.dsse.json             predicate type https://repro.dev/release/v1: the
                                  ``[[release]]`` table itself
  <version>.provenance.dsse.json  https://slsa.dev/provenance/v1 (repro.release.slsa)
  <version>.signoff.json          a `repro signoff` report stored with the release
                                  (https://repro.dev/signoff/v1 when signed)

``repro publish`` (and ``repro release --push --sign``) attaches each statement beside the
image as cosign does, a layer of the ``sha256-<hex>.att`` tag, and as an OCI 1.1 referrer
holding a Sigstore bundle, through the referrers API where the registry has it, else the
referrers tag schema (repro.release.publish); ``<version>.published.json`` records where.
"""
