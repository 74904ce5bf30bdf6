#!/usr/bin/env bash
# Tests `make support-bundle` on a real cluster. It installs the chart into a
# namespace of its own, uploads images under secret-looking file names and
# one corrupt image, breaks the runner image on purpose, and takes a bundle.
# It checks that the bundle contains every part, that its summary names the
# broken setting, and that it contains no file name and no image bytes. A
# second release with a missing StorageClass, and a kubectl without
# pods/exec, get bundles of their own. The last line it prints is
# "N passed, N failed", and it exits 1 when a check failed.
#
# Usage: hack/test-support-bundle.sh
#
# Environment:
#   TEST_NAMESPACE  namespace to create and delete (default bundle-test). The
#                   test refuses a namespace that exists without its label.
#   KUBECTL, HELM   clients (default kubectl, helm); the current kubeconfig
#                   context is the cluster under test
#   KEEP_BUNDLE     folder to copy the bundle into before the cleanup
#
# The cluster must run the images thumbnailer-api and thumbnailer-runner with
# the chart's appVersion tag already (make kind-load, or make cluster-load
# IMAGES="..."), and curl must be installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly TEST_NAMESPACE="${TEST_NAMESPACE:-bundle-test}"
readonly RELEASE=thumbnailer
readonly KUBECTL="${KUBECTL:-kubectl}"
readonly HELM="${HELM:-helm}"
readonly OWNER_LABEL_KEY=thumbnailer.cogent.co.jp/created-by
readonly OWNER_LABEL_VALUE=test-support-bundle
# The runner image repository that the test breaks the release with.
readonly MISSING_RUNNER_REPOSITORY=thumbnailer-runner-missing
readonly JOB_TIMEOUT_SECONDS=120
readonly PULL_ERROR_TIMEOUT_SECONDS=180

# Upload names that must never appear in a bundle.
readonly SECRET_NAMES=(
  "TOP-SECRET-emoji-launch.png"
  "confidential merger plan (draft).gif"
  "SECRET-passwords-q3.png"
  "TOP-SECRET-after-upgrade.png"
)
# Parts of those names that are just as telling.
readonly SECRET_FRAGMENTS=("TOP-SECRET" "emoji-launch" "merger plan" "passwords-q3" "after-upgrade")

# A 4x4 PNG and a 4x4 GIF, made with sharp: small, real images.
readonly PNG_BASE64="iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAYAAACp8Z5+AAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAHklEQVQImYXKoQEAAAyDME7nc+Zqp2ICUtLEyprvOOykJ+EKetCcAAAAAElFTkSuQmCC"
readonly GIF_BASE64="R0lGODlhBAAEAIIAAExpcQCAAP+AAACA//+A/wAAAAAAAAAAACH5BAUAAAAALAAAAAAEAAQAAAMHGKJDrcyRBAA7"

WORK_DIR=""
PORT_FORWARD_PID=""
API_URL=""
NAMESPACE_CREATED=false
PASSED=0
FAILED=0

log() {
  echo "test-support-bundle: $*" >&2
}

# Stops the test: a setup step failed, which counts as a failed check.
die() {
  fail "$*"
  exit 1
}

pass() {
  PASSED=$((PASSED + 1))
  echo "ok   $*"
}

fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL $*"
}

# Runs a command quietly and passes when it succeeds.
check() {
  local name="$1"
  shift
  if "$@" >/dev/null 2>&1; then pass "${name}"; else fail "${name}"; fi
}

# Succeeds when one of the files exists and is not empty.
any_nonempty() {
  local file
  for file in "$@"; do
    if [[ -s "${file}" ]]; then return 0; fi
  done
  return 1
}

kube() {
  "${KUBECTL}" --namespace "${TEST_NAMESPACE}" "$@"
}

stop_port_forward() {
  if [[ -n "${PORT_FORWARD_PID}" ]]; then
    kill "${PORT_FORWARD_PID}" 2>/dev/null || true
    wait "${PORT_FORWARD_PID}" 2>/dev/null || true
  fi
  PORT_FORWARD_PID=""
}

cleanup() {
  stop_port_forward
  if [[ -n "${WORK_DIR}" && -n "${KEEP_BUNDLE:-}" ]]; then
    mkdir -p "${KEEP_BUNDLE}"
    cp "${WORK_DIR}"/out/*.tar.gz "${KEEP_BUNDLE}/" 2>/dev/null || true
  fi
  if [[ "${NAMESPACE_CREATED}" == true ]]; then
    NAMESPACE_CREATED=false
    log "deleting the namespace ${TEST_NAMESPACE}"
    "${HELM}" uninstall "${RELEASE}" --namespace "${TEST_NAMESPACE}" --wait --timeout 120s >/dev/null 2>&1 || true
    "${KUBECTL}" delete namespace "${TEST_NAMESPACE}" --wait --timeout 180s >/dev/null 2>&1 ||
      log "the namespace ${TEST_NAMESPACE} is still being deleted"
  fi
  if [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]]; then
    rm -rf "${WORK_DIR:?}"
  fi
  WORK_DIR=""
}

# --- Setup ----------------------------------------------------------------------

preflight() {
  command -v curl >/dev/null 2>&1 || die "curl is not installed"
  command -v "${KUBECTL}" >/dev/null 2>&1 || die "kubectl (${KUBECTL}) is not installed"
  command -v "${HELM}" >/dev/null 2>&1 || die "helm (${HELM}) is not installed: set HELM"
  "${KUBECTL}" version >/dev/null 2>&1 || die "cannot reach the cluster of the current kubeconfig context"

  local owner
  if "${KUBECTL}" get namespace "${TEST_NAMESPACE}" >/dev/null 2>&1; then
    owner="$("${KUBECTL}" get namespace "${TEST_NAMESPACE}" --output "jsonpath={.metadata.labels.${OWNER_LABEL_KEY//./\\.}}")"
    [[ "${owner}" == "${OWNER_LABEL_VALUE}" ]] ||
      die "namespace ${TEST_NAMESPACE} exists and this test did not create it: set TEST_NAMESPACE to an unused name"
    log "removing the namespace ${TEST_NAMESPACE} left by an earlier run"
    "${KUBECTL}" delete namespace "${TEST_NAMESPACE}" --wait --timeout 180s >/dev/null
  fi
}

install_release() {
  log "installing ${RELEASE} into the namespace ${TEST_NAMESPACE}"
  "${KUBECTL}" create namespace "${TEST_NAMESPACE}" >/dev/null
  NAMESPACE_CREATED=true
  "${KUBECTL}" label namespace "${TEST_NAMESPACE}" >/dev/null \
    "${OWNER_LABEL_KEY}=${OWNER_LABEL_VALUE}" pod-security.kubernetes.io/enforce=restricted
  "${HELM}" install "${RELEASE}" "${ROOT}/chart" --namespace "${TEST_NAMESPACE}" --wait --timeout 180s \
    >"${WORK_DIR}/helm-install.log" 2>&1 || {
    tail -n 5 "${WORK_DIR}/helm-install.log" >&2
    die "helm install failed: are the images loaded into the cluster?"
  }
}

# Starts kubectl port-forward to the API's Service on a free loopback port.
start_port_forward() {
  stop_port_forward
  local output="${WORK_DIR}/port-forward.log" port="" attempt
  kube port-forward --address 127.0.0.1 "service/${RELEASE}" 0:80 >"${output}" 2>&1 &
  PORT_FORWARD_PID=$!
  for attempt in $(seq 1 30); do
    port="$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "${output}" | head -n 1)"
    [[ -n "${port}" ]] && break
    sleep 1
  done
  [[ -n "${port}" ]] || die "kubectl port-forward did not start after ${attempt} s: $(cat "${output}")"
  API_URL="http://127.0.0.1:${port}"
}

write_images() {
  local dir="${WORK_DIR}/images"
  mkdir -p "${dir}"
  printf '%s' "${PNG_BASE64}" | base64 -d >"${dir}/good.png"
  printf '%s' "${GIF_BASE64}" | base64 -d >"${dir}/good.gif"
  # Cut inside the IDAT chunk: sniffed as a PNG at upload, rejected by the
  # runner with CorruptImage.
  head -c 75 "${dir}/good.png" >"${dir}/truncated.png"
}

# Uploads a file under a given name and prints the job id.
upload() {
  local file="$1" name="$2" response
  response="$(curl -sS --max-time 30 -F "image=@${file};filename=\"${name}\"" "${API_URL}/v1/jobs")" ||
    die "uploading ${file} failed"
  printf '%s' "${response}" | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p'
}

job_status() {
  curl -sS --max-time 10 "${API_URL}/v1/jobs/$1" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}

# Waits until the job has left "processing" and prints its status.
wait_for_job() {
  local id="$1" status="" waited=0
  while ((waited < JOB_TIMEOUT_SECONDS)); do
    status="$(job_status "${id}")"
    if [[ -n "${status}" && "${status}" != processing ]]; then break; fi
    sleep 2
    waited=$((waited + 2))
  done
  echo "${status}"
}

# Waits until a runner pod of the job cannot pull its image and prints the reason.
wait_for_pull_error() {
  local id="$1" reason="" waited=0
  while ((waited < PULL_ERROR_TIMEOUT_SECONDS)); do
    reason="$(kube get pods --selector "thumbnailer.cogent.co.jp/job-id=${id}" \
      --output jsonpath='{.items[*].status.containerStatuses[*].state.waiting.reason}' 2>/dev/null || true)"
    if [[ "${reason}" =~ (ErrImagePull|ImagePullBackOff|ErrImageNeverPull) ]]; then break; fi
    sleep 3
    waited=$((waited + 3))
  done
  echo "${reason}"
}

# --- Scenario --------------------------------------------------------------------

upload_and_break() {
  local images="${WORK_DIR}/images" id status
  start_port_forward
  log "uploading through ${API_URL}"
  GOOD_PNG_ID="$(upload "${images}/good.png" "${SECRET_NAMES[0]}")"
  GOOD_GIF_ID="$(upload "${images}/good.gif" "${SECRET_NAMES[1]}")"
  BAD_ID="$(upload "${images}/truncated.png" "${SECRET_NAMES[2]}")"

  for id in "${GOOD_PNG_ID}" "${GOOD_GIF_ID}"; do
    status="$(wait_for_job "${id}")"
    if [[ "${status}" == succeeded ]]; then pass "job ${id} succeeded"; else fail "job ${id} succeeded (status: ${status:-none})"; fi
  done
  status="$(wait_for_job "${BAD_ID}")"
  if [[ "${status}" == failed ]]; then pass "truncated upload failed"; else fail "truncated upload failed (status: ${status:-none})"; fi
  check "API keeps the secret file name (so its absence below means something)" \
    grep -qF "\"filename\":\"${SECRET_NAMES[0]}\"" <(curl -sS --max-time 10 "${API_URL}/v1/jobs/${GOOD_PNG_ID}")

  log "breaking the runner image: image.runner.repository=${MISSING_RUNNER_REPOSITORY}"
  "${HELM}" upgrade "${RELEASE}" "${ROOT}/chart" --namespace "${TEST_NAMESPACE}" --reuse-values \
    --set "image.runner.repository=${MISSING_RUNNER_REPOSITORY}" --wait --timeout 180s >>"${WORK_DIR}/helm-install.log" 2>&1 ||
    die "helm upgrade failed: $(tail -n 3 "${WORK_DIR}/helm-install.log")"
  start_port_forward
  BROKEN_ID="$(upload "${images}/good.png" "${SECRET_NAMES[3]}")"
  local reason
  reason="$(wait_for_pull_error "${BROKEN_ID}")"
  if [[ -n "${reason}" ]]; then pass "runner pod of the broken release cannot pull (${reason})"; else fail "runner pod of the broken release cannot pull"; fi
  stop_port_forward
}

take_bundle() {
  mkdir -p "${WORK_DIR}/out"
  log "taking the bundle"
  if make -C "${ROOT}" --no-print-directory support-bundle NAMESPACE="${TEST_NAMESPACE}" RELEASE="${RELEASE}" \
    OUT="${WORK_DIR}/out" HELM="${HELM}" >"${WORK_DIR}/make.log" 2>&1; then
    pass "make support-bundle exits 0"
  else
    fail "make support-bundle exits 0"
    cat "${WORK_DIR}/make.log" >&2
  fi
}

# Takes a second bundle with a kubectl that is not allowed pods/exec, as for
# a user with a narrower Role: readiness and metrics then come through the API
# server's service proxy, and volume usage is listed as not collected.
take_bundle_without_exec() {
  local wrapper="${WORK_DIR}/kubectl-without-exec" real
  real="$(command -v "${KUBECTL}")"
  cat >"${wrapper}" <<EOF
#!/usr/bin/env bash
for argument in "\$@"; do
  if [[ "\${argument}" == exec ]]; then
    echo 'Error from server (Forbidden): pods is forbidden: cannot create resource "pods/exec" (test-support-bundle)' >&2
    exit 1
  fi
done
exec "${real}" "\$@"
EOF
  chmod +x "${wrapper}"
  mkdir -p "${WORK_DIR}/out-without-exec"
  if env KUBECTL="${wrapper}" HELM="${HELM}" NAMESPACE="${TEST_NAMESPACE}" RELEASE="${RELEASE}" OUT="${WORK_DIR}/out-without-exec" \
    "${ROOT}/hack/support-bundle.sh" >"${WORK_DIR}/without-exec.log" 2>&1; then
    pass "bundle without pods/exec exits 0"
  else
    fail "bundle without pods/exec exits 0"
    cat "${WORK_DIR}/without-exec.log" >&2
    return 0
  fi

  local dir="${WORK_DIR}/extracted-without-exec" bundle
  mkdir -p "${dir}"
  tar -xzf "${WORK_DIR}"/out-without-exec/*.tar.gz -C "${dir}"
  bundle="$(echo "${dir}"/thumbnailer-support-*)"
  check "without pods/exec, readyz comes through the service proxy" grep -q '"status":"ready"' "${bundle}/api/readyz.json"
  check "without pods/exec, metrics come through the service proxy" grep -q '^thumbnailer_' "${bundle}/api/metrics.txt"
  check "without pods/exec, the bundle says how readyz was fetched" grep -q "service proxy" "${bundle}/api/fetched-through.txt"
  check "without pods/exec, the summary lists volume usage as not collected" \
    grep -q 'volume/usage.txt (failed): .*pods/exec' "${bundle}/SUMMARY.txt"
  check "without pods/exec, the summary does not list readyz as missing" \
    bash -c "! grep -q 'api/readyz.json (failed)' '${bundle}/SUMMARY.txt'"
}

# Installs a second release whose claim names a StorageClass that does not
# exist, and checks that its bundle's summary names the class.
check_missing_storage_class() {
  local release="${RELEASE}-no-class" class=does-not-exist
  log "installing ${release} with persistence.storageClassName=${class}"
  "${HELM}" install "${release}" "${ROOT}/chart" --namespace "${TEST_NAMESPACE}" \
    --set "persistence.storageClassName=${class}" >>"${WORK_DIR}/helm-install.log" 2>&1 ||
    die "helm install ${release} failed: $(tail -n 3 "${WORK_DIR}/helm-install.log")"
  # The scheduler reports the unbound claim within seconds.
  sleep 10

  mkdir -p "${WORK_DIR}/out-no-class"
  if make -C "${ROOT}" --no-print-directory support-bundle NAMESPACE="${TEST_NAMESPACE}" RELEASE="${release}" \
    OUT="${WORK_DIR}/out-no-class" HELM="${HELM}" >"${WORK_DIR}/no-class.log" 2>&1; then
    pass "bundle of the release without a StorageClass exits 0"
  else
    fail "bundle of the release without a StorageClass exits 0"
    cat "${WORK_DIR}/no-class.log" >&2
    return 0
  fi

  local dir="${WORK_DIR}/extracted-no-class" summary
  mkdir -p "${dir}"
  tar -xzf "${WORK_DIR}"/out-no-class/*.tar.gz -C "${dir}"
  summary="$(echo "${dir}"/thumbnailer-support-*/SUMMARY.txt)"
  check "summary names the missing StorageClass" \
    grep -qF "PVC ${release}-data is Pending (StorageClass \"${class}\" not found" "${summary}"
  check "summary reports the API deployment without ready replicas" \
    grep -q "deployment ${release} has 0/1 ready replicas" "${summary}"
  check "summary leaves the other release's runner out" bash -c "! grep -q 'runner image' '${summary}'"
  echo "--- Findings of the release without a StorageClass"
  sed -n '/^Findings$/,/^$/p' "${summary}"
  "${HELM}" uninstall "${release}" --namespace "${TEST_NAMESPACE}" >/dev/null 2>&1 || true
}

# --- Checks -----------------------------------------------------------------------

check_archive() {
  local archives=("${WORK_DIR}"/out/thumbnailer-support-"${TEST_NAMESPACE}"-*.tar.gz)
  if [[ ${#archives[@]} -eq 1 && -f "${archives[0]}" ]]; then
    pass "one archive named thumbnailer-support-${TEST_NAMESPACE}-<timestamp>.tar.gz"
  else
    fail "one archive named thumbnailer-support-${TEST_NAMESPACE}-<timestamp>.tar.gz"
    return 1
  fi
  ARCHIVE="${archives[0]}"
  if [[ "${ARCHIVE##*/}" =~ ^thumbnailer-support-${TEST_NAMESPACE}-[0-9]{8}T[0-9]{6}Z\.tar\.gz$ ]]; then
    pass "archive name has a UTC timestamp"
  else
    fail "archive name has a UTC timestamp: ${ARCHIVE##*/}"
  fi
  if [[ "$(tar -tzf "${ARCHIVE}" | head -n 1)" == */SUMMARY.txt ]]; then
    pass "SUMMARY.txt is the archive's first entry"
  else
    fail "SUMMARY.txt is the archive's first entry"
  fi
  mkdir -p "${WORK_DIR}/extracted"
  tar -xzf "${ARCHIVE}" -C "${WORK_DIR}/extracted"
  BUNDLE="$(echo "${WORK_DIR}"/extracted/thumbnailer-support-*)"
}

check_contents() {
  local path
  for path in SUMMARY.txt versions.txt collection-log.tsv helm/status.txt helm/history.txt helm/values.yaml \
    helm/values-all.yaml helm/manifest.yaml objects/deployments.yaml objects/pods.yaml objects/jobs.yaml \
    objects/services.yaml objects/persistentvolumeclaims.yaml objects/persistentvolumes.yaml \
    objects/configmaps.yaml objects/networkpolicies.yaml objects/roles.yaml objects/rolebindings.yaml \
    objects/serviceaccounts.yaml objects/resourcequotas.yaml objects/limitranges.yaml objects/leases.yaml \
    events/events.txt events/events.yaml api/readyz.json api/metrics.txt api/fetched-through.txt \
    volume/usage.txt nodes/conditions.txt runners/failed-runners.tsv; do
    check "bundle has ${path}" test -s "${BUNDLE}/${path}"
  done

  check "versions name kubectl, helm, the server and the chart" \
    grep -q 'Server Version' "${BUNDLE}/versions.txt"
  check "versions name the chart" grep -q 'chart: thumbnailer-' "${BUNDLE}/versions.txt"
  check "versions list the running images with digests" grep -q 'thumbnailer-api:.*sha256:' "${BUNDLE}/versions.txt"
  check "helm values show the broken setting" grep -q "repository: ${MISSING_RUNNER_REPOSITORY}" "${BUNDLE}/helm/values.yaml"
  check "API log of the current container is there" any_nonempty "${BUNDLE}"/logs/api/*.log
  check "runner log of the failed job is there" any_nonempty "${BUNDLE}/logs/runners/thumb-${BAD_ID}"-*.log
  check "termination message of the failed runner names CorruptImage" \
    grep -q '"reason":"CorruptImage"' "${BUNDLE}/runners/thumb-${BAD_ID}"-*.termination-message
  check "readyz was taken through the API" grep -q '"status":"ready"' "${BUNDLE}/api/readyz.json"
  check "metrics snapshot has thumbnailer_ series" grep -q '^thumbnailer_jobs_created_total' "${BUNDLE}/api/metrics.txt"
  check "volume usage counts the 4 job folders" grep -qx 'jobFolders=4' "${BUNDLE}/volume/usage.txt"
  check "volume usage has free bytes" grep -q '^bytesFree=[1-9]' "${BUNDLE}/volume/usage.txt"
  check "events are sorted by time" bash -c "tail -n +2 '${BUNDLE}/facts/events.tsv' | cut -f 1 | sort -c"
  check "node conditions list Ready" grep -q 'Ready=True' "${BUNDLE}/nodes/conditions.txt"
  check "only the release's ConfigMaps" bash -c "! grep -q 'name: kube-root-ca.crt' '${BUNDLE}/objects/configmaps.yaml'"
  check "no Secret object" bash -c "! grep -rqE '^(  )?kind: Secret\$' '${BUNDLE}'"
}

check_summary() {
  local summary="${BUNDLE}/SUMMARY.txt"
  check "summary names the runner image that cannot be pulled" \
    grep -qE "runner image ${MISSING_RUNNER_REPOSITORY}:[^ ]+ cannot be pulled \((ErrImagePull|ImagePullBackOff)" "${summary}"
  check "summary names the Helm value to fix" grep -q 'image.runner.repository' "${summary}"
  check "summary counts the corrupt upload" grep -q '1 job failed with CorruptImage' "${summary}"
  check "summary counts the jobs" grep -q 'Jobs: 4 in total: 2 succeeded, 1 failed, 1 processing' "${summary}"
  check "summary shows the readiness" grep -q 'API /readyz: {"status":"ready"' "${summary}"
  check "summary lists the files" grep -q '^  api/metrics.txt$' "${summary}"
}

check_scrubbed() {
  local name leaks
  for name in "${SECRET_NAMES[@]}" "${SECRET_FRAGMENTS[@]}"; do
    leaks="$(LC_ALL=C grep -rlaF -e "${name}" "${BUNDLE}" || true)"
    if tar -tzf "${ARCHIVE}" | grep -qF -e "${name}"; then leaks="${leaks} (and the archive's file names)"; fi
    if [[ -z "${leaks}" ]]; then pass "no \"${name}\" in the bundle"; else fail "no \"${name}\" in the bundle: ${leaks}"; fi
  done

  # The same byte search on the uploaded files first, so that it is known to
  # find what it looks for. The uploads are a PNG and a GIF, so the JPEG and
  # WebP patterns have no such control.
  local signature signatures=($'\x89PNG' 'GIF8[79]a' $'\xff\xd8\xff' 'WEBPVP8')
  for signature in "${signatures[@]:0:2}"; do
    check "image byte search finds $(printf '%q' "${signature}") in the uploads" \
      bash -c "LC_ALL=C grep -rqaE -e \"\$1\" '${WORK_DIR}/images'" _ "${signature}"
  done
  for signature in "${signatures[@]}"; do
    leaks="$(LC_ALL=C grep -rlaE -e "${signature}" "${BUNDLE}" || true)"
    if [[ -z "${leaks}" ]]; then
      pass "no $(printf '%q' "${signature}") bytes in the bundle"
    else
      fail "no $(printf '%q' "${signature}") bytes in the bundle: ${leaks}"
    fi
  done

  # The script's own scrub check refuses a bundle with an image in it.
  local copy="${WORK_DIR}/tampered"
  cp -R "${BUNDLE}" "${copy}"
  cp "${WORK_DIR}/images/good.png" "${copy}/logs/smuggled.log"
  local output status=0
  output="$("${ROOT}/hack/support-bundle.sh" scrub-check "${copy}" 2>&1)" || status=$?
  if [[ "${status}" -ne 0 && "${output}" == *"logs/smuggled.log contains the signature of a PNG image"* ]]; then
    pass "scrub check fails loudly on a bundle with a PNG in it"
  else
    fail "scrub check fails loudly on a bundle with a PNG in it (exit ${status}: ${output})"
  fi
  check "scrub check passes the real bundle" "${ROOT}/hack/support-bundle.sh" scrub-check "${BUNDLE}"
}

# Cleans up, then prints the counts as the last line. Exits 1 when a check failed.
finish() {
  local status=$?
  if ((status != 0 && FAILED == 0)); then fail "the test stopped early with exit status ${status}"; fi
  cleanup
  echo "${PASSED} passed, ${FAILED} failed"
  if ((FAILED > 0 && status == 0)); then status=1; fi
  exit "${status}"
}

main() {
  trap finish EXIT
  trap 'exit 130' INT TERM
  preflight
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/test-support-bundle.XXXXXX")"
  write_images
  install_release
  upload_and_break
  take_bundle
  if check_archive; then
    check_contents
    check_summary
    check_scrubbed
    take_bundle_without_exec
    check_missing_storage_class
    echo "--- SUMMARY.txt of the bundle"
    cat "${BUNDLE}/SUMMARY.txt"
    echo "---"
  fi
}

main "$@"
