#!/usr/bin/env bash
# Builds the images `make test-compose` needs where Docker Hub cannot be reached, from
# Debian's packages only, and prints the variables that point docker-compose.yaml at them:
#
#   agency-pulse-debian:bookworm     debootstrap'd Debian with Python 3.11 (cached by tag:
#                                    a second run skips debootstrap)
#   agency-pulse-base:local          that, plus this machine's CA bundle (package indexes
#                                    behind a TLS-inspecting proxy need it); the Dockerfile's
#                                    BASE_IMAGE
#   agency-pulse-postgres:standin    PostgreSQL 15 from Debian, initialised like the official
#                                    image (POSTGRES_USER/PASSWORD/DB)
#   agency-pulse-redis:standin       Redis from Debian
#
# With Docker Hub reachable none of this is needed: the compose file's defaults are the
# official images. Usage: scripts/compose/build_images.sh [--print-env]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

DEBIAN_IMAGE=${DEBIAN_IMAGE:-agency-pulse-debian:bookworm}
BASE_IMAGE=${BASE_IMAGE:-agency-pulse-base:local}
POSTGRES_STANDIN=${POSTGRES_STANDIN:-agency-pulse-postgres:standin}
REDIS_STANDIN=${REDIS_STANDIN:-agency-pulse-redis:standin}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}

log() { echo "[build_images] $*" >&2; }

if ! docker image inspect "$DEBIAN_IMAGE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
  root=$(mktemp -d /tmp/agency-pulse-debootstrap.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  log "debootstrap bookworm into $root (a few minutes, once)"
  started=$(date +%s)
  debootstrap --variant=minbase \
    --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates \
    bookworm "$root" "$DEBIAN_MIRROR" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
  rm -f "$root.log"
  # pip/uv refuse to install into a Debian-managed Python without this marker gone; the
  # image is a container base, not a system anyone manages with apt's python3-* packages.
  rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    -c 'CMD ["python3"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$root"; trap - EXIT
  log "$DEBIAN_IMAGE imported in $(( $(date +%s) - started )) s"
else
  log "$DEBIAN_IMAGE cached"
fi

# The CA bundle goes into a throwaway context so nothing of it lands in the repository.
context=$(mktemp -d /tmp/agency-pulse-base.XXXXXX)
cp "$CA_BUNDLE" "$context/ca-bundle.crt"
cat >"$context/Dockerfile" <<DOCKERFILE
FROM $DEBIAN_IMAGE
COPY ca-bundle.crt /usr/local/share/agency-pulse/ca-bundle.crt
ENV SSL_CERT_FILE=/usr/local/share/agency-pulse/ca-bundle.crt \\
    PIP_CERT=/usr/local/share/agency-pulse/ca-bundle.crt \\
    REQUESTS_CA_BUNDLE=/usr/local/share/agency-pulse/ca-bundle.crt
DOCKERFILE
docker build -q --network host -t "$BASE_IMAGE" "$context" >/dev/null
rm -rf "$context"
log "$BASE_IMAGE ready"

docker build -q --network host --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
  -f "$here/standins/postgres.Dockerfile" -t "$POSTGRES_STANDIN" "$here/standins" >/dev/null
log "$POSTGRES_STANDIN ready"
docker build -q --network host --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
  -f "$here/standins/redis.Dockerfile" -t "$REDIS_STANDIN" "$here/standins" >/dev/null
log "$REDIS_STANDIN ready"

if [ "${1:-}" = --print-env ]; then
  echo "PYTHON_BASE_IMAGE=$BASE_IMAGE"
  echo "POSTGRES_IMAGE=$POSTGRES_STANDIN"
  echo "REDIS_IMAGE=$REDIS_STANDIN"
fi
