#!/usr/bin/env bash
# Install everything the project needs on a fresh machine: Debian packages, a virtualenv with
# the package and its test/dev extras, and the test bed's binaries (built with Go, cached per
# user and keyed by version). Every step is skipped when it is already done, so a warm run
# costs seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

step() {
  local name=$1; shift
  local started=$SECONDS
  echo "==> $name"
  "$@"
  echo "==> $name: $((SECONDS - started))s"
}

apt_packages() {
  # git serves and clones the test bed's repositories; the rest are usually present already.
  local missing=()
  for cmd_pkg in git:git curl:curl make:make; do
    command -v "${cmd_pkg%%:*}" >/dev/null || missing+=("${cmd_pkg#*:}")
  done
  # sshd serves the SOPS-in-Git provider's ssh:// test on loopback.
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  # slapd is the directory behind the Vault LDAP auth tests. Each test runs its own instance
  # (tests/testbed/ldap.py), so the package is installed unconfigured and its daemon stays off.
  [ -x /usr/sbin/slapd ] || missing+=(slapd ldap-utils)
  # PostgreSQL behind OpenBao's database secrets engine; tests run their own server as an
  # unprivileged user in a data directory of their own (tests/testbed/postgres.py).
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
  # The operator image (scripts/image.sh, tests/image): mmdebstrap makes the Debian root
  # filesystem, podman builds and runs it with runc, skopeo reads the OCI archive, uidmap lets
  # podman and mmdebstrap run without root.
  for cmd_pkg in podman:podman buildah:buildah mmdebstrap:mmdebstrap skopeo:skopeo \
    newuidmap:uidmap; do
    command -v "${cmd_pkg%%:*}" >/dev/null || missing+=("${cmd_pkg#*:}")
  done
  [ -x /usr/sbin/runc ] || command -v runc >/dev/null || missing+=(runc)
  if ((${#missing[@]})); then
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    echo "slapd slapd/no_configuration boolean true" | "${sudo[@]}" debconf-set-selections
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    if [ -d /run/systemd/system ]; then
      "${sudo[@]}" systemctl disable --now slapd >/dev/null 2>&1 || true
    fi
  fi
  if ! command -v go >/dev/null; then
    echo "Go 1.26 or newer is required to build the test bed (https://go.dev/doc/install)" >&2
    exit 1
  fi
}

containers() {
  # podman reads deploy/image/containers.conf (runc, lower ulimits) through CONTAINERS_CONF in
  # scripts/image.sh and the image test, so the user's own podman setup stays as it is. Without
  # root, podman and mmdebstrap need subordinate ids for the user namespace.
  if [ "$(id -u)" != 0 ] && ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
    echo "podman without root needs subordinate ids:" \
      "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un)" >&2
    exit 1
  fi
  CONTAINERS_CONF=deploy/image/containers.conf podman info --format '{{.Host.OCIRuntime.Name}}' \
    >/dev/null
}

python_env() {
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  # Reinstall only when pyproject.toml changed since the last install.
  local stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -e "$stamp" ]; then
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e '.[dev]'
    rm -f "$VENV"/.installed-* && touch "$stamp"
  fi
}

step "system packages" apt_packages
step "containers (podman)" containers
step "python environment ($VENV)" python_env
step "test bed binaries" "$VENV/bin/python" -m tests.testbed build
