#!/usr/bin/env bash
# make e2e: builds the images and loads them into a real cluster. Then it
# installs the chart into a new namespace that enforces Pod Security
# "restricted" and runs the end-to-end suite (e2e/*.test.ts) through the
# Service. When the suite fails it saves the objects, events and logs. At the
# end it removes what it made.
#
# Environment:
#   E2E_CLUSTER   local: the cluster of `make cluster-up` on this machine
#                 kind: the kind cluster E2E_KIND_CLUSTER, created (and deleted
#                 afterwards) when it does not exist
#                 current: kubectl's current context (KUBECONFIG); the images
#                 must be pullable there (REGISTRY)
#                 Default: local when that cluster is up, else kind.
#   E2E_KIND_CLUSTER  default thumbnailer-e2e
#   E2E_ARTIFACTS     where a failed run saves objects and logs
#                     (default /tmp/thumbnailer-e2e-<time>)
#   E2E_KEEP          1: leave the namespace in place after the run
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly RELEASE="thumbnailer"
NAMESPACE="thumbnailer-e2e-$(date -u +%H%M%S)"
readonly NAMESPACE
readonly E2E_KIND_CLUSTER="${E2E_KIND_CLUSTER:-thumbnailer-e2e}"
E2E_ARTIFACTS="${E2E_ARTIFACTS:-/tmp/thumbnailer-e2e-$(date -u +%Y%m%dT%H%M%SZ)}"
readonly E2E_ARTIFACTS

# The local cluster's paths (CLUSTER_KUBECONFIG, K8S_BIN_DIR); its log and
# die are replaced below.
# shellcheck source=hack/cluster/lib.sh
source "${ROOT}/hack/cluster/lib.sh"

CREATED_KIND=0
NAMESPACE_MADE=0
CLEANED=0

log() {
  printf '%s e2e: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

choose_cluster() {
  local cluster="${E2E_CLUSTER:-}"
  if [[ -z "${cluster}" ]]; then
    if [[ -s "${CLUSTER_KUBECONFIG}" ]]; then cluster=local; else cluster=kind; fi
  fi
  E2E_CLUSTER="${cluster}"

  case "${cluster}" in
    local)
      [[ -s "${CLUSTER_KUBECONFIG}" ]] || die "no local cluster: run make cluster-up first"
      export KUBECONFIG="${CLUSTER_KUBECONFIG}"
      export PATH="${K8S_BIN_DIR}:${PATH}"
      ;;
    kind)
      command -v kind >/dev/null 2>&1 || die "kind is not installed: install kind, or run make cluster-up, or set E2E_CLUSTER=current"
      if ! kind get clusters 2>/dev/null | grep -qx "${E2E_KIND_CLUSTER}"; then
        log "creating the kind cluster ${E2E_KIND_CLUSTER}"
        kind create cluster --name "${E2E_KIND_CLUSTER}" --wait 120s
        CREATED_KIND=1
      fi
      kubectl config use-context "kind-${E2E_KIND_CLUSTER}" >/dev/null
      ;;
    current) ;;
    *) die "E2E_CLUSTER must be local, kind or current, got \"${cluster}\"" ;;
  esac
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not installed"
  export KUBECTL
  KUBECTL="$(command -v kubectl)"
  log "cluster: ${E2E_CLUSTER}, server $(kubectl version -o json | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p' | tail -1)"
}

load_images() {
  local -a images
  read -r -a images <<<"$("${ROOT}/hack/images.sh" names)"
  case "${E2E_CLUSTER}" in
    local) "${ROOT}/hack/cluster-load-image.sh" "${images[@]}" ;;
    kind) kind load docker-image --name "${E2E_KIND_CLUSTER}" "${images[@]}" ;;
    current) log "not loading images: the nodes pull them" ;;
  esac
}

install_chart() {
  kubectl create namespace "${NAMESPACE}"
  NAMESPACE_MADE=1
  kubectl label namespace "${NAMESPACE}" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest
  log "installing the chart into ${NAMESPACE} with its default values"
  helm install "${RELEASE}" "${ROOT}/chart" --namespace "${NAMESPACE}" --wait --timeout 5m
}

save_artifacts() {
  log "saving objects, events and logs to ${E2E_ARTIFACTS}"
  mkdir -p "${E2E_ARTIFACTS}"
  local ns=(--namespace "${NAMESPACE}")
  kubectl "${ns[@]}" get all,pvc,configmaps,networkpolicies,roles,rolebindings,leases -o yaml >"${E2E_ARTIFACTS}/objects.yaml" 2>&1 || true
  kubectl "${ns[@]}" get events --sort-by=.lastTimestamp >"${E2E_ARTIFACTS}/events.txt" 2>&1 || true
  kubectl "${ns[@]}" logs "deploy/${RELEASE}" --all-containers --tail=-1 >"${E2E_ARTIFACTS}/api.log" 2>&1 || true
  kubectl "${ns[@]}" logs "deploy/${RELEASE}" --all-containers --previous >"${E2E_ARTIFACTS}/api-previous.log" 2>&1 || true
  local pod
  for pod in $(kubectl "${ns[@]}" get pods -l app.kubernetes.io/component=runner -o name 2>/dev/null | tail -20); do
    kubectl "${ns[@]}" logs "${pod}" >"${E2E_ARTIFACTS}/runner-${pod#pod/}.log" 2>&1 || true
  done
  kubectl get nodes -o wide >"${E2E_ARTIFACTS}/nodes.txt" 2>&1 || true
}

cleanup() {
  if ((CLEANED)); then return; fi
  CLEANED=1
  if ((NAMESPACE_MADE)) && [[ "${E2E_KEEP:-0}" != 1 ]]; then
    log "removing the namespace ${NAMESPACE}"
    helm uninstall "${RELEASE}" --namespace "${NAMESPACE}" --wait >/dev/null 2>&1 || true
    kubectl --namespace "${NAMESPACE}" delete jobs,pvc --all --ignore-not-found --wait=false >/dev/null 2>&1 || true
    kubectl delete namespace "${NAMESPACE}" --ignore-not-found --timeout=120s >/dev/null 2>&1 || true
  fi
  if ((CREATED_KIND)); then
    log "deleting the kind cluster ${E2E_KIND_CLUSTER}, which this run created"
    kind delete cluster --name "${E2E_KIND_CLUSTER}" || true
  fi
}

main() {
  local started=${SECONDS} status=0
  local node_dir helm_dir
  node_dir="$("${ROOT}/hack/node-path.sh")"
  helm_dir="$("${ROOT}/hack/helm-path.sh")"
  export PATH="${node_dir}:${helm_dir}:${PATH}"
  export HELM
  HELM="$(command -v helm)"
  choose_cluster
  trap cleanup EXIT

  make -C "${ROOT}" images
  load_images
  install_chart

  log "running the end-to-end suite"
  (
    cd "${ROOT}"
    E2E_NAMESPACE="${NAMESPACE}" E2E_RELEASE="${RELEASE}" E2E_REPO_ROOT="${ROOT}" \
      npx mocha --no-config --node-option import=tsx --timeout 600000 'e2e/**/*.test.ts'
  ) || status=$?

  if ((status != 0)); then
    save_artifacts
  fi
  cleanup
  log "finished in $((SECONDS - started)) s with status ${status}"
  return "${status}"
}

main "$@"
