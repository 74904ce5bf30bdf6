# shellcheck shell=bash
# Settings and helpers shared by the cluster scripts. Sourced, never run.
#
# Every address below exists only on this machine. The node address is on a
# bridge without ports that cluster-up creates. The pod range lives on the CNI
# bridge and in the pods' network namespaces, and the Service range only in
# kube-proxy's NAT rules.

# shellcheck disable=SC2034 # the scripts that source this file use the names.

readonly KUBE_VERSION="v1.35.4"
readonly ETCD_VERSION="v3.6.6"
readonly COREDNS_VERSION="v1.13.1"
readonly LOCAL_PATH_VERSION="v0.0.30"
readonly CRICTL_VERSION="v1.34.0"
readonly PAUSE_VERSION="3.10.1-thumbnailer"

CLUSTER_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly CLUSTER_LIB_DIR
readonly REPO_ROOT="${CLUSTER_LIB_DIR%/hack/cluster}"

readonly CACHE_ROOT="${THUMBNAILER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thumbnailer}"
# The state of a running cluster: certificates, configuration, logs and the
# admin kubeconfig. cluster-down deletes this folder.
readonly CLUSTER_DIR="${CACHE_ROOT}/cluster"
readonly CLUSTER_KUBECONFIG="${CLUSTER_DIR}/kubeconfig"
# Data that must live on the machine's root file system (containerd's
# snapshots, the kubelet's pod folders, the volumes of claims) and that
# cluster-down deletes as well.
readonly NODE_DATA_DIR="/var/lib/thumbnailer-cluster"
readonly RUN_DIR="/run/thumbnailer-cluster"
readonly CONTAINERD_SOCKET="${RUN_DIR}/containerd/containerd.sock"

readonly NODE_NAME="thumbnailer-node"
# The node's own address, on the bridge NODE_LINK that has no ports. The
# bridge replaces a dummy interface, which this machine's kernel lacks.
readonly NODE_LINK="thumbnode0"
readonly NODE_IP="10.200.0.1"
readonly POD_BRIDGE="thumbpods0"
readonly POD_CIDR="10.244.0.0/24"
readonly POD_GATEWAY="10.244.0.1"
readonly SERVICE_CIDR="10.96.0.0/16"
readonly KUBERNETES_SERVICE_IP="10.96.0.1"
readonly DNS_SERVICE_IP="10.96.0.10"
readonly CLUSTER_DOMAIN="cluster.local"
readonly APISERVER_PORT=6443
readonly ETCD_CLIENT_URL="http://127.0.0.1:2379"
readonly ETCD_PEER_URL="http://127.0.0.1:2380"
# The iptables chain that keeps everything the cluster sends on this machine.
readonly EGRESS_CHAIN="THUMB-CLUSTER-EGRESS"

# Images the cluster runs. None can be pulled, so build-images.sh builds each
# one from local files and cluster-up imports it into containerd.
readonly IMAGE_PREFIX="localhost/thumbnailer-cluster"
readonly PAUSE_IMAGE="${IMAGE_PREFIX}/pause:${PAUSE_VERSION}"
readonly COREDNS_IMAGE="${IMAGE_PREFIX}/coredns:${COREDNS_VERSION}"
readonly LOCAL_PATH_IMAGE="${IMAGE_PREFIX}/local-path-provisioner:${LOCAL_PATH_VERSION}"
# Not "latest": a pod with a "latest" image always tries to pull it.
readonly BUSYBOX_IMAGE="${IMAGE_PREFIX}/busybox:1.35.0"

GO_VERSION="$(go env GOVERSION 2>/dev/null || echo go-missing)"
readonly GO_VERSION
# Built binaries and images, keyed by component version and Go version, so a
# second cluster-up skips the build. cluster-down leaves them alone.
readonly K8S_BIN_DIR="${CACHE_ROOT}/k8s-${KUBE_VERSION}-${GO_VERSION}/bin"
readonly ETCD_BIN_DIR="${CACHE_ROOT}/etcd-${ETCD_VERSION}-${GO_VERSION}/bin"
readonly COREDNS_BIN_DIR="${CACHE_ROOT}/coredns-${COREDNS_VERSION}-${GO_VERSION}/bin"
readonly LOCAL_PATH_BIN_DIR="${CACHE_ROOT}/local-path-provisioner-${LOCAL_PATH_VERSION}-${GO_VERSION}/bin"
readonly CRICTL_BIN_DIR="${CACHE_ROOT}/crictl-${CRICTL_VERSION}-${GO_VERSION}/bin"
readonly PAUSE_BIN_DIR="${CACHE_ROOT}/pause-${PAUSE_VERSION}-${GO_VERSION}/bin"
# OCI image archives, one per image, rebuilt when a binary in them changes.
readonly IMAGES_DIR="${CACHE_ROOT}/cluster-images"

log() {
  printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

require_root() {
  [[ "$(id -u)" -eq 0 ]] || die "$1 needs root: it starts containerd and the kubelet, and changes network links and iptables rules"
}

# Lets one cluster-up or cluster-down run at a time. The lock is on this
# folder, so no lock file is left behind. A script that runs another one
# while it holds the lock sets CLUSTER_LOCK_HELD=1 for it.
acquire_cluster_lock() {
  [[ "${CLUSTER_LOCK_HELD:-}" == 1 ]] && return
  exec 9<"${CLUSTER_LIB_DIR}"
  if ! flock -n 9; then
    log "waiting for another cluster-up or cluster-down to finish"
    flock 9
  fi
}

# Runs the kubectl that build.sh built, against this cluster unless the
# caller set KUBECONFIG.
kctl() {
  KUBECONFIG="${KUBECONFIG:-${CLUSTER_KUBECONFIG}}" "${K8S_BIN_DIR}/kubectl" "$@"
}

# Waits until the command in "$@" succeeds, trying once a second for at most
# $1 seconds (the rest of the arguments are the command).
wait_until() {
  local timeout_s="$1"
  shift
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 1
  done
}

# Folders that the kubelet, containerd's CNI library or the controller
# manager make at fixed paths outside NODE_DATA_DIR. cluster-up records which
# of them did not exist before, and cluster-down removes those.
readonly HOST_PATHS_MADE_BY_COMPONENTS=(/var/lib/kubelet /var/lib/cni /usr/libexec/kubernetes /var/log/containers)
readonly HOST_PATHS_FILE="${RUN_DIR}/host-paths-made"
# The iptables tables (per address family) that existed before cluster-up.
readonly TABLES_BEFORE_FILE="${RUN_DIR}/iptables-tables-before"

readonly PID_DIR="${RUN_DIR}/pids"
readonly LOG_DIR="${CLUSTER_DIR}/logs"

# Prints the process id recorded for component $1 when that process still
# runs the component's binary; prints nothing otherwise.
component_pid() {
  local name="$1" pid_file="${PID_DIR}/$1.pid" pid binary
  [[ -s "${pid_file}" ]] || return 0
  pid="$(cat "${pid_file}")"
  binary="$(cat "${PID_DIR}/${name}.binary" 2>/dev/null || true)"
  # A recycled process id runs another program: compare the executable.
  if [[ -n "${binary}" && "$(readlink "/proc/${pid}/exe" 2>/dev/null)" == "${binary}" ]]; then
    echo "${pid}"
  fi
}

# Starts component $1 from binary $2 with arguments "${@:3}" in its own
# session, with its output in LOG_DIR, unless it already runs.
start_component() {
  local name="$1" binary="$2"
  shift 2
  if [[ -n "$(component_pid "${name}")" ]]; then
    log "${name} is already running"
    return
  fi
  mkdir -p "${PID_DIR}" "${LOG_DIR}"
  log "starting ${name}, log in ${LOG_DIR}/${name}.log"
  # The component must not inherit the cluster lock (file descriptor 9).
  setsid "${binary}" "$@" >>"${LOG_DIR}/${name}.log" 2>&1 </dev/null 9<&- &
  echo "$!" >"${PID_DIR}/${name}.pid"
  readlink -f "${binary}" >"${PID_DIR}/${name}.binary"
}

# Stops component $1: SIGTERM, then SIGKILL after $2 seconds (default 20).
stop_component() {
  local name="$1" grace_s="${2:-20}" pid
  pid="$(component_pid "${name}")"
  if [[ -n "${pid}" ]]; then
    log "stopping ${name} (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    if ! wait_until "${grace_s}" bash -c "! kill -0 ${pid}"; then
      log "${name} did not stop within ${grace_s}s; killing it"
      kill -KILL "${pid}" 2>/dev/null || true
      wait_until 5 bash -c "! kill -0 ${pid}" || true
    fi
  fi
  rm -f "${PID_DIR}/${name}.pid" "${PID_DIR}/${name}.binary"
}
