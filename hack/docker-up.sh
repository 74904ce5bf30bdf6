#!/usr/bin/env bash
# Starts the Docker daemon in the background unless one already responds, and
# waits until it does. Safe to run twice, also at the same time: a lock keeps
# a second caller from starting a second daemon. It never stops a daemon.
#
# Environment:
#   DOCKERD_LOG         where the daemon's output goes (default /tmp/dockerd.log)
#   DOCKER_UP_TIMEOUT_S how long to wait for the daemon, in seconds (default 90)
set -euo pipefail

readonly DOCKERD_LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
readonly DOCKER_UP_TIMEOUT_S="${DOCKER_UP_TIMEOUT_S:-90}"
readonly LOCK_FILE="${TMPDIR:-/tmp}/thumbnailer-docker-up.lock"
readonly PID_FILE="/var/run/docker.pid"

daemon_responds() {
  docker info >/dev/null 2>&1
}

daemon_process_running() {
  [[ -s "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null
}

start_daemon() {
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "dockerd not found: install Docker first (on Debian: apt-get install -y docker.io)" >&2
    exit 1
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "the Docker daemon does not respond, and only root can start it: start it with your service manager (systemctl start docker)" >&2
    exit 1
  fi
  echo "starting dockerd, log in ${DOCKERD_LOG}" >&2
  # setsid detaches the daemon from this script's process group, so it outlives
  # the shell or make target that started it.
  setsid dockerd >>"${DOCKERD_LOG}" 2>&1 </dev/null 9>&- &
}

wait_for_daemon() {
  local deadline=$((SECONDS + DOCKER_UP_TIMEOUT_S))
  until daemon_responds; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${DOCKER_UP_TIMEOUT_S}s waiting for the Docker daemon. Last lines of ${DOCKERD_LOG}:" >&2
      tail -n 20 "${DOCKERD_LOG}" >&2 || true
      exit 1
    fi
    sleep 1
  done
}

main() {
  if daemon_responds; then
    return
  fi

  exec 9>"${LOCK_FILE}"
  flock -w "${DOCKER_UP_TIMEOUT_S}" 9
  # Another caller may have started the daemon while this one waited for the lock.
  if ! daemon_responds && ! daemon_process_running; then
    start_daemon
  fi
  wait_for_daemon
}

main "$@"
