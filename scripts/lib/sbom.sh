# An SBOM generator image in the local registry, for `repro verify --attest sbom`.
# BuildKit's default generator (docker/buildkit-syft-scanner) is on Docker Hub, which this
# machine cannot reach; scripts/lib/sbom-generator/ follows BuildKit's SBOM scanning
# protocol with Python's standard library on the seeded python:3.11-slim.
# shellcheck shell=bash

SBOM_GENERATOR_DIR="$REPO_ROOT/scripts/lib/sbom-generator"
SBOM_GENERATOR_REPO=repro-dev/sbom-generator

# The tag is the hash of the generator's sources: an edit gives a new image, and the
# tests ask this script which one (tests/support/machine.py reads the same hash).
sbom_generator_tag() {
  (cd "$SBOM_GENERATOR_DIR" && cat Dockerfile scan.py) | sha256sum | cut -c1-12
}

ensure_sbom_generator() {
  local tag; tag=$(sbom_generator_tag)
  local name="$REGISTRY_HOST/$SBOM_GENERATOR_REPO:$tag"
  if tag_exists "$SBOM_GENERATOR_REPO" "$tag" 2>/dev/null; then info "$name already pushed"; return 0; fi
  local layout="$STATE_DIR/sbom-generator"
  rm -rf "$layout"
  info "building $name"
  "$(docker_bin)" buildx build --no-cache --provenance=false --sbom=false \
    --output "type=oci,tar=false,dest=$layout" --progress=plain \
    "$SBOM_GENERATOR_DIR" >"$STATE_DIR/sbom-generator.log" 2>&1 || {
      tail -n 30 "$STATE_DIR/sbom-generator.log" >&2; die "building the SBOM generator failed"; }
  skopeo copy --quiet --all --preserve-digests --dest-tls-verify=false \
    "oci:$layout" "docker://$name" || die "pushing $name failed"
  info "pushed $name"
}
