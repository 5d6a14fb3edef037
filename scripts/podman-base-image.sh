#!/usr/bin/env bash
# Makes the job image's base locally, for machines that reach Debian's apt mirror but no container registry
# (CI, these build machines): a debootstrap minbase rootfs imported into podman under the exact name the
# Dockerfile's FROM uses, so `podman build` never pulls. Also writes the containers.conf podman needs here
# (runc, bounded ulimits). Idempotent: an existing image is kept, the rootfs tarball is cached.
#
#   scripts/podman-base-image.sh            prints the containers.conf path to export as CONTAINERS_CONF
#   CACHE_DIR=... MIRROR=... scripts/podman-base-image.sh
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
dockerfile="$repo_root/container/Dockerfile"
cache_dir=${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/simulation-podman}
mkdir -p "$cache_dir"

base_image=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$dockerfile")
suite=$(printf '%s\n' "$base_image" | sed -E 's/.*:([a-z]+)-.*/\1/')
if [ -z "$base_image" ] || [ -z "$suite" ]; then
  echo "error: no FROM image with a suite tag in $dockerfile" >&2
  exit 2
fi

# The mirror apt already uses here: a build machine without registry access can still reach it.
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
             | awk '{print $2}' | head -n 1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

conf="$cache_dir/containers.conf"
cat > "$conf" <<CONF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$conf"

if podman image exists "$base_image"; then
  echo "$conf"
  exit 0
fi

tarball="$cache_dir/$suite-minbase.tar"
if [ ! -s "$tarball" ]; then
  rootfs=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase "$suite" "$rootfs" "$MIRROR" >"$cache_dir/debootstrap.log" 2>&1 \
    || { echo "error: debootstrap failed, see $cache_dir/debootstrap.log" >&2; exit 1; }
  # Like the official slim images: no apt lists or caches in the base layer.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi
podman import "$tarball" "$base_image" >/dev/null
echo "$conf"
