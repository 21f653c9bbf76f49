#!/usr/bin/env bash
# Installs and starts a Docker engine, and builds the sandbox image, on a fresh
# Debian machine with no container registry: the base image is made with
# debootstrap from Debian's mirror and imported. Idempotent: each step is
# skipped when its result is already there.
# Env: CREWBOX_BASE_IMAGE (default crewbox-base:bookworm), CREWBOX_IMAGE
# (default crewbox-sandbox:latest).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${CREWBOX_BASE_IMAGE:-crewbox-base:bookworm}"
IMAGE="${CREWBOX_IMAGE:-crewbox-sandbox:latest}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

mirror() {
  # The machine's own Debian mirror (deb822 sources first, then the classic list).
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
  echo "${uri:-http://deb.debian.org/debian}"
}

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  echo "== installing docker.io and debootstrap"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker.io debootstrap >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "== starting dockerd"
  $SUDO bash -c 'setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start:"; tail -20 /tmp/dockerd.log; exit 1; }
fi
echo "== docker $(docker version --format '{{.Server.Version}}')"

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "== building base image $BASE_IMAGE with debootstrap"
  rootfs=$(mktemp -d)
  $SUDO debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" >/tmp/debootstrap.log 2>&1 \
    || { tail -20 /tmp/debootstrap.log; exit 1; }
  # Use the same mirror inside the image as on this machine.
  echo "deb $(mirror) bookworm main" | $SUDO tee "$rootfs/etc/apt/sources.list" >/dev/null
  $SUDO tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  $SUDO rm -rf "$rootfs"
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "== building sandbox image $IMAGE"
  docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" -f sandbox/Dockerfile sandbox >/dev/null
fi
echo "== images ready: $BASE_IMAGE, $IMAGE"
