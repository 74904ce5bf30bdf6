#!/usr/bin/env bash
# Stops the cluster that hack/cluster-up.sh started and removes everything it
# made: pods and their network namespaces, processes, mounts, cgroups, network
# links, iptables rules, kernel settings, and files. Built binaries and
# images stay in the cache. Safe to run twice, and when no cluster is up.
#
# Environment:
#   CLUSTER_LOGS_DEST  a folder to copy the components' logs into before they
#                      are deleted (default: none, the logs are deleted)
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster/lib.sh"
# shellcheck source=hack/cluster/configs.sh
source "${CLUSTER_LIB_DIR}/configs.sh"
# shellcheck source=hack/cluster/network.sh
source "${CLUSTER_LIB_DIR}/network.sh"
# shellcheck source=hack/cluster/host-state.sh
source "${CLUSTER_LIB_DIR}/host-state.sh"

readonly CRICTL_CONFIG="${RUN_DIR}/crictl.yaml"

crictl_node() {
  if [[ ! -f "${CRICTL_CONFIG}" ]]; then
    mkdir -p "${RUN_DIR}"
    printf 'runtime-endpoint: unix://%s\ntimeout: 30\n' "${CONTAINERD_SOCKET}" >"${CRICTL_CONFIG}"
  fi
  "${CRICTL_BIN_DIR}/crictl" --config "${CRICTL_CONFIG}" "$@"
}

# Stops and removes every pod sandbox through the CRI, so that containerd
# runs the CNI plugins' DEL and deletes each pod's network namespace. When
# containerd is down but left state behind, it is started again for this.
remove_pods() {
  [[ -d "${NODE_DATA_DIR}/containerd" ]] || return 0
  [[ -x "${CRICTL_BIN_DIR}/crictl" ]] || {
    log "crictl is not built; pods are removed without the CNI plugins' help"
    return 0
  }
  if [[ -z "$(component_pid containerd)" && -f "${CONTAINERD_CONFIG}" ]]; then
    start_component containerd /usr/bin/containerd --config "${CONTAINERD_CONFIG}"
    wait_until 30 crictl_node version || log "containerd did not answer; continuing without it"
  fi
  local pods
  pods="$(crictl_node pods -q 2>/dev/null || true)"
  if [[ -n "${pods}" ]]; then
    log "removing $(wc -l <<<"${pods}") pods"
    # shellcheck disable=SC2086 # one argument per pod id.
    crictl_node stopp ${pods} >/dev/null || true
    # shellcheck disable=SC2086
    crictl_node rmp --force ${pods} >/dev/null || true
  fi
}

# Kills the containerd shims (and so their containers) that the cluster's
# containerd started: each names the cluster's containerd socket in its
# command line. Docker's containerd and its shims are left alone.
kill_leftover_shims() {
  local proc pid
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    if tr '\0' ' ' <"${proc}/cmdline" 2>/dev/null | grep -qF -- "-address ${CONTAINERD_SOCKET} "; then
      log "killing leftover containerd shim ${pid}"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  done
}

readonly TASK_DIR="${RUN_DIR}/containerd/state/io.containerd.runtime.v2.task/k8s.io"
TASK_IDS=()

# Notes the id of every task in containerd's state folder, before
# remove_pods deletes them, for remove_shim_sockets.
record_task_ids() {
  local task
  for task in "${TASK_DIR}"/*; do
    if [[ -d "${task}" ]]; then TASK_IDS+=("${task##*/}"); fi
  done
}

# Removes the sockets of shims that were killed before they could: containerd
# 1.6 puts them in /run/containerd/s/ whatever its own folders are, named
# by the SHA-256 of "<containerd socket>/<namespace>/<task id>".
remove_shim_sockets() {
  record_task_ids
  local id hash
  for id in "${TASK_IDS[@]}"; do
    hash="$(printf '%s' "${CONTAINERD_SOCKET}/k8s.io/${id}" | sha256sum | cut -d' ' -f1)"
    rm -f "/run/containerd/s/${hash}"
  done
}

# Kills every process still in the kubelet's pod cgroups: containers whose
# shim was killed keep running until then.
kill_pod_processes() {
  local procs_file pid
  [[ -d /sys/fs/cgroup/pids/kubepods ]] || return 0
  while read -r procs_file; do
    while read -r pid; do
      [[ -n "${pid}" ]] || continue
      log "killing leftover pod process ${pid}"
      kill -KILL "${pid}" 2>/dev/null || true
    done <"${procs_file}"
  done < <(find /sys/fs/cgroup/pids/kubepods -name cgroup.procs)
  wait_until 10 pod_cgroups_empty || log "processes remain in the pod cgroups"
}

pod_cgroups_empty() {
  [[ -z "$(find /sys/fs/cgroup/pids/kubepods -name cgroup.procs -exec cat {} +)" ]]
}

# Unmounts every mount point under the cluster's folders, deepest first.
unmount_all() {
  local targets target
  targets="$(findmnt -rn -o TARGET | grep -E "^(${NODE_DATA_DIR}|${RUN_DIR}|/run/netns/cni-|/var/run/netns/cni-)" | sort -r || true)"
  while read -r target; do
    [[ -n "${target}" ]] || continue
    # Network namespaces of pods that crictl could not remove, when the
    # containerd metadata is gone, are recognized by their folder only.
    if [[ "${target}" == *"/netns/cni-"* ]] && ! owned_netns "${target}"; then
      continue
    fi
    umount "${target}" 2>/dev/null || umount -l "${target}" || log "could not unmount ${target}"
    if [[ "${target}" == *"/netns/cni-"* ]]; then rm -f "${target}"; fi
  done <<<"${targets}"
}

# Succeeds when the network namespace mounted at $1 has a link whose address
# is in the pod range, which makes it one of this cluster's pods.
owned_netns() {
  local prefix="${POD_CIDR%.*}."
  ip netns exec "$(basename "$1")" ip -4 -o addr show 2>/dev/null | grep -qF "inet ${prefix}"
}

# Removes the cgroups the kubelet made for pods (kubepods) in each cgroup
# hierarchy, leaves first: a cgroup folder can only be removed when empty.
remove_cgroups() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [[ -d "${hierarchy}kubepods" ]] || continue
    find "${hierarchy}kubepods" -depth -type d -exec rmdir {} + 2>/dev/null ||
      log "could not remove every cgroup under ${hierarchy}kubepods"
  done
}

# kube-proxy --cleanup deletes the rules and chains that kube-proxy made;
# remove_kubernetes_iptables then deletes the kubelet's.
remove_kubernetes_rules() {
  if [[ -x "${K8S_BIN_DIR}/kube-proxy" ]] && [[ -n "$(iptables-save | grep '^:KUBE-' || true)" ]]; then
    "${K8S_BIN_DIR}/kube-proxy" --cleanup >>"${LOG_DIR}/kube-proxy-cleanup.log" 2>&1 ||
      log "kube-proxy --cleanup failed; see ${LOG_DIR}/kube-proxy-cleanup.log"
  fi
  remove_kubernetes_iptables
}

main() {
  require_root "cluster-down"
  acquire_cluster_lock
  mkdir -p "${LOG_DIR}"

  stop_component kubelet
  record_task_ids
  remove_pods
  stop_component kube-proxy
  stop_component kube-scheduler
  stop_component kube-controller-manager
  stop_component kube-apiserver
  stop_component etcd
  stop_component containerd
  kill_leftover_shims
  kill_pod_processes
  remove_shim_sockets

  unmount_all
  remove_cgroups
  remove_host_paths
  remove_kubernetes_rules
  remove_egress_chain
  remove_links
  restore_sysctls

  if [[ -n "${CLUSTER_LOGS_DEST:-}" && -d "${LOG_DIR}" ]]; then
    mkdir -p "${CLUSTER_LOGS_DEST}"
    cp -a "${LOG_DIR}/." "${CLUSTER_LOGS_DEST}/"
    log "copied the cluster's logs to ${CLUSTER_LOGS_DEST}"
  fi
  rm -rf "${NODE_DATA_DIR:?}" "${RUN_DIR:?}" "${CLUSTER_DIR:?}"
  log "cluster removed"
}

main "$@"
