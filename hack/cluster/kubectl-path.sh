#!/usr/bin/env bash
# Prints the folder that holds the kubectl built for the cluster of
# hack/cluster-up.sh (the same release as the cluster), for putting first on
# PATH: this machine's /usr/bin/kubectl is a wrapper from a cloud SDK. Builds
# the Kubernetes binaries first when they are not in the cache yet (minutes;
# progress goes to stderr).
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  if [[ ! -x "${K8S_BIN_DIR}/kubectl" ]]; then
    "${CLUSTER_LIB_DIR}/build.sh" kubernetes >&2
  fi
  echo "${K8S_BIN_DIR}"
}

main "$@"
