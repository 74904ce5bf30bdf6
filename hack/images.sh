#!/usr/bin/env bash
# Builds, lists, loads into kind, or pushes Thumbnailer's two images,
# thumbnailer-api and thumbnailer-runner, from images/Dockerfile.
#
# Usage: hack/images.sh build|list|names|kind-load|push
#
# Environment (the Makefile sets the first three):
#   REGISTRY      prefix of the image names, e.g. registry.example.com/team (default: none)
#   TAG           image tag (default: appVersion in chart/Chart.yaml)
#   CA_BUNDLE     PEM file of extra CA certificates that npm needs behind a
#                 TLS-inspecting proxy. The build gets it as the secret npm_ca.
#   NODE_IMAGE    base image (default: the ARG NODE_IMAGE of images/Dockerfile)
#   KIND_CLUSTER  kind cluster for kind-load (default thumbnailer)
#   SOURCE        org.opencontainers.image.source label (default: the origin remote)
#   DOCKER        Docker client (default: docker, or /usr/bin/docker when only
#                 that one can build with BuildKit)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly DOCKERFILE="${ROOT}/images/Dockerfile"
readonly COMPONENTS=(api runner)

die() {
  echo "images: $*" >&2
  exit 1
}

chart_app_version() {
  local version
  version="$(sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "${ROOT}/chart/Chart.yaml")"
  [[ -n "${version}" ]] || die "no appVersion found in ${ROOT}/chart/Chart.yaml"
  echo "${version}"
}

# Prints the full name of one component's image, e.g. thumbnailer-api:0.1.0.
image_name() {
  local component="$1" prefix=""
  if [[ -n "${REGISTRY:-}" ]]; then prefix="${REGISTRY%/}/"; fi
  echo "${prefix}thumbnailer-${component}:${TAG}"
}

# True when the client builds with BuildKit: through the buildx plugin, or
# with the builder that clients before Docker 23 carry inside them (Debian 12's
# docker.io is 20.10).
can_build_with_buildkit() {
  local client="$1" major
  command -v "${client}" >/dev/null 2>&1 || return 1
  "${client}" buildx version >/dev/null 2>&1 && return 0
  # `docker version` exits non-zero when the daemon is down, after printing
  # the client's version all the same.
  major="$("${client}" version --format '{{.Client.Version}}' 2>/dev/null | cut -d . -f 1 || true)"
  [[ "${major}" =~ ^[0-9]+$ ]] && ((major < 23))
}

# Sets DOCKER_CLIENT to a client that can build with BuildKit.
select_docker_client() {
  if [[ -n "${DOCKER:-}" ]]; then
    can_build_with_buildkit "${DOCKER}" ||
      die "DOCKER=${DOCKER} cannot build with BuildKit: install the buildx plugin for it"
    DOCKER_CLIENT="${DOCKER}"
    return
  fi
  local candidate
  for candidate in docker /usr/bin/docker; do
    if can_build_with_buildkit "${candidate}"; then
      DOCKER_CLIENT="${candidate}"
      if [[ "${candidate}" != docker ]]; then
        echo "images: building with ${candidate}, because the docker on PATH has no buildx plugin" >&2
      fi
      return
    fi
  done
  die "no Docker client here can build with BuildKit: install the buildx plugin (docker-buildx-plugin) or Debian's docker.io"
}

base_image() {
  if [[ -n "${NODE_IMAGE:-}" ]]; then
    echo "${NODE_IMAGE}"
    return
  fi
  sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' "${DOCKERFILE}" | head -n 1
}

ensure_base_image() {
  local image="$1"
  "${DOCKER_CLIENT}" image inspect "${image}" >/dev/null 2>&1 && return
  echo "images: pulling the base image ${image}" >&2
  "${DOCKER_CLIENT}" pull "${image}" >/dev/null ||
    die "the base image ${image} is not on this machine and could not be pulled. Where no registry is reachable, build a stand-in first with: make base-image"
}

# Prints the origin remote's URL without any user name or password in it.
default_source() {
  git -C "${ROOT}" config --get remote.origin.url 2>/dev/null | sed -E 's#://[^/@]*@#://#' || true
}

default_revision() {
  local revision
  revision="$(git -C "${ROOT}" rev-parse HEAD 2>/dev/null)" || { echo unknown; return; }
  if [[ -n "$(git -C "${ROOT}" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    revision="${revision}-dirty"
  fi
  echo "${revision}"
}

# Removes the image with ID $1 when a rebuild took its last tag: every commit
# changes the revision label, so each build would otherwise leave one behind.
remove_if_untagged() {
  local id="$1"
  [[ -n "${id}" ]] || return 0
  if [[ "$(docker image inspect --format '{{len .RepoTags}}' "${id}" 2>/dev/null)" == 0 ]]; then
    docker image rm "${id}" >/dev/null 2>&1 || true
  fi
}

build() {
  local base revision source component started elapsed previous_id
  local -a args=()
  "${ROOT}/hack/docker-up.sh"
  select_docker_client
  base="$(base_image)"
  ensure_base_image "${base}"

  if [[ -n "${NODE_IMAGE:-}" ]]; then args+=(--build-arg "NODE_IMAGE=${NODE_IMAGE}"); fi
  if [[ -n "${CA_BUNDLE:-}" ]]; then
    [[ -r "${CA_BUNDLE}" ]] || die "CA_BUNDLE=${CA_BUNDLE} is not a readable file"
    args+=(--secret "id=npm_ca,src=${CA_BUNDLE}")
    echo "images: npm trusts the extra CA certificates in ${CA_BUNDLE} (build secret npm_ca)" >&2
  fi
  # Clients with the buildx plugin may use a builder that keeps its result to
  # itself: --load puts the image into the local image store.
  if "${DOCKER_CLIENT}" buildx version >/dev/null 2>&1; then args+=(--load); fi

  revision="${REVISION:-$(default_revision)}"
  source="${SOURCE:-$(default_source)}"
  started="${SECONDS}"
  # The runner first: it is the smaller build, so a broken dependency install
  # shows up sooner.
  for component in runner api; do
    previous_id="$("${DOCKER_CLIENT}" image inspect --format '{{.Id}}' "$(image_name "${component}")" 2>/dev/null || true)"
    echo "images: building $(image_name "${component}") from ${base}" >&2
    if ! DOCKER_BUILDKIT=1 "${DOCKER_CLIENT}" build \
      --file "${DOCKERFILE}" \
      --target "${component}" \
      --tag "$(image_name "${component}")" \
      --build-arg "VERSION=${TAG}" \
      --build-arg "REVISION=${revision}" \
      --build-arg "SOURCE=${source}" \
      ${args[@]+"${args[@]}"} \
      "${ROOT}"; then
      if [[ -z "${CA_BUNDLE:-}" ]]; then
        echo "images: if npm failed with SELF_SIGNED_CERT_IN_CHAIN or UNABLE_TO_GET_ISSUER_CERT_LOCALLY, a proxy inspects TLS here: pass its CA with CA_BUNDLE=/path/to/ca.pem" >&2
      fi
      die "building $(image_name "${component}") failed"
    fi
    remove_if_untagged "${previous_id}"
  done
  elapsed=$((SECONDS - started))
  echo "images: built in ${elapsed}s" >&2
  list
}

list() {
  local component image
  printf '%-56s %-14s %-8s %s\n' IMAGE ID ARCH SIZE
  for component in "${COMPONENTS[@]}"; do
    image="$(image_name "${component}")"
    if ! docker image inspect "${image}" >/dev/null 2>&1; then
      printf '%-56s %s\n' "${image}" "(not built)"
      continue
    fi
    docker image inspect --format '{{.Id}} {{.Architecture}} {{.Size}}' "${image}" |
      awk -v image="${image}" '{ printf "%-56s %-14s %-8s %.0f MB\n", image, substr($1, 8, 12), $2, $3 / 1e6 }'
  done
}

# Prints the two image references on one line, for scripts.
names() {
  local component
  local -a images=()
  for component in "${COMPONENTS[@]}"; do
    images+=("$(image_name "${component}")")
  done
  echo "${images[*]}"
}

kind_load() {
  local cluster="${KIND_CLUSTER:-thumbnailer}" component image
  local -a images=()
  command -v kind >/dev/null 2>&1 || die "kind not found on PATH: install kind to load the images into a kind cluster"
  for component in "${COMPONENTS[@]}"; do
    image="$(image_name "${component}")"
    docker image inspect "${image}" >/dev/null 2>&1 || die "${image} not found: run make images first"
    images+=("${image}")
  done
  kind load docker-image --name "${cluster}" "${images[@]}"
}

push() {
  local component
  [[ -n "${REGISTRY:-}" ]] || die "REGISTRY is empty: set it to the registry and path to push to, e.g. make push REGISTRY=registry.example.com/team"
  for component in "${COMPONENTS[@]}"; do
    docker push "$(image_name "${component}")"
  done
}

main() {
  TAG="${TAG:-$(chart_app_version)}"
  case "${1:-}" in
    build) build ;;
    list) list ;;
    names) names ;;
    kind-load) kind_load ;;
    push) push ;;
    *) die "usage: $0 build|list|names|kind-load|push" ;;
  esac
}

main "$@"
