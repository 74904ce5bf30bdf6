#!/usr/bin/env bash
# Prints a directory that contains a `helm` binary, for putting first on PATH.
# Uses the helm already on PATH when its major version is 3 or 4. Otherwise it
# builds helm from the Go module proxy with `go install` into a cache folder,
# once. That first build downloads and compiles helm's modules, so it is slow
# on a machine without a Go build cache; its output goes to stderr.
set -euo pipefail

readonly HELM_VERSION="${HELM_VERSION:-v4.3.2}"
readonly CACHE_DIR="${THUMBNAILER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thumbnailer}"

# Prints the major version of the helm found at $1, or 0 when it does not run.
helm_major() {
  local version
  version="$("$1" version --template '{{.Version}}' 2>/dev/null)" || { echo 0; return; }
  version="${version#v}"
  version="${version%%.*}"
  if [[ "${version}" =~ ^[0-9]+$ ]]; then echo "${version}"; else echo 0; fi
}

usable() {
  local major
  major="$(helm_major "$1")"
  [[ "${major}" -eq 3 || "${major}" -eq 4 ]]
}

main() {
  local on_path
  on_path="$(command -v helm 2>/dev/null || true)"
  if [[ -n "${on_path}" ]] && usable "${on_path}"; then
    dirname "${on_path}"
    return
  fi

  local dest="${CACHE_DIR}/bin"
  if [[ ! -x "${dest}/helm" ]] || ! usable "${dest}/helm"; then
    command -v go >/dev/null 2>&1 || {
      echo "helm 3 or 4 is not on PATH and go is needed to build helm ${HELM_VERSION}: install Go 1.25 or later, or helm" >&2
      exit 1
    }
    echo "building helm ${HELM_VERSION} into ${dest} with go install (once)" >&2
    mkdir -p "${dest}"
    GOBIN="${dest}" nice -n 10 go install "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" >&2
  fi
  echo "${dest}"
}

main "$@"
