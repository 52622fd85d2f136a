#!/usr/bin/env bash
# Makes a Docker engine reachable for the docker runtime, idempotently: installs
# Debian's docker.io (and debootstrap, which builds the images' base) when missing,
# starts dockerd in the background when no engine answers (an engine already running
# is used as it is), and waits — at most
# SIDECAR_BENCH_DOCKER_WAIT_S seconds (default 120) — until `docker info` works.
# The packaged client (/usr/bin/docker) is used, whatever else is first on PATH,
# so client and daemon come from the same release.
set -euo pipefail

wait_s="${SIDECAR_BENCH_DOCKER_WAIT_S:-120}"
log="${SIDECAR_BENCH_DOCKERD_LOG:-/var/log/sidecar-bench-dockerd.log}"
docker_cli=/usr/bin/docker
started_at=$(date +%s)
say() { echo "start-docker: $*" >&2; }

if [ ! -x /usr/sbin/dockerd ] || [ ! -x "$docker_cli" ] || ! command -v debootstrap >/dev/null; then
  say "installing docker.io and debootstrap (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
fi

if "$docker_cli" info >/dev/null 2>&1; then
  say "engine already running ($("$docker_cli" info --format '{{.ServerVersion}}, {{.Driver}}'))"
  exit 0
fi

# overlay2 needs a kernel overlay filesystem over a supported backing fs; VMs
# without it fall back to vfs (slow copies, but it always works).
driver="${SIDECAR_BENCH_DOCKER_STORAGE_DRIVER:-}"
if [ -z "$driver" ]; then
  if grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null; then driver=overlay2; else driver=vfs; fi
fi

say "starting dockerd (storage driver $driver, ports by kernel NAT, log $log)"
# setsid: the daemon must outlive this script and the CI step that called it.
# --userland-proxy=false: published ports go through the kernel's NAT instead of a
# docker-proxy process per port, which adds some 0.1 ms to every request (README).
setsid /usr/sbin/dockerd --storage-driver="$driver" --userland-proxy=false >>"$log" 2>&1 < /dev/null &

until "$docker_cli" info >/dev/null 2>&1; do
  if [ $(( $(date +%s) - started_at )) -ge "$wait_s" ]; then
    say "dockerd did not answer within ${wait_s} s; last lines of $log:"
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
  sleep 0.5
done
say "engine ready after $(( $(date +%s) - started_at )) s ($("$docker_cli" info --format '{{.ServerVersion}}, {{.Driver}}, cgroup v{{.CgroupVersion}}'))"
