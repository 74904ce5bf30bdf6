#!/usr/bin/env bash
# Image tests. Builds both images with `make images` in a clean clone of this
# repository (its committed HEAD), then checks that:
#   - each image runs as UID/GID 10001 with an exec-form entrypoint and carries
#     its OCI labels, and no layer contains the CA bundle given at build time;
#   - the runner image contains sharp (which loads) and no Kubernetes client or
#     HTTP server, and the API image no devDependencies;
#   - the runner image, run as the cluster runs it (no network, read-only root
#     filesystem, tmpfs /tmp, UID 10001, no capabilities, no privilege
#     escalation, the job folder at /job), makes the same thumbnails, pixel
#     for pixel, as the runner on this machine, and exits 2 with the
#     termination-message JSON on a file that is not an image;
#   - the API image starts against a stub Kubernetes API and serves /healthz.
# Prints the image sizes, and ends with the line "N passed, N failed".
#
# Needs Docker (hack/docker-up.sh starts it), git, and this repository's
# npm dependencies with the runner built (make install build), which the
# host-side runner and the pixel comparison use. Builds the stand-in base image
# (make base-image) when the base image is not on this machine.
#
# Environment: REGISTRY, TAG and CA_BUNDLE as for `make images`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly HELPERS="${ROOT}/test/images"
readonly UID_GID="10001:10001"
# The runner's arguments as the chart's Job template passes them.
readonly RUNNER_ARGS=(--input=/job/original --output=/job/thumbnail --result=/job/result.json
  --size=100 --max-pixels=100000000 --max-frames=500)
readonly API_TIMEOUT_S=60

PASSED=0
FAILED=0
# Commit the images were built from (set by build_images).
BUILT_REVISION=""
WORK_DIR=""
CONTAINERS=()

cleanup() {
  local container
  for container in ${CONTAINERS[@]+"${CONTAINERS[@]}"}; do
    docker rm -f "${container}" >/dev/null 2>&1 || true
  done
  CONTAINERS=()
  if [[ -n "${WORK_DIR}" ]]; then
    rm -rf "${WORK_DIR:?}"
    WORK_DIR=""
  fi
}
trap cleanup EXIT

pass() {
  PASSED=$((PASSED + 1))
  echo "ok   $1"
}

fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL $1${2:+: $2}"
}

# Runs a check command quietly, and passes or fails the test named $1 on its
# exit code. On failure it shows the command's last lines of output.
check() {
  local name="$1" output
  shift
  if output="$("$@" 2>&1)"; then
    pass "${name}"
  else
    fail "${name}" "$(tail -n 5 <<<"${output}")"
  fi
}

chart_app_version() {
  sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "${ROOT}/chart/Chart.yaml"
}

image_name() {
  local prefix=""
  if [[ -n "${REGISTRY:-}" ]]; then prefix="${REGISTRY%/}/"; fi
  echo "${prefix}thumbnailer-$1:${TAG}"
}

# Writes a copy of CA_BUNDLE with one extra self-signed certificate whose body
# is unique to this run, and prints that body's first line, so the test can
# look for it in the images' layers.
make_marked_ca_bundle() {
  local bundle="$1" marker_cert="${WORK_DIR}/marker.pem"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=thumbnailer image test $$" \
    -keyout "${WORK_DIR}/marker.key" -out "${marker_cert}" 2>/dev/null
  { cat "${CA_BUNDLE}"; echo; cat "${marker_cert}"; } >"${bundle}"
  sed -n 2p "${marker_cert}"
}

ensure_base_image() {
  local base
  base="$(sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' "${ROOT}/images/Dockerfile" | head -n 1)"
  if docker image inspect "${base}" >/dev/null 2>&1; then
    echo "base image ${base} is on this machine"
    return
  fi
  # No registry is assumed to be reachable, so nothing is pulled.
  echo "base image ${base} is missing: building the stand-in (make base-image)"
  local started="${SECONDS}"
  "${ROOT}/hack/base-image.sh"
  echo "base image built in $((SECONDS - started))s"
}

# Runs `make images` in a clean clone, or in the work tree itself when
# TEST_IMAGES_FROM=worktree, for trying uncommitted changes. The clean-clone
# check then does not run.
build_images() {
  local ca_bundle="$1" source_dir="${WORK_DIR}/clone" name started
  if [[ "${TEST_IMAGES_FROM:-clone}" == worktree ]]; then
    source_dir="${ROOT}"
    name="make images builds both images from the work tree"
  else
    git clone --quiet --no-hardlinks "${ROOT}" "${source_dir}"
    name="make images builds both images from a clean clone"
  fi
  BUILT_REVISION="$(git -C "${source_dir}" rev-parse HEAD)"
  echo "building the images in ${source_dir} at ${BUILT_REVISION}"
  started="${SECONDS}"
  if make -C "${source_dir}" images REGISTRY="${REGISTRY:-}" TAG="${TAG}" CA_BUNDLE="${ca_bundle}" \
    >"${WORK_DIR}/make-images.log" 2>&1; then
    pass "${name} ($((SECONDS - started))s)"
    tail -n 3 "${WORK_DIR}/make-images.log"
  else
    fail "${name}" "$(tail -n 20 "${WORK_DIR}/make-images.log")"
    return 1
  fi
}

# True when the build context of this work tree, filtered by .dockerignore,
# has no test folder, fixture, node_modules, build output or .git in it.
context_is_clean() {
  local base image="thumbnailer-image-test-context:$$" found
  base="$(sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' "${ROOT}/images/Dockerfile" | head -n 1)"
  # The classic builder applies .dockerignore as BuildKit does, and every
  # Docker client still has it.
  printf 'FROM %s\nCOPY . /context\n' "${base}" |
    DOCKER_BUILDKIT=0 docker build --quiet --tag "${image}" --file - "${ROOT}" >/dev/null
  found="$(docker run --rm --network none "${image}" find /context \
    \( -name node_modules -o -name dist -o -name .git -o -name test -o -name fixtures -o -name '*.test.ts' \) -print)"
  docker rmi "${image}" >/dev/null
  [[ -z "${found}" ]] || { echo "in the build context: ${found}"; return 1; }
}

inspect() {
  docker image inspect --format "$2" "$1"
}

check_image_config() {
  local component="$1" image entrypoint revision
  image="$(image_name "${component}")"
  entrypoint="[\"node\",\"/app/${component}/dist/main.js\"]"
  check "${component} image: user ${UID_GID}" \
    test "$(inspect "${image}" '{{.Config.User}}')" = "${UID_GID}"
  check "${component} image: exec-form entrypoint" \
    test "$(inspect "${image}" '{{json .Config.Entrypoint}}')" = "${entrypoint}"
  check "${component} image: version label ${TAG}" \
    test "$(inspect "${image}" '{{index .Config.Labels "org.opencontainers.image.version"}}')" = "${TAG}"
  revision="$(inspect "${image}" '{{index .Config.Labels "org.opencontainers.image.revision"}}')"
  check "${component} image: revision label" \
    test "${revision%-dirty}" = "${BUILT_REVISION}"
}

# True when no layer, no history entry and no config of the image contains
# the marker line. Layers are decompressed first: newer Docker versions save
# them gzip- or zstd-compressed.
image_lacks() {
  local image="$1" marker="$2" save_dir="${WORK_DIR}/save" file magic
  mkdir -p "${save_dir}"
  docker save "${image}" | tar -xf - -C "${save_dir}"
  while IFS= read -r -d '' file; do
    magic="$(head -c 4 "${file}" | od -An -tx1 | tr -d ' \n')"
    case "${magic}" in
      1f8b*) gzip -dc "${file}" ;;
      28b52ffd) zstd -dc "${file}" ;;
      *) cat "${file}" ;;
    esac | grep -a -q -F -- "${marker}" || continue
    echo "found in ${file#"${save_dir}"/}"
    rm -rf "${save_dir:?}"
    return 1
  done < <(find "${save_dir}" -type f -print0)
  rm -rf "${save_dir:?}"
}

# True when no node_modules folder in /app of the image, nested ones included,
# contains any of the packages named after the image.
packages_absent() {
  local image="$1" name found=""
  shift
  for name in "$@"; do
    found+="$(docker run --rm --network none --entrypoint find "${image}" /app -type d -path "*/node_modules/${name}")"
  done
  [[ -z "${found}" ]] || { echo "found: ${found}"; return 1; }
}

# True when Node.js in the image imports each package named after the image
# from /app.
packages_import() {
  local image="$1"
  shift
  docker run --rm --network none --read-only --user "${UID_GID}" --entrypoint node -w /app "${image}" \
    --input-type=module -e 'for (const name of process.argv.slice(1)) await import(name);' "$@"
}

check_sharp_loads() {
  local image
  image="$(image_name runner)"
  docker run --rm --network none --read-only --user "${UID_GID}" --cap-drop ALL \
    --security-opt no-new-privileges --entrypoint node -w /app "${image}" --input-type=module -e '
    const { default: sharp } = await import("sharp");
    const png = await sharp({ create: { width: 2, height: 2, channels: 4, background: "#f00" } }).png().toBuffer();
    console.log("sharp " + sharp.versions.sharp + ", libvips " + sharp.versions.vips + ", " + png.length + " bytes");
  '
}

# Runs the runner image on folder $1 as the cluster runs it, with the
# termination message written to folder $2. Prints the exit code.
run_runner_container() {
  local job_dir="$1" message_dir="$2" code=0
  docker run --rm --network none --read-only --tmpfs /tmp --user "${UID_GID}" --cap-drop ALL \
    --security-opt no-new-privileges --memory 512m \
    -v "${job_dir}:/job" -v "${message_dir}:/termination" \
    -e TERMINATION_MESSAGE_PATH=/termination/message \
    "$(image_name runner)" "${RUNNER_ARGS[@]}" >"${job_dir}.log" 2>&1 || code=$?
  echo "${code}"
}

run_runner_host() {
  local job_dir="$1" code=0
  TERMINATION_MESSAGE_PATH="${job_dir}.message" node "${ROOT}/runner/dist/main.js" \
    --input="${job_dir}/original" --output="${job_dir}/thumbnail" --result="${job_dir}/result.json" \
    --size=100 --max-pixels=100000000 --max-frames=500 >"${job_dir}.log" 2>&1 || code=$?
  echo "${code}"
}

# Makes a job folder holding `original`, writable by the runner's UID as the
# volume's fsGroup makes it in the cluster.
make_job_dir() {
  local input="$1" dir="$2"
  mkdir -p "${dir}"
  cp "${input}" "${dir}/original"
  chmod 0777 "${dir}"
  chmod 0644 "${dir}/original"
}

result_field() {
  node -e 'const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); console.log(r[process.argv[2]])' "$1" "$2"
}

test_runner_on_input() {
  local input="$1" name host_dir container_dir message_dir host_code container_code
  name="$(basename "${input}")"
  host_dir="${WORK_DIR}/host/${name}"
  container_dir="${WORK_DIR}/container/${name}"
  message_dir="${WORK_DIR}/container/${name}.termination"
  make_job_dir "${input}" "${host_dir}"
  make_job_dir "${input}" "${container_dir}"
  mkdir -p "${message_dir}"
  chmod 0777 "${message_dir}"

  host_code="$(run_runner_host "${host_dir}")"
  container_code="$(run_runner_container "${container_dir}" "${message_dir}")"
  echo "${container_code}" >"${container_dir}.code"
  if [[ "${host_code}" != "${container_code}" ]]; then
    fail "runner image on ${name}: host exit code" \
      "host ${host_code}, image ${container_code}: $(tail -n 3 "${container_dir}.log")"
    return
  fi
  pass "runner image on ${name}: exit ${container_code}, as on host"

  if [[ "${container_code}" == 0 ]]; then
    check "runner image on ${name}: host's pixels" \
      node "${HELPERS}/compare-thumbnails.mjs" "${host_dir}/thumbnail" "${container_dir}/thumbnail"
    check "runner image on ${name}: host's result.json" \
      test "$(result_field "${container_dir}/result.json" contentType) $(result_field "${container_dir}/result.json" bytes)" = \
      "$(result_field "${host_dir}/result.json" contentType) $(result_field "${host_dir}/result.json" bytes)"
  elif [[ "${container_code}" == 2 ]]; then
    check "runner image on ${name}: host's reason" \
      test "$(result_field "${message_dir}/message" reason)" = "$(result_field "${host_dir}.message" reason)"
  fi
}

test_runner() {
  local inputs_dir="${WORK_DIR}/inputs" input count=0
  mkdir -p "${inputs_dir}" "${WORK_DIR}/host" "${WORK_DIR}/container"
  node "${HELPERS}/make-inputs.mjs" "${inputs_dir}" >/dev/null
  for input in "${inputs_dir}"/*; do
    test_runner_on_input "${input}"
    count=$((count + 1))
  done
  # The runner's own fixtures add awkward real files. At most 15 of them keep
  # the run short.
  if [[ -d "${ROOT}/runner/test/fixtures" ]]; then
    while IFS= read -r input; do
      test_runner_on_input "${input}"
      count=$((count + 1))
    done < <(find "${ROOT}/runner/test/fixtures" -maxdepth 1 -type f | sort | head -n 15)
  fi
  echo "runner compared on ${count} inputs"

  local rotated="${WORK_DIR}/container/rotated.jpg" gif="${WORK_DIR}/container/animated.gif"
  check "runner image: rotated.jpg to 100x100 PNG" \
    test "$(result_field "${rotated}/result.json" contentType) $(result_field "${rotated}/result.json" width)x$(result_field "${rotated}/result.json" height)" = "image/png 100x100"
  # EXIF orientation 6 turns the 640x360 pixels upright into a portrait, which
  # "contain" centres between transparent bars on the left and right.
  check "runner image: rotated.jpg upright, transparent edge" \
    test "$(node "${HELPERS}/pixel-alpha.mjs" "${rotated}/thumbnail" 2 50)" = 0
  check "runner image: rotated.jpg upright, opaque centre" \
    test "$(node "${HELPERS}/pixel-alpha.mjs" "${rotated}/thumbnail" 50 50)" = 255
  check "runner image: animated.gif keeps 3 frames" \
    test "$(result_field "${gif}/result.json" contentType) $(result_field "${gif}/result.json" frames)" = "image/gif 3"

  local bad="${WORK_DIR}/container/not-an-image.txt"
  check "runner image: not-an-image.txt exits 2" test "$(cat "${bad}.code")" = 2
  check "runner image: termination message JSON" \
    node -e '
      const m = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
      if (!/^[A-Z][A-Za-z]+$/.test(m.reason)) throw new Error("reason: " + m.reason);
      if (typeof m.message !== "string" || m.message.length === 0) throw new Error("empty message");
      console.log(m.reason + ": " + m.message);
    ' "${bad}.termination/message"
  check "runner image: no thumbnail on rejection" test ! -e "${bad}/thumbnail"
}

# Starts the kube stub and the API in one network namespace with no other
# interface (the API joins the stub's), so all their traffic stays on its
# loopback. Then requests /healthz from inside that namespace.
test_api() {
  local image stub api config_dir="${WORK_DIR}/api-config"
  image="$(image_name api)"
  stub="thumbnailer-image-test-stub-$$"
  api="thumbnailer-image-test-api-$$"
  mkdir -p "${config_dir}"
  cat >"${config_dir}/kubeconfig" <<'KUBECONFIG'
apiVersion: v1
kind: Config
clusters:
  - name: stub
    cluster:
      server: http://127.0.0.1:6443
      # The Kubernetes client rejects plain HTTP unless TLS checks are off.
      insecure-skip-tls-verify: true
users:
  - name: stub
    user:
      token: image-test
contexts:
  - name: stub
    context:
      cluster: stub
      user: stub
      namespace: thumbnailer
current-context: stub
KUBECONFIG
  cat >"${config_dir}/runner-job.yaml" <<EOF_TEMPLATE
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    app: thumbnailer
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: runner
          image: $(image_name runner)
          args: [$(IFS=,; echo "${RUNNER_ARGS[*]}")]
          volumeMounts:
            - name: data
              mountPath: /job
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: thumbnailer-data
EOF_TEMPLATE
  chmod -R a+rX "${config_dir}"

  CONTAINERS+=("${stub}")
  docker run -d --name "${stub}" --network none --read-only --user "${UID_GID}" --cap-drop ALL \
    --security-opt no-new-privileges -v "${HELPERS}/kube-stub.mjs:/stub/kube-stub.mjs:ro" \
    --entrypoint node "${image}" /stub/kube-stub.mjs >/dev/null
  CONTAINERS+=("${api}")
  docker run -d --name "${api}" --network "container:${stub}" --read-only --tmpfs /tmp \
    --tmpfs /data:uid=10001,gid=10001 --user "${UID_GID}" --cap-drop ALL --security-opt no-new-privileges \
    -v "${config_dir}:/config:ro" -e KUBECONFIG=/config/kubeconfig -e DATA_DIR=/data \
    -e NAMESPACE=thumbnailer -e RUNNER_JOB_TEMPLATE=/config/runner-job.yaml -e PORT=8080 \
    "${image}" >/dev/null

  check "api image: serves /healthz" wait_for_status "${stub}" "${api}" /healthz
  # Ready means both informers listed and watched through the stub, and the
  # API can write to DATA_DIR under a read-only root filesystem.
  check "api image: ready against stub API" wait_for_status "${stub}" "${api}" /readyz
}

# Requests PATH from the API on port 8080 from inside the stub container,
# once a second, until it returns 200 or the API exits or API_TIMEOUT_S
# passes. On failure, prints the last response and the API's last log lines.
wait_for_status() {
  local stub="$1" api="$2" path="$3" deadline status=""
  deadline=$((SECONDS + API_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    status="$(docker exec "${stub}" node -e '
      fetch("http://127.0.0.1:8080" + process.argv[1]).then(
        async (response) => console.log(response.status, await response.text()),
        (err) => console.log("failed:", err.cause?.code ?? err.message),
      )' "${path}" 2>/dev/null || true)"
    [[ "${status}" == 200* ]] && return 0
    [[ "$(docker inspect --format '{{.State.Running}}' "${api}")" == true ]] || break
    sleep 1
  done
  echo "last response to ${path}: ${status:-none}"
  docker logs --tail 10 "${api}" 2>&1
  return 1
}

print_sizes() {
  local component image
  echo "image sizes:"
  for component in api runner; do
    image="$(image_name "${component}")"
    docker image inspect --format '{{.Size}}' "${image}" |
      awk -v image="${image}" '{ printf "  %-40s %.0f MB\n", image, $1 / 1e6 }'
  done
}

main() {
  TAG="${TAG:-$(chart_app_version)}"
  PATH="$("${ROOT}/hack/node-path.sh"):${PATH}"
  local ca_bundle="" marker=""
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/thumbnailer-image-test.XXXXXX")"
  chmod 0755 "${WORK_DIR}"

  [[ -f "${ROOT}/runner/dist/main.js" ]] ||
    { echo "runner/dist/main.js not found: run make install build first" >&2; exit 1; }
  "${ROOT}/hack/docker-up.sh"
  ensure_base_image

  if [[ -n "${CA_BUNDLE:-}" ]]; then
    ca_bundle="${WORK_DIR}/ca-bundle.pem"
    marker="$(make_marked_ca_bundle "${ca_bundle}")"
  fi
  if ! build_images "${ca_bundle}"; then
    echo "${PASSED} passed, ${FAILED} failed"
    exit 1
  fi

  check "build context: no tests, fixtures or build output" context_is_clean
  check_image_config runner
  check_image_config api
  if [[ -n "${marker}" ]]; then
    check "runner image: no CA bundle in layers" image_lacks "$(image_name runner)" "${marker}"
    check "api image: no CA bundle in layers" image_lacks "$(image_name api)" "${marker}"
  else
    echo "skipped the CA bundle check: CA_BUNDLE is not set"
  fi
  check "runner image: sharp loads, locked down" check_sharp_loads
  echo "  $(check_sharp_loads 2>&1 | tail -n 1)"
  check "runner image: no Kubernetes client or server" \
    packages_absent "$(image_name runner)" @kubernetes/client-node express multer prom-client winston typescript
  check "api image: no devDependencies" \
    packages_absent "$(image_name api)" typescript mocha chai eslint tsx nock
  check "api image: production dependencies import" \
    packages_import "$(image_name api)" express multer @kubernetes/client-node prom-client winston yaml

  test_runner
  test_api
  print_sizes
  echo "${PASSED} passed, ${FAILED} failed"
  ((FAILED == 0))
}

main "$@"
