#!/usr/bin/env bash
# make down: uninstalls the release, removes the Jobs the API made, the data
# claim and the namespace, and deletes the kind cluster only when `make up`
# created it. Safe to run twice.
#
# Environment: CLUSTER, KIND_CLUSTER, NAMESPACE and RELEASE as for hack/up.sh.
set -euo pipefail

# shellcheck source=hack/install-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-env.sh"

main() {
  case "${CLUSTER}" in
    kind) kubectl config use-context "kind-${KIND_CLUSTER}" >/dev/null 2>&1 || true ;;
    local) export KUBECONFIG="${LOCAL_KUBECONFIG}" ;;
  esac

  if kubectl get namespace "${NAMESPACE}" >/dev/null 2>&1; then
    local helm
    helm="$("${ROOT}/hack/helm-path.sh")/helm"
    log "uninstalling release ${RELEASE} from ${NAMESPACE}"
    "${helm}" uninstall "${RELEASE}" --namespace "${NAMESPACE}" --wait 2>/dev/null || true
    log "removing the Jobs the API made and the data claim"
    kubectl --namespace "${NAMESPACE}" delete jobs --ignore-not-found \
      -l "app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=runner"
    kubectl --namespace "${NAMESPACE}" delete pvc --ignore-not-found "${RELEASE}-data"
    log "deleting the namespace ${NAMESPACE}"
    kubectl delete namespace "${NAMESPACE}" --ignore-not-found --wait=true
  fi

  if [[ "${CLUSTER}" == kind && -f "${STATE_DIR}/kind-${KIND_CLUSTER}" ]]; then
    log "deleting the kind cluster ${KIND_CLUSTER}, which make up created"
    kind delete cluster --name "${KIND_CLUSTER}"
    rm -f "${STATE_DIR}/kind-${KIND_CLUSTER}"
  fi
}

main "$@"
