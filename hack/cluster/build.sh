#!/usr/bin/env bash
# Usage: build.sh [component...]   (components: see COMPONENTS below)
#
# Builds the cluster's programs from the Go module proxy into the cache
# (see lib.sh for the folders), skipping each one that is already there:
#   - kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#     kube-proxy and kubectl from k8s.io/kubernetes (module k8s/);
#   - etcd (module etcd/), CoreDNS with the plugins this cluster needs
#     (module coredns/), Rancher's local-path-provisioner (module local-path/),
#     crictl (module crictl/) and the pod sandbox's pause program (module
#     pause/).
# Each module folder pins its versions in go.mod and go.sum.
#
# A cold build of everything takes tens of minutes on 2 cores; it runs under
# `nice -n 10` so other work on the machine keeps its share.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

TMP_DIR=""
cleanup() {
  if [[ -n "${TMP_DIR}" ]]; then rm -rf "${TMP_DIR:?}"; fi
}
trap cleanup EXIT

all_present() {
  local dir="$1"
  shift
  local name
  for name in "$@"; do
    [[ -x "${dir}/${name}" ]] || return 1
  done
}

# Builds the packages "${@:4}" of the module in folder $1 into $2 with the
# linker flags $3. The binaries land in a temporary folder first and move
# into $2 together, so an interrupted build never looks cached.
go_build_into() {
  local module_dir="$1" dest="$2" ldflags="$3"
  shift 3
  TMP_DIR="$(mktemp -d)"
  log "building $* into ${dest}"
  local started=${SECONDS}
  CGO_ENABLED=0 GOTOOLCHAIN=local nice -n 10 \
    go build -C "${module_dir}" -trimpath -buildvcs=false -ldflags "${ldflags}" -o "${TMP_DIR}/" "$@"
  mkdir -p "${dest}"
  mv -f "${TMP_DIR}"/* "${dest}/"
  rm -rf "${TMP_DIR:?}"
  TMP_DIR=""
  log "built in $((SECONDS - started))s"
}

# Sets the version that `kubectl version` and the /version endpoint report:
# the release of the k8s.io/kubernetes module, as an official build does.
kube_ldflags() {
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  local flags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    flags+=" -X ${pkg}.gitVersion=${KUBE_VERSION} -X ${pkg}.gitTreeState=archive"
    flags+=" -X ${pkg}.gitCommit= -X ${pkg}.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "${flags}"
}

build_kubernetes() {
  all_present "${K8S_BIN_DIR}" "${K8S_COMMANDS[@]}" && return
  local packages=() name
  for name in "${K8S_COMMANDS[@]}"; do
    packages+=("k8s.io/kubernetes/cmd/${name}")
  done
  go_build_into "${CLUSTER_LIB_DIR}/k8s" "${K8S_BIN_DIR}" "$(kube_ldflags)" "${packages[@]}"
}

build_etcd() {
  all_present "${ETCD_BIN_DIR}" etcd && return
  go_build_into "${CLUSTER_LIB_DIR}/etcd" "${ETCD_BIN_DIR}" "-s -w" go.etcd.io/etcd/server/v3
  # go build names the binary after the package path: go.etcd.io/etcd/server/v3 -> server.
  mv -f "${ETCD_BIN_DIR}/server" "${ETCD_BIN_DIR}/etcd"
}

build_coredns() {
  all_present "${COREDNS_BIN_DIR}" coredns && return
  go_build_into "${CLUSTER_LIB_DIR}/coredns" "${COREDNS_BIN_DIR}" "-s -w" .
}

build_local_path() {
  all_present "${LOCAL_PATH_BIN_DIR}" local-path-provisioner && return
  go_build_into "${CLUSTER_LIB_DIR}/local-path" "${LOCAL_PATH_BIN_DIR}" "-s -w" \
    github.com/rancher/local-path-provisioner
}

build_crictl() {
  all_present "${CRICTL_BIN_DIR}" crictl && return
  go_build_into "${CLUSTER_LIB_DIR}/crictl" "${CRICTL_BIN_DIR}" \
    "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION}" \
    sigs.k8s.io/cri-tools/cmd/crictl
}

build_pause() {
  all_present "${PAUSE_BIN_DIR}" pause && return
  go_build_into "${CLUSTER_LIB_DIR}/pause" "${PAUSE_BIN_DIR}" "-s -w" .
}

readonly COMPONENTS=(pause etcd coredns local_path crictl kubernetes)

# Builds the components named in the arguments (default: all of them).
main() {
  command -v go >/dev/null 2>&1 || die "go is needed to build the cluster: install Go 1.25 or later"
  local requested=("$@") component
  if ((${#requested[@]} == 0)); then
    requested=("${COMPONENTS[@]}")
  fi
  for component in "${requested[@]}"; do
    [[ " ${COMPONENTS[*]} " == *" ${component} "* ]] ||
      die "unknown component ${component}: expected one of ${COMPONENTS[*]}"
    "build_${component}"
  done
}

main "$@"
