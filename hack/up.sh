#!/usr/bin/env bash
# make up: a cluster if there is none, the images, loaded into it, the
# namespace labelled to enforce Pod Security "restricted", and the chart
# installed and ready.
#
# Environment:
#   CLUSTER       kind (default): use or create the kind cluster KIND_CLUSTER
#                 local: the cluster of `make cluster-up` on this machine
#                 current: kubectl's current context; images must already be
#                 reachable by its nodes (make push, image.registry)
#   KIND_CLUSTER  kind cluster name (default thumbnailer)
#   NAMESPACE     namespace to install into (default thumbnails)
#   RELEASE       Helm release name (default thumbnailer)
#   HELM_ARGS     extra arguments for helm upgrade --install, e.g. "--set jobs.maxRunning=4"
set -euo pipefail

# shellcheck source=hack/install-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-env.sh"

die() {
  echo "up: $*" >&2
  exit 1
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

prepare_cluster() {
  case "${CLUSTER}" in
    kind)
      require kind "install kind (https://kind.sigs.k8s.io), or use CLUSTER=current with a cluster of your own"
      if kind get clusters 2>/dev/null | grep -qx "${KIND_CLUSTER}"; then
        log "using the existing kind cluster ${KIND_CLUSTER}"
      else
        log "creating the kind cluster ${KIND_CLUSTER}"
        kind create cluster --name "${KIND_CLUSTER}" --wait 120s
        # Remember that this script made it, so `make down` deletes only what `make up` created.
        mkdir -p "${STATE_DIR}"
        touch "${STATE_DIR}/kind-${KIND_CLUSTER}"
      fi
      kubectl config use-context "kind-${KIND_CLUSTER}" >/dev/null
      ;;
    local)
      make -C "${ROOT}" cluster-up
      export KUBECONFIG="${LOCAL_KUBECONFIG}"
      ;;
    current)
      log "using kubectl's current context: $(kubectl config current-context)"
      ;;
    *)
      die "CLUSTER must be kind, local or current, got \"${CLUSTER}\""
      ;;
  esac
}

load_images() {
  case "${CLUSTER}" in
    kind) make -C "${ROOT}" kind-load KIND_CLUSTER="${KIND_CLUSTER}" ;;
    local)
      # shellcheck disable=SC2046 # two image references, split on purpose.
      "${ROOT}/hack/cluster-load-image.sh" $("${ROOT}/hack/images.sh" names)
      ;;
    current) log "not loading images: the nodes pull them from image.registry" ;;
  esac
}

prepare_namespace() {
  if ! kubectl get namespace "${NAMESPACE}" >/dev/null 2>&1; then
    log "creating the namespace ${NAMESPACE}"
    kubectl create namespace "${NAMESPACE}"
  fi
  kubectl label namespace "${NAMESPACE}" --overwrite \
    pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest >/dev/null
}

install_chart() {
  local helm
  helm="$("${ROOT}/hack/helm-path.sh")/helm"
  log "installing the chart as release ${RELEASE} in ${NAMESPACE}"
  # shellcheck disable=SC2086 # HELM_ARGS is a list of arguments on purpose.
  "${helm}" upgrade --install "${RELEASE}" "${ROOT}/chart" --namespace "${NAMESPACE}" \
    --wait --timeout 5m ${HELM_ARGS:-}
}

main() {
  require kubectl "install kubectl 1.30 or later"
  require docker "install Docker 20.10 or later"
  prepare_cluster
  make -C "${ROOT}" images
  load_images
  prepare_namespace
  install_chart
  log "Thumbnailer is ready. Reach it with:"
  echo "  kubectl --namespace ${NAMESPACE} port-forward service/${RELEASE} 8080:80"
  echo "  curl -F image=@emoji.png http://localhost:8080/v1/jobs"
}

main "$@"
