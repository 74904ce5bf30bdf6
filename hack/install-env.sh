# shellcheck shell=bash
# Settings shared by hack/up.sh and hack/down.sh. Sourced, never run.
# shellcheck disable=SC2034 # the scripts that source this file use the names.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly CLUSTER="${CLUSTER:-kind}"
readonly KIND_CLUSTER="${KIND_CLUSTER:-thumbnailer}"
readonly NAMESPACE="${NAMESPACE:-thumbnails}"
readonly RELEASE="${RELEASE:-thumbnailer}"
readonly CACHE_ROOT="${THUMBNAILER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thumbnailer}"
# Marks the kind clusters that `make up` created, so `make down` deletes only those.
readonly STATE_DIR="${CACHE_ROOT}/up"
# The admin kubeconfig of the cluster of `make cluster-up`.
readonly LOCAL_KUBECONFIG="${CACHE_ROOT}/cluster/kubeconfig"

log() {
  printf '==> %s\n' "$*"
}
