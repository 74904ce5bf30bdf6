#!/usr/bin/env bash
# Starts a single-node Kubernetes cluster on this machine, built from the
# package registries only: Kubernetes and etcd from the Go module proxy,
# containerd, runc and the CNI plugins from Debian. See hack/cluster/lib.sh
# for the versions, addresses and folders.
#
# The first run installs the Debian packages and builds every binary and
# image into the cache, which takes about 15 minutes on 2 cores. Later runs
# start in seconds. Safe to run while the cluster is up: what runs is left running,
# and the add-ons are applied again. `make cluster-down` removes everything.
#
# Prints the path of the admin kubeconfig at the end.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster/lib.sh"
# shellcheck source=hack/cluster/configs.sh
source "${CLUSTER_LIB_DIR}/configs.sh"
# shellcheck source=hack/cluster/network.sh
source "${CLUSTER_LIB_DIR}/network.sh"
# shellcheck source=hack/cluster/host-state.sh
source "${CLUSTER_LIB_DIR}/host-state.sh"

# The checks below talk to this cluster whatever KUBECONFIG the caller has.
export KUBECONFIG="${CLUSTER_KUBECONFIG}"

readonly PKI="${CLUSTER_DIR}/pki"
readonly APISERVER_URL="https://${NODE_IP}:${APISERVER_PORT}"
readonly START_TIMEOUT_S="${CLUSTER_START_TIMEOUT_S:-180}"

# Prints the last lines of the log of component $1 and stops the script.
fail_component() {
  local name="$1" message="$2"
  log "${message}; last lines of ${LOG_DIR}/${name}.log:"
  tail -n 30 "${LOG_DIR}/${name}.log" >&2 || true
  die "${name} did not start: the processes started so far keep running, and 'make cluster-down' removes them"
}

ctr_k8s() {
  ctr --address "${CONTAINERD_SOCKET}" --namespace k8s.io "$@"
}

start_containerd() {
  start_component containerd /usr/bin/containerd --config "${CONTAINERD_CONFIG}"
  wait_until "${START_TIMEOUT_S}" ctr_k8s version ||
    fail_component containerd "containerd does not answer on ${CONTAINERD_SOCKET}"
}

import_images() {
  local archive
  for archive in "${IMAGES_DIR}"/*.tar; do
    ctr_k8s images import "${archive}" >/dev/null
  done
  log "imported $(find "${IMAGES_DIR}" -name '*.tar' | wc -l) images into containerd"
}

start_etcd() {
  start_component etcd "${ETCD_BIN_DIR}/etcd" \
    --name "${NODE_NAME}" \
    --data-dir "${NODE_DATA_DIR}/etcd" \
    --listen-client-urls "${ETCD_CLIENT_URL}" \
    --advertise-client-urls "${ETCD_CLIENT_URL}" \
    --listen-peer-urls "${ETCD_PEER_URL}" \
    --initial-advertise-peer-urls "${ETCD_PEER_URL}" \
    --initial-cluster "${NODE_NAME}=${ETCD_PEER_URL}" \
    --listen-metrics-urls http://127.0.0.1:2381 \
    --log-level warn
  wait_until "${START_TIMEOUT_S}" curl -fsS "${ETCD_CLIENT_URL}/health" ||
    fail_component etcd "etcd is not healthy on ${ETCD_CLIENT_URL}"
}

start_apiserver() {
  start_component kube-apiserver "${K8S_BIN_DIR}/kube-apiserver" \
    --advertise-address "${NODE_IP}" \
    --bind-address "${NODE_IP}" \
    --secure-port "${APISERVER_PORT}" \
    --etcd-servers "${ETCD_CLIENT_URL}" \
    --service-cluster-ip-range "${SERVICE_CIDR}" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction \
    --allow-privileged=true \
    --client-ca-file "${PKI}/ca.crt" \
    --tls-cert-file "${PKI}/apiserver.crt" \
    --tls-private-key-file "${PKI}/apiserver.key" \
    --kubelet-certificate-authority "${PKI}/ca.crt" \
    --kubelet-client-certificate "${PKI}/apiserver-kubelet-client.crt" \
    --kubelet-client-key "${PKI}/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "https://kubernetes.default.svc.${CLUSTER_DOMAIN}" \
    --service-account-key-file "${PKI}/sa.pub" \
    --service-account-signing-key-file "${PKI}/sa.key" \
    --profiling=false
  wait_until "${START_TIMEOUT_S}" kctl get --raw /readyz ||
    fail_component kube-apiserver "the API server is not ready at ${APISERVER_URL}"
}

start_controller_manager() {
  local kubeconfig="${CLUSTER_DIR}/controller-manager.kubeconfig"
  start_component kube-controller-manager "${K8S_BIN_DIR}/kube-controller-manager" \
    --kubeconfig "${kubeconfig}" \
    --authentication-kubeconfig "${kubeconfig}" \
    --authorization-kubeconfig "${kubeconfig}" \
    --bind-address 127.0.0.1 \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file "${PKI}/sa.key" \
    --root-ca-file "${PKI}/ca.crt" \
    --cluster-signing-cert-file "${PKI}/ca.crt" \
    --cluster-signing-key-file "${PKI}/ca.key" \
    --service-cluster-ip-range "${SERVICE_CIDR}" \
    --flex-volume-plugin-dir "${NODE_DATA_DIR}/kubelet-plugins" \
    --profiling=false
  wait_until "${START_TIMEOUT_S}" curl -fsSk https://127.0.0.1:10257/healthz ||
    fail_component kube-controller-manager "kube-controller-manager is not healthy"
}

start_scheduler() {
  local kubeconfig="${CLUSTER_DIR}/scheduler.kubeconfig"
  start_component kube-scheduler "${K8S_BIN_DIR}/kube-scheduler" \
    --kubeconfig "${kubeconfig}" \
    --authentication-kubeconfig "${kubeconfig}" \
    --authorization-kubeconfig "${kubeconfig}" \
    --bind-address 127.0.0.1 \
    --leader-elect=false \
    --profiling=false
  wait_until "${START_TIMEOUT_S}" curl -fsSk https://127.0.0.1:10259/healthz ||
    fail_component kube-scheduler "kube-scheduler is not healthy"
}

# kube-proxy reads the node's address from its Node object, so it starts
# after the kubelet registered the node.
start_kube_proxy() {
  start_component kube-proxy "${K8S_BIN_DIR}/kube-proxy" --config "${KUBE_PROXY_CONFIG}"
  wait_until "${START_TIMEOUT_S}" curl -fsS http://127.0.0.1:10256/healthz ||
    fail_component kube-proxy "kube-proxy is not healthy"
  wait_until "${START_TIMEOUT_S}" node_ready ||
    fail_component kubelet "node ${NODE_NAME} is not Ready"
}

node_registered() {
  kctl get node "${NODE_NAME}"
}

node_ready() {
  [[ "$(kctl get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

start_kubelet() {
  mkdir -p "${KUBELET_ROOT_DIR}"
  start_component kubelet "${K8S_BIN_DIR}/kubelet" \
    --config "${KUBELET_CONFIG}" \
    --kubeconfig "${CLUSTER_DIR}/kubelet.kubeconfig" \
    --root-dir "${KUBELET_ROOT_DIR}" \
    --hostname-override "${NODE_NAME}" \
    --node-ip "${NODE_IP}"
  wait_until "${START_TIMEOUT_S}" node_registered ||
    fail_component kubelet "node ${NODE_NAME} did not register"
}

# Prints manifest $1 with its @NAME@ placeholders filled in.
render_manifest() {
  sed -e "s|@CLUSTER_DOMAIN@|${CLUSTER_DOMAIN}|g" \
    -e "s|@DNS_SERVICE_IP@|${DNS_SERVICE_IP}|g" \
    -e "s|@COREDNS_IMAGE@|${COREDNS_IMAGE}|g" \
    -e "s|@LOCAL_PATH_IMAGE@|${LOCAL_PATH_IMAGE}|g" \
    -e "s|@BUSYBOX_IMAGE@|${BUSYBOX_IMAGE}|g" \
    -e "s|@LOCAL_PATH_DIR@|${NODE_DATA_DIR}/local-path|g" \
    "$1"
}

apply_addons() {
  local manifest
  for manifest in coredns local-path; do
    render_manifest "${CLUSTER_LIB_DIR}/manifests/${manifest}.yaml" | kctl apply -f - >/dev/null
  done
  log "applied the add-ons: CoreDNS, local-path-provisioner and the default StorageClass"
  kctl -n kube-system rollout status deployment/coredns --timeout "${START_TIMEOUT_S}s" >/dev/null
  kctl -n local-path-storage rollout status deployment/local-path-provisioner --timeout "${START_TIMEOUT_S}s" >/dev/null
  # Pods in a new namespace wait for its default ServiceAccount.
  wait_until "${START_TIMEOUT_S}" kctl -n default get serviceaccount default ||
    die "the ServiceAccount controller made no default ServiceAccount"
}

readonly COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

# Succeeds when an earlier cluster left state behind but none of its
# processes runs any more (they were killed, or the machine restarted).
stale_cluster() {
  [[ -d "${NODE_DATA_DIR}" || -d "${CLUSTER_DIR}/pki" ]] || return 1
  local name
  for name in "${COMPONENTS[@]}"; do
    [[ -z "$(component_pid "${name}")" ]] || return 1
  done
}

main() {
  require_root "cluster-up"
  local started=${SECONDS}
  acquire_cluster_lock

  if stale_cluster; then
    log "found the state of a cluster whose processes are gone; removing it first"
    CLUSTER_LOCK_HELD=1 "${REPO_ROOT}/hack/cluster-down.sh"
  fi

  "${CLUSTER_LIB_DIR}/install-packages.sh"
  "${CLUSTER_LIB_DIR}/build.sh"
  "${CLUSTER_LIB_DIR}/build-images.sh"

  mkdir -p "${CLUSTER_DIR}" "${NODE_DATA_DIR}" "${RUN_DIR}" "${LOG_DIR}"
  "${CLUSTER_LIB_DIR}/certs.sh"
  write_containerd_config
  write_cni_config
  write_kubelet_config
  write_kube_proxy_config
  record_host_state
  network_up

  start_containerd
  import_images
  start_etcd
  start_apiserver
  start_controller_manager
  start_scheduler
  start_kubelet
  start_kube_proxy
  apply_addons

  log "cluster ${KUBE_VERSION} is up after $((SECONDS - started))s"
  echo "KUBECONFIG=${CLUSTER_KUBECONFIG}"
  echo "kubectl: ${K8S_BIN_DIR}/kubectl"
}

main "$@"
