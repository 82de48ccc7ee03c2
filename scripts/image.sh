#!/usr/bin/env bash
# Build the operator image with no container registry (`make image`; the image test runs this
# same script when the image is missing or stale):
#   1. a minimal Debian root filesystem made by mmdebstrap from Debian's packages, cached as a
#      tarball under ~/.cache/secretsync/image/ keyed by release, mirrors and package list;
#   2. the project's wheel and its locked, hash-checked dependencies (deploy/image/
#      requirements.lock) downloaded on the host into a cache, so pip inside the build needs no
#      network and the host's CA bundle never goes near a layer;
#   3. `podman build` of deploy/image/Containerfile: a virtualenv installed offline on top of
#      the base, the base stripped of apt, dpkg, perl and docs, flattened onto `scratch`.
# Output: dist/secretsync-<version>.oci.tar (OCI archive) and the image in local podman storage
# as ghcr.io/secretsync/secretsync:<version>. Unchanged inputs make this a no-op of about a second.
#
#   scripts/image.sh          build if anything changed
#   scripts/image.sh lock     re-resolve deploy/image/requirements.lock from pyproject.toml
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$PWD

PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
VERSION=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
REFERENCE=ghcr.io/secretsync/secretsync:$VERSION
ARCHIVE=dist/secretsync-$VERSION.oci.tar
STAMP=dist/.secretsync-$VERSION.oci.key
IMAGE_DIR=deploy/image
LOCK=$IMAGE_DIR/requirements.lock
INSTALLER_LOCK=$IMAGE_DIR/installer.lock
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/secretsync/image
# runc, not crun (crun refuses the hybrid cgroup layout of our machines), and ulimits low enough
# for those machines; private to this build, so the user's own podman setup is left alone.
export CONTAINERS_CONF=$ROOT/$IMAGE_DIR/containers.conf

RELEASE=bookworm
PACKAGES=(python3 ca-certificates git openssh-client)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SOURCES=(
  "deb $MIRROR $RELEASE main"
  "deb $MIRROR $RELEASE-updates main"
  "deb $SECURITY_MIRROR $RELEASE-security main"
)
# Documentation never ships; copyright files do (licences travel with the binaries).
DPKG_OPTIONS=(
  "path-exclude=/usr/share/doc/*"
  "path-include=/usr/share/doc/*/copyright"
  "path-exclude=/usr/share/man/*"
  "path-exclude=/usr/share/info/*"
  "path-exclude=/usr/share/locale/*"
  "path-exclude=/usr/share/lintian/*"
)

log() { echo "image: $*" >&2; }
# Nothing podman starts (conmon, a rootless pause process) may inherit the build lock's descriptor.
podman() { command podman "$@" 9>&-; }
die() { echo "image: $*" >&2; exit 1; }

require_tools() {
  local missing=()
  for tool in podman mmdebstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [ -x /usr/sbin/runc ] || command -v runc >/dev/null || missing+=(runc)
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: run \`make bootstrap\` (apt-get install podman buildah mmdebstrap runc skopeo uidmap)"
}

key_of() { sha256sum | cut -c1-16; }

# --- 1. the Debian base ---------------------------------------------------------------------
base_key() {
  printf '%s\n' "$RELEASE" minbase "${PACKAGES[@]}" "${SOURCES[@]}" "${DPKG_OPTIONS[@]}" | key_of
}

base_tarball() {
  local key=$1 tarball=$CACHE/base-$RELEASE-$1.tar
  if [ ! -s "$tarball" ]; then
    mkdir -p "$CACHE"
    local started=$SECONDS options=()
    for option in "${DPKG_OPTIONS[@]}"; do options+=(--dpkgopt="$option"); done
    log "mmdebstrap $RELEASE minbase + ${PACKAGES[*]} (once; cached in $CACHE)"
    local include
    include=$(IFS=,; echo "${PACKAGES[*]}")
    mmdebstrap --quiet --format=tar --variant=minbase --include="$include" \
      --aptopt='APT::Install-Recommends "false"' "${options[@]}" \
      "$RELEASE" "$tarball.partial" "${SOURCES[@]}"
    mv "$tarball.partial" "$tarball"
    log "mmdebstrap took $((SECONDS - started))s"
  fi
  echo "$tarball"
}

base_image() {
  local key=$1 name=localhost/secretsync-base:$RELEASE-$1
  if ! podman image exists "$name"; then
    podman import --quiet "$(base_tarball "$key")" "$name" >/dev/null
  fi
  echo "$name"
}

# --- 2. wheels ------------------------------------------------------------------------------
locked_wheels() {
  # The lock carries hashes, so the download is checked here and the install checks again.
  # Offline first: once the cache holds every locked file, a rebuild asks no index.
  mkdir -p "$CACHE/wheels"
  local download=("$PYTHON" -m pip download --quiet --no-deps --require-hashes
    --only-binary=:all: --dest "$CACHE/wheels" -r "$LOCK" -r "$INSTALLER_LOCK")
  "${download[@]}" --no-index --find-links "$CACHE/wheels" >/dev/null 2>&1 || "${download[@]}"
}

project_wheel() {
  local out=$1
  rm -rf "$out" && mkdir -p "$out"
  "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$out" . >&2
  ls "$out/secretsync-$VERSION-py3-none-any.whl" >/dev/null
}

# Everything the image is made of; when it is unchanged and the image is there, skip the build.
inputs_key() {
  {
    echo "$1"
    find secretsync -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
    sha256sum pyproject.toml README.md "$LOCK" "$INSTALLER_LOCK" "$IMAGE_DIR"/Containerfile \
      "$IMAGE_DIR"/finalize.sh "$IMAGE_DIR"/containers.conf scripts/image.sh
  } | key_of
}

build() {
  require_tools
  # One build at a time per user: `make image` and the image test's fixture may overlap.
  mkdir -p "$CACHE"
  exec 9>"$CACHE/build.lock"
  flock 9
  local started=$SECONDS base key
  key=$(base_key)
  base=$(base_image "$key")
  local inputs
  inputs=$(inputs_key "$key")
  if [ -s "$ARCHIVE" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$inputs" ] \
    && podman image exists "$REFERENCE"; then
    log "$REFERENCE is up to date ($ARCHIVE)"
    return
  fi
  locked_wheels
  local dist=build/image-wheel
  project_wheel "$dist"
  local wheel_sha
  wheel_sha=$(sha256sum "$dist/secretsync-$VERSION-py3-none-any.whl" | cut -d' ' -f1)
  log "building $REFERENCE on $base"
  # --layers: the runtime layer (base + locked dependencies) is reused until the lock changes.
  podman build --quiet --pull=never --layers \
    --build-arg BASE="$base" --build-arg VERSION="$VERSION" --build-arg WHEEL_SHA256="$wheel_sha" \
    --build-arg PIP_WHEEL="pip-$(sed -n 's/^pip==\([^ ]*\) .*/\1/p' "$INSTALLER_LOCK")-py3-none-any.whl" \
    --volume "$CACHE/wheels:/wheels:ro" --volume "$ROOT/$dist:/dist:ro" \
    --tag "$REFERENCE" --file "$IMAGE_DIR/Containerfile" "$IMAGE_DIR" >/dev/null
  mkdir -p dist
  rm -f "$ARCHIVE" "$STAMP"
  podman save --quiet --format oci-archive --output "$ARCHIVE.partial" "$REFERENCE"
  mv "$ARCHIVE.partial" "$ARCHIVE"
  # Prove the archive is what an air-gapped user loads: load it back under the same name.
  podman load --quiet --input "$ARCHIVE" >/dev/null
  podman image exists "$REFERENCE" || die "podman load did not restore $REFERENCE"
  echo "$inputs" >"$STAMP"
  log "built $REFERENCE -> $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1)) in $((SECONDS - started))s"
}

# --- the lock file ----------------------------------------------------------------------------
lock() {
  # Resolve the project's dependencies as pip would install them into the image's Python
  # (CPython 3.11 on Debian bookworm, the same as the host's), with one sha256 per file.
  local dist=build/image-wheel report
  project_wheel "$dist"
  report=$(mktemp)
  "$PYTHON" -m pip install --quiet --dry-run --ignore-installed --only-binary=:all: \
    --report "$report" "$dist"/secretsync-"$VERSION"-*.whl
  "$PYTHON" - "$report" "$LOCK" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
lines = [
    "# Generated by `scripts/image.sh lock` from pyproject.toml: every dependency of the",
    "# image's virtualenv, pinned with its hash (pip install --require-hashes). Do not edit.",
]
for item in sorted(report["install"], key=lambda i: i["metadata"]["name"].lower()):
    meta = item["metadata"]
    if meta["name"] == "secretsync":
        continue
    digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
    lines.append(f"{meta['name'].lower()}=={meta['version']} --hash=sha256:{digest}")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
EOF
  rm -f "$report"
  log "wrote $LOCK"
}

case "${1:-build}" in
  build) build ;;
  lock) lock ;;
  *) die "usage: scripts/image.sh [build|lock]" ;;
esac
