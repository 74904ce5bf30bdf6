#!/usr/bin/env bash
# Installs the Debian packages the cluster runs on, when any is missing.
# containerd and runc are the container runtime, and the CNI plugins the pod
# network. iptables, nftables and iproute2 serve kube-proxy and the scripts'
# own rules. openssl makes the certificates, curl runs the health checks, and
# busybox-static provides the shell and tools of the cluster's busybox image.
# Runs `apt-get update` once, and only when something has to be installed.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly PACKAGES=(containerd runc containernetworking-plugins iptables nftables iproute2 openssl curl busybox-static)

installed() {
  [[ "$(dpkg-query -W -f '${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

main() {
  require_root "installing packages"
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    installed "${package}" || missing+=("${package}")
  done
  if ((${#missing[@]} == 0)); then
    return
  fi

  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

main "$@"
