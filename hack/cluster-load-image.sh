#!/usr/bin/env bash
# Usage: cluster-load-image.sh IMAGE...
#
# Copies images from the local Docker engine into the containerd of the
# cluster that hack/cluster-up.sh started, as `kind load docker-image` does
# for kind. Pods then run them without a pull; give them a tag other than
# "latest" (or imagePullPolicy: IfNotPresent), because nothing can be pulled.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster/lib.sh"

main() {
  require_root "cluster-load-image"
  (($# > 0)) || die "no image given: pass one or more image references, e.g. make cluster-load IMAGES=\"thumbnailer-api:dev\""
  [[ -S "${CONTAINERD_SOCKET}" ]] || die "the cluster's containerd socket ${CONTAINERD_SOCKET} is missing: run make cluster-up first"
  if [[ -x "${REPO_ROOT}/hack/docker-up.sh" ]]; then
    "${REPO_ROOT}/hack/docker-up.sh"
  fi

  local image
  for image in "$@"; do
    docker image inspect "${image}" >/dev/null 2>&1 ||
      die "image ${image} not found in the local Docker engine: build it first (docker build -t ${image} ...)"
  done
  for image in "$@"; do
    log "loading ${image} into the cluster"
    docker save "${image}" | ctr --address "${CONTAINERD_SOCKET}" --namespace k8s.io images import - >/dev/null
  done
  log "loaded $# image(s)"
}

main "$@"
