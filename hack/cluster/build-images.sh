#!/usr/bin/env bash
# Builds the images the cluster runs as OCI image archives in IMAGES_DIR (see
# lib.sh), from binaries built by build.sh and Debian's busybox-static. No
# image can be pulled here, so each one is made from local files: one layer,
# no base image. An archive is rebuilt when its binary is newer than it.
#
# The archives are what `ctr -n k8s.io images import FILE` reads; cluster-up
# imports them into the cluster's containerd.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORK_DIR=""
cleanup() {
  if [[ -n "${WORK_DIR}" ]]; then rm -rf "${WORK_DIR:?}"; fi
}
trap cleanup EXIT

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

size_of() {
  stat -c %s "$1"
}

# Moves file $1 into the blob store under folder $2 and prints its digest.
store_blob() {
  local file="$1" layout="$2" digest
  digest="$(sha256_of "${file}")"
  mv -f "${file}" "${layout}/blobs/sha256/${digest}"
  echo "${digest}"
}

# Writes the OCI image archive $3 for image reference $1 whose one layer is
# the content of folder $2. $4 is the JSON of the image config's "config"
# object (entrypoint, user, environment).
write_oci_archive() {
  local ref="$1" rootfs="$2" out="$3" runtime_config="$4"
  local layout="${WORK_DIR}/layout"
  rm -rf "${layout:?}"
  mkdir -p "${layout}/blobs/sha256"

  # A fixed order, owner and time make the layer's digest depend only on the files.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    -C "${rootfs}" -cf "${layout}/layer.tar" .
  local layer_size layer_digest
  layer_size="$(size_of "${layout}/layer.tar")"
  layer_digest="$(store_blob "${layout}/layer.tar" "${layout}")"

  local arch
  arch="$(go env GOARCH)"
  printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "${arch}" "${runtime_config}" "${layer_digest}" >"${layout}/config.json"
  local config_size config_digest
  config_size="$(size_of "${layout}/config.json")"
  config_digest="$(store_blob "${layout}/config.json" "${layout}")"

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",%s,%s}' \
    "$(printf '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s}' "${config_digest}" "${config_size}")" \
    "$(printf '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]' "${layer_digest}" "${layer_size}")" \
    >"${layout}/manifest.json"
  local manifest_size manifest_digest
  manifest_size="$(size_of "${layout}/manifest.json")"
  manifest_digest="$(store_blob "${layout}/manifest.json" "${layout}")"

  # containerd names the imported image after io.containerd.image.name.
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "${manifest_digest}" "${manifest_size}" "${ref}" "${ref##*:}" >"${layout}/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"${layout}/oci-layout"

  mkdir -p "$(dirname "${out}")"
  tar --owner=0 --group=0 --numeric-owner -C "${layout}" -cf "${out}.partial" oci-layout index.json blobs
  mv -f "${out}.partial" "${out}"
  log "wrote ${ref} to ${out}"
}

# Prints the path of the archive of image reference $1.
archive_path() {
  local name="${1##*/}"
  echo "${IMAGES_DIR}/${name/:/-}.tar"
}

# Succeeds when archive $1 is missing or older than any of the files "${@:2}".
stale() {
  local archive="$1" source
  shift
  [[ -f "${archive}" ]] || return 0
  for source in "$@"; do
    [[ "${source}" -nt "${archive}" ]] && return 0
  done
  return 1
}

# Builds an image whose layer contains one static binary at path $3 (inside the
# image), copied from $2.
build_single_binary_image() {
  local ref="$1" binary="$2" path_in_image="$3" runtime_config="$4"
  local archive
  archive="$(archive_path "${ref}")"
  stale "${archive}" "${binary}" || return 0
  local rootfs="${WORK_DIR}/rootfs"
  rm -rf "${rootfs:?}"
  install -D -m 0755 "${binary}" "${rootfs}${path_in_image}"
  write_oci_archive "${ref}" "${rootfs}" "${archive}" "${runtime_config}"
}

# Builds a busybox image: the static busybox with a link for each applet, a
# root and a nobody user, and a world-writable /tmp.
build_busybox_image() {
  local archive busybox
  archive="$(archive_path "${BUSYBOX_IMAGE}")"
  busybox="$(command -v busybox)" || die "busybox not found: run hack/cluster/install-packages.sh"
  stale "${archive}" "${busybox}" || return 0
  local rootfs="${WORK_DIR}/rootfs"
  rm -rf "${rootfs:?}"
  mkdir -p "${rootfs}"/{bin,etc,root,tmp}
  chmod 1777 "${rootfs}/tmp"
  install -m 0755 "${busybox}" "${rootfs}/bin/busybox"
  local applet
  for applet in $("${busybox}" --list); do
    [[ "${applet}" == busybox ]] || ln -s busybox "${rootfs}/bin/${applet}"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"${rootfs}/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"${rootfs}/etc/group"
  write_oci_archive "${BUSYBOX_IMAGE}" "${rootfs}" "${archive}" \
    '{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"}'
}

main() {
  WORK_DIR="$(mktemp -d)"
  build_single_binary_image "${PAUSE_IMAGE}" "${PAUSE_BIN_DIR}/pause" /pause \
    '{"Entrypoint":["/pause"],"User":"65535:65535","WorkingDir":"/"}'
  build_single_binary_image "${COREDNS_IMAGE}" "${COREDNS_BIN_DIR}/coredns" /coredns \
    '{"Entrypoint":["/coredns"],"User":"65532:65532","WorkingDir":"/"}'
  build_single_binary_image "${LOCAL_PATH_IMAGE}" "${LOCAL_PATH_BIN_DIR}/local-path-provisioner" \
    /usr/bin/local-path-provisioner \
    '{"Entrypoint":["/usr/bin/local-path-provisioner"],"User":"65532:65532","WorkingDir":"/"}'
  build_busybox_image
}

main "$@"
