#!/usr/bin/env bash
# Builds a local stand-in for the official Node.js base image that
# images/Dockerfile names (node:<version>-<debian suite>-slim), for machines
# that reach no container registry. It is made from a minimal Debian root
# filesystem (debootstrap, with the suite's updates and security fixes), the
# official Node.js binary that the npm registry publishes as node-linux-<arch>,
# and the npm release that this Node.js version bundles. The result is imported
# under the exact name and tag of the official image, so the Dockerfile builds
# unchanged.
#
# Like the official image it has Node.js and npm in /usr/local and a user
# `node` with UID 1000, and no ca-certificates package. Unlike it, it has no
# yarn, no corepack and no docker-entrypoint.sh, which the Dockerfile does not use.
#
# Environment:
#   NODE_IMAGE     image to build (default: the ARG NODE_IMAGE of images/Dockerfile)
#   NPM_VERSION    npm release to install (default: the one this Node.js bundles)
#   DEBIAN_MIRROR  Debian archive (default http://deb.debian.org/debian)
#   DEBIAN_SECURITY_MIRROR  (default http://deb.debian.org/debian-security)
#   FORCE=1        rebuild even when the image already exists
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly DOCKERFILE="${ROOT}/images/Dockerfile"
readonly DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
readonly CACHE_DIR="${THUMBNAILER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thumbnailer}"
readonly LABEL_KEY="thumbnailer.cogent.co.jp/base-image-stand-in"

WORK_DIR=""

cleanup() {
  [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]] || return 0
  # debootstrap mounts /proc and /sys inside the root filesystem and may leave
  # them mounted when it fails: unmount before removing anything.
  local mount_point
  while read -r mount_point; do
    umount -l "${mount_point}" || true
  done < <(findmnt -rn -o TARGET | grep -F "${WORK_DIR}/" | sort -r || true)
  rm -rf --one-file-system "${WORK_DIR:?}"
  WORK_DIR=""
}
trap cleanup EXIT

log() {
  echo "base-image: $*" >&2
}

die() {
  echo "base-image: $*" >&2
  exit 1
}

# Prints the value of `ARG NODE_IMAGE=` in the Dockerfile.
dockerfile_base_image() {
  local image
  image="$(sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' "${DOCKERFILE}" | head -n 1)"
  [[ -n "${image}" ]] || die "no 'ARG NODE_IMAGE=' line found in ${DOCKERFILE}"
  echo "${image}"
}

debian_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "unsupported machine architecture: $(uname -m) (x86_64 and arm64 are supported)" ;;
  esac
}

node_arch() {
  case "$(debian_arch)" in
    amd64) echo x64 ;;
    arm64) echo arm64 ;;
  esac
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing debootstrap with apt-get"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
    return
  fi
  die "debootstrap not found: install it (on Debian: apt-get install -y debootstrap) and run this as root"
}

# Downloads one package tarball from the npm registry and unpacks it into
# DEST (its `package/` folder becomes DEST).
npm_unpack() {
  local spec="$1" dest="$2" pack_dir tarball
  pack_dir="$(mktemp -d "${WORK_DIR}/pack.XXXXXX")"
  tarball="$(cd "${pack_dir}" && npm pack --silent "${spec}")"
  mkdir -p "${dest}"
  tar -xzf "${pack_dir}/${tarball}" -C "${dest}" --strip-components=1 --no-same-owner
}

# Prints the npm version that a Node.js release bundles, read from the
# "upgrade npm to X" entries of its changelog (newest first).
bundled_npm_version() {
  local node_dir="$1" version
  version="$(grep -o -m 1 'upgrade npm to [0-9][0-9.]*' "${node_dir}/CHANGELOG.md" | awk '{print $4}')"
  [[ -n "${version}" ]] || die "could not find the bundled npm version in the Node.js changelog: set NPM_VERSION"
  echo "${version}"
}

make_rootfs() {
  local suite="$1" rootfs="$2"
  mkdir -p "${CACHE_DIR}/debootstrap"
  log "debootstrap ${suite} ($(debian_arch), minbase) from ${DEBIAN_MIRROR}"
  debootstrap --variant=minbase --arch="$(debian_arch)" --cache-dir="${CACHE_DIR}/debootstrap" \
    "${suite}" "${rootfs}" "${DEBIAN_MIRROR}" >"${WORK_DIR}/debootstrap.log" 2>&1 ||
    { tail -n 30 "${WORK_DIR}/debootstrap.log" >&2; die "debootstrap failed"; }

  # Leave documentation, manual pages and translations out of every package,
  # as Debian's slim images do; copyright files stay.
  cat >"${rootfs}/etc/dpkg/dpkg.cfg.d/excludes" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  find "${rootfs}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "${rootfs:?}"/usr/share/{man,info,locale,lintian}/*

  rm -f "${rootfs}/etc/apt/sources.list"
  cat >"${rootfs}/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${DEBIAN_MIRROR}
Suites: ${suite} ${suite}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_SECURITY_MIRROR}
Suites: ${suite}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

  log "applying ${suite}-updates and ${suite}-security"
  cp /etc/resolv.conf "${rootfs}/etc/resolv.conf"
  if ! chroot "${rootfs}" /usr/bin/apt-get update -q >"${WORK_DIR}/apt.log" 2>&1 ||
    ! DEBIAN_FRONTEND=noninteractive chroot "${rootfs}" /usr/bin/apt-get upgrade -y -q >>"${WORK_DIR}/apt.log" 2>&1; then
    tail -n 30 "${WORK_DIR}/apt.log" >&2
    die "apt-get upgrade in the root filesystem failed"
  fi
  chroot "${rootfs}" /usr/bin/apt-get clean
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/*.bin \
    "${rootfs:?}"/var/log/* "${rootfs:?}"/tmp/* "${rootfs:?}"/debootstrap
  : >"${rootfs}/etc/resolv.conf"
  : >"${rootfs}/etc/machine-id" 2>/dev/null || true
}

install_node() {
  local node_version="$1" rootfs="$2" node_dir npm_version
  node_dir="${WORK_DIR}/node"
  log "node-linux-$(node_arch)@${node_version} from the npm registry"
  npm_unpack "node-linux-$(node_arch)@${node_version}" "${node_dir}"
  [[ "$("${node_dir}/bin/node" --version)" == "v${node_version}" ]] ||
    die "node-linux-$(node_arch)@${node_version} does not hold Node.js ${node_version}"

  install -m 0755 "${node_dir}/bin/node" "${rootfs}/usr/local/bin/node"
  cp -a "${node_dir}/include" "${rootfs}/usr/local/"
  mkdir -p "${rootfs}/usr/local/share/doc/node"
  cp "${node_dir}/LICENSE" "${rootfs}/usr/local/share/doc/node/"

  npm_version="${NPM_VERSION:-$(bundled_npm_version "${node_dir}")}"
  log "npm@${npm_version} from the npm registry"
  npm_unpack "npm@${npm_version}" "${rootfs}/usr/local/lib/node_modules/npm"
  # npm pack stores every file as 0644: restore the executable bits that an
  # npm install would set on npm's own commands.
  chmod 0755 "${rootfs}"/usr/local/lib/node_modules/npm/bin/{npm,npx,npm-cli.js,npx-cli.js,node-gyp-bin/node-gyp}
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "${rootfs}/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "${rootfs}/usr/local/bin/npx"

  chroot "${rootfs}" /usr/sbin/groupadd --gid 1000 node
  chroot "${rootfs}" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
}

import_image() {
  local image="$1" node_version="$2" suite="$3" rootfs="$4"
  log "importing ${image}"
  tar --numeric-owner --xattrs -C "${rootfs}" -cf - . |
    docker import \
      --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change "ENV NODE_VERSION=${node_version}" \
      --change "LABEL ${LABEL_KEY}=\"debootstrap ${suite} minbase + node-linux-$(node_arch)@${node_version} from the npm registry\"" \
      --change 'CMD ["node"]' \
      - "${image}" >/dev/null
}

check_image() {
  local image="$1" node_version="$2" versions
  versions="$(docker run --rm --network none "${image}" sh -c 'node --version && npm --version')" ||
    die "the imported image ${image} does not run node and npm"
  [[ "$(head -n 1 <<<"${versions}")" == "v${node_version}" ]] ||
    die "the imported image runs Node.js $(head -n 1 <<<"${versions}"), not ${node_version}"
  log "built ${image}: Node.js ${node_version}, npm $(tail -n 1 <<<"${versions}"), $(docker image inspect -f '{{.Size}}' "${image}" | awk '{printf "%.0f MB", $1 / 1e6}')"
}

main() {
  local image tag node_version suite rootfs
  image="${NODE_IMAGE:-$(dockerfile_base_image)}"
  tag="${image##*:}"
  # The official tags read <node version>-<debian suite>[-slim].
  [[ "${tag}" =~ ^([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)(-slim)?$ ]] ||
    die "cannot read a Node.js version and Debian suite from the tag '${tag}' (expected e.g. 24.22.3-bookworm-slim)"
  node_version="${BASH_REMATCH[1]}"
  suite="${BASH_REMATCH[2]}"

  "${ROOT}/hack/docker-up.sh"
  if [[ "${FORCE:-0}" != 1 ]] && docker image inspect "${image}" >/dev/null 2>&1; then
    log "${image} already exists (FORCE=1 rebuilds it)"
    return
  fi
  [[ "$(id -u)" -eq 0 ]] || die "debootstrap and chroot need root: run this as root"
  ensure_debootstrap
  command -v npm >/dev/null 2>&1 || die "npm not found: it fetches Node.js and npm from the npm registry"

  # /var/tmp rather than /tmp, which may be mounted noexec or nodev.
  WORK_DIR="$(mktemp -d /var/tmp/thumbnailer-base-image.XXXXXX)"
  rootfs="${WORK_DIR}/rootfs"
  make_rootfs "${suite}" "${rootfs}"
  install_node "${node_version}" "${rootfs}"
  import_image "${image}" "${node_version}" "${suite}" "${rootfs}"
  check_image "${image}" "${node_version}"
}

main "$@"
