# Seed base images into the local registry: no public registry is reachable here.
# Built from Debian packages with a fixed SOURCE_DATE_EPOCH and rewrite-timestamp, so
# re-seeding on a fresh machine gives the same digests whenever the packages are the same.
# shellcheck shell=bash

SEED_EPOCH=1700000000   # 2023-11-14, fixed on purpose: seeds are data, not builds under test
SEED_DIR="$STATE_DIR/seed"
REGISTRY_HOST=${REPRO_REGISTRY_HOST:-localhost:5000}

tag_exists() {  # tag_exists REPO TAG
  curl -fsS --max-time 5 -o /dev/null -I \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY_ADDR/v2/$1/manifests/$2"
}

# deterministic_tar SRC_DIR OUT_TAR : the same tree always gives the same bytes.
deterministic_tar() {
  tar --sort=name --mtime="@$SEED_EPOCH" --clamp-mtime --numeric-owner \
      --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      -C "$1" -cf "$2" .
}

# push_rootfs_image PLATFORMS NAME... : build $SEED_DIR/ctx (rootfs-<arch>.tar per platform)
# to an OCI layout and copy it to each NAME. (The docker driver's image exporter refuses
# rewrite-timestamp together with unpacking into the image store, so push the layout.)
push_rootfs_image() {
  local platforms=$1; shift
  local layout="$SEED_DIR/layout"
  rm -rf "$layout"
  "$(docker_bin)" buildx build --no-cache --platform "$platforms" \
    --provenance=false --sbom=false \
    --build-arg SOURCE_DATE_EPOCH=$SEED_EPOCH \
    --output "type=oci,tar=false,dest=$layout,rewrite-timestamp=true" \
    --progress=plain "$SEED_DIR/ctx" >"$SEED_DIR/build.log" 2>&1 || {
      tail -n 30 "$SEED_DIR/build.log" >&2; die "building seed image $1 failed"; }
  local name
  for name in "$@"; do
    skopeo copy --quiet --all --preserve-digests --dest-tls-verify=false \
      "oci:$layout" "docker://$name" || die "pushing $name failed"
    info "pushed $name"
  done
}

busybox_rootfs() {  # busybox_rootfs ARCH DEST
  local arch=$1 dest=$2 work="$SEED_DIR/busybox-$1"
  rm -rf "$work" "$dest"; mkdir -p "$work" "$dest"
  (cd "$work" && apt-get download -qq "busybox-static:$arch" >/dev/null)
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/x"
  mkdir -p "$dest/bin" "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin" "$dest/etc" "$dest/tmp" "$dest/root" "$dest/home"
  cp "$work/x/bin/busybox" "$dest/bin/busybox"
  # The applet list is the same for both architectures of one version: ask the host's binary.
  local applet
  for applet in $(/usr/bin/env -i "$SEED_DIR/busybox-amd64/x/bin/busybox" --list-full); do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$dest/$(dirname "$applet")"
    ln -sf /bin/busybox "$dest/$applet"
  done
  chmod 1777 "$dest/tmp"; chmod 700 "$dest/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dest/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$dest/etc/group"
}

# fresh_root DIR : an empty place for a debootstrap root. An interrupted debootstrap or
# chroot can leave /proc or /sys mounted inside it: unmount those before deleting.
fresh_root() {
  local mountpoint
  if [ -d "$1" ]; then
    for mountpoint in $(awk -v root="$1" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r); do
      umount -l "$mountpoint" 2>/dev/null || true
    done
  fi
  rm -rf "$1"
}

seed_busybox() {
  local repo=library/busybox tag=1.35
  if tag_exists "$repo" "$tag"; then info "$REGISTRY_HOST/$repo:$tag already seeded"; return 0; fi
  info "seeding $REGISTRY_HOST/$repo:$tag (linux/amd64, linux/arm64) from Debian's busybox-static"
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; APT_UPDATED=0; }
  apt_update_once
  rm -rf "$SEED_DIR/ctx"; mkdir -p "$SEED_DIR/ctx"
  busybox_rootfs amd64 "$SEED_DIR/rootfs-busybox-amd64"
  busybox_rootfs arm64 "$SEED_DIR/rootfs-busybox-arm64"
  deterministic_tar "$SEED_DIR/rootfs-busybox-amd64" "$SEED_DIR/ctx/rootfs-amd64.tar"
  deterministic_tar "$SEED_DIR/rootfs-busybox-arm64" "$SEED_DIR/ctx/rootfs-arm64.tar"
  cat > "$SEED_DIR/ctx/Dockerfile" <<'DF'
FROM scratch
ARG TARGETARCH
ADD rootfs-${TARGETARCH}.tar /
CMD ["sh"]
DF
  push_rootfs_image linux/amd64,linux/arm64 "$REGISTRY_HOST/$repo:$tag" "$REGISTRY_HOST/$repo:latest"
}

# seed_debian_python REPO TAG ROOT_NAME [PACKAGE...] : a Debian bookworm minbase with
# python3 (and PACKAGE..., installed by apt inside the root), pushed as REPO:TAG.
seed_debian_python() {
  local repo=$1 tag=$2 root="$SEED_DIR/$3" log="$SEED_DIR/debootstrap-$3.log"
  shift 3
  apt_install debootstrap
  fresh_root "$root"; rm -rf "$SEED_DIR/ctx"; mkdir -p "$SEED_DIR/ctx"
  debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" \
    http://deb.debian.org/debian >"$log" 2>&1 || {
      tail -n 20 "$log" >&2; die "debootstrap for $repo:$tag failed"; }
  if [ $# -gt 0 ]; then
    # debootstrap's own resolver cannot configure a toolchain: let apt inside the root do it.
    chroot "$root" apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1 || {
      tail -n 20 "$log" >&2; die "installing $* for $repo:$tag failed"; }
  fi
  # What a base would not ship: apt lists and caches, device nodes (the runtime makes /dev).
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/dev/*
  deterministic_tar "$root" "$SEED_DIR/ctx/rootfs-amd64.tar"
  cat > "$SEED_DIR/ctx/Dockerfile" <<'DF'
FROM scratch
ARG TARGETARCH
ADD rootfs-${TARGETARCH}.tar /
ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["python3"]
DF
  push_rootfs_image linux/amd64 "$REGISTRY_HOST/$repo:$tag"
}

seed_python() {
  local repo=library/python tag=3.11-slim
  if tag_exists "$repo" "$tag"; then info "$REGISTRY_HOST/$repo:$tag already seeded"; return 0; fi
  info "seeding $REGISTRY_HOST/$repo:$tag (linux/amd64) with debootstrap (minbase + python3)"
  # `:3.11` is the full image (seed_python_full), not another name for the slim one.
  seed_debian_python "$repo" "$tag" rootfs-python-amd64
}

tag_digest() {  # tag_digest REPO TAG : the manifest digest the tag names, or nothing
  curl -fsS --max-time 5 -o /dev/null -D - \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY_ADDR/v2/$1/manifests/$2" 2>/dev/null \
    | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" {print $2}'
}

# The full python image: what `python:3.11` is on Docker Hub, a base that carries the
# build toolchain (build-essential, python3-dev headers). Naive single-stage builds on it
# ship the compilers; `repro signoff` must find them.
seed_python_full() {
  local repo=library/python tag=3.11
  local current slim
  current=$(tag_digest "$repo" "$tag" || true)
  slim=$(tag_digest "$repo" 3.11-slim || true)
  if [ -n "$current" ] && [ "$current" != "$slim" ]; then
    info "$REGISTRY_HOST/$repo:$tag already seeded"; return 0
  fi
  [ -n "$current" ] && info "$REGISTRY_HOST/$repo:$tag is the slim image; replacing it with the full one"
  info "seeding $REGISTRY_HOST/$repo:$tag (linux/amd64) with debootstrap (python3, python3-dev, build-essential)"
  seed_debian_python "$repo" "$tag" rootfs-python-full-amd64 build-essential python3-dev
}

seed_bases() {
  mkdir -p "$SEED_DIR"
  seed_busybox
  seed_python
  seed_python_full
}
