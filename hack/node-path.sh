#!/usr/bin/env bash
# Prints a directory that holds a Node.js 24 `node` binary, for putting first
# on PATH. Uses the node already on PATH when it is version 24 or later;
# otherwise downloads the official binary that the npm registry publishes as
# the `node-linux-<arch>` package into a cache folder, once.
set -euo pipefail

readonly NODE_VERSION="${NODE_VERSION:-24.22.3}"
readonly CACHE_DIR="${THUMBNAILER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thumbnailer}"

TMP_DIR=""
cleanup() {
  if [[ -n "${TMP_DIR}" ]]; then rm -rf "${TMP_DIR:?}"; fi
}
trap cleanup EXIT

current_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

npm_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "unsupported machine architecture: $(uname -m)" >&2; exit 1 ;;
  esac
}

main() {
  if [[ "$(current_major)" -ge 24 ]]; then
    dirname "$(command -v node)"
    return
  fi

  local arch dest
  arch="$(npm_arch)"
  dest="${CACHE_DIR}/node-${NODE_VERSION}-${arch}"
  if [[ ! -x "${dest}/bin/node" ]]; then
    command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch Node.js ${NODE_VERSION}" >&2; exit 1; }
    TMP_DIR="$(mktemp -d)"
    (cd "${TMP_DIR}" && npm pack --silent "node-linux-${arch}@${NODE_VERSION}" >/dev/null)
    tar -xzf "${TMP_DIR}/node-linux-${arch}-${NODE_VERSION}.tgz" -C "${TMP_DIR}"
    mkdir -p "${CACHE_DIR}"
    rm -rf "${dest:?}"
    mv "${TMP_DIR}/package" "${dest}"
  fi
  echo "${dest}/bin"
}

main "$@"
