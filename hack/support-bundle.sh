#!/usr/bin/env bash
# Collects what a support engineer needs about one Thumbnailer release into
# one archive, thumbnailer-support-<namespace>-<UTC timestamp>.tar.gz, with
# SUMMARY.txt on top. It never reads meta.json (the only file that contains
# original file names), never reads Secrets, and refuses to write the archive
# when a collected file contains the signature of an image.
#
# Usage:
#   hack/support-bundle.sh [--namespace NS] [--release NAME] [--out DIR] [--failed-runners N]
#   hack/support-bundle.sh summarize DIR     re-write DIR/SUMMARY.txt from the facts in DIR
#   hack/support-bundle.sh scrub-check DIR   exit 1 when a file under DIR contains image bytes
#
# Environment: NAMESPACE (default thumbnails), RELEASE (thumbnailer), OUT (.),
# FAILED_RUNNERS (20), KUBECTL (kubectl), HELM (helm), REQUEST_TIMEOUT (60s).
# kubectl and helm use the current kubeconfig context (KUBECONFIG as usual).
#
# Needs kubectl, and helm for the release's part, besides bash 3.2 or later,
# awk, sed, sort, tar and gzip, so that it runs on macOS as on Linux. Every
# collection step that fails is recorded in collection-log.tsv and listed in
# SUMMARY.txt instead of stopping the script.
set -euo pipefail

NAMESPACE="${NAMESPACE:-thumbnails}"
RELEASE="${RELEASE:-thumbnailer}"
OUT="${OUT:-.}"
FAILED_RUNNERS="${FAILED_RUNNERS:-20}"
KUBECTL="${KUBECTL:-kubectl}"
HELM="${HELM:-helm}"
REQUEST_TIMEOUT="${REQUEST_TIMEOUT:-60s}"

# The API container's port and the data volume's mount, both fixed by the chart.
readonly API_PORT=8080
readonly DATA_DIR=/data
# Lines of the API's log per container, and bytes of each runner's log.
readonly API_LOG_LINES=20000
readonly RUNNER_LOG_BYTES=65536
# Free space under which the summary reports the data volume as nearly full.
readonly VOLUME_FREE_PERCENT_MIN=10

STAGING_DIR=""
BUNDLE_DIR=""
HELM_OK=false

log() {
  echo "support-bundle: $*" >&2
}

die() {
  log "$*"
  exit 1
}

cleanup() {
  if [[ -n "${STAGING_DIR}" && -d "${STAGING_DIR}" ]]; then
    rm -rf "${STAGING_DIR:?}"
  fi
  STAGING_DIR=""
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

# --- Recording each step -----------------------------------------------------

# Appends one line to collection-log.tsv: status (ok, failed, skipped, or
# none when there was nothing to collect), the bundle path, and why. mark_replaced later turns a failure that a fallback
# made good into "replaced".
record() {
  local status="$1" path="$2" detail="${3:-}"
  detail="$(printf '%s' "${detail}" | tr '\t\n' '  ' | cut -c 1-300)"
  printf '%s\t%s\t%s\n' "${status}" "${path}" "${detail}" >>"${BUNDLE_DIR}/collection-log.tsv"
}

# Runs a command with its stdout going to a bundle path. A failure is recorded
# with the last line of the command's stderr, and the script goes on.
collect() {
  local path="$1"
  shift
  local file="${BUNDLE_DIR}/${path}" errors="${STAGING_DIR}/stderr"
  mkdir -p "$(dirname "${file}")"
  if "$@" >"${file}" 2>"${errors}"; then
    record ok "${path}"
    return 0
  fi
  record failed "${path}" "$(grep -v '^[[:space:]]*$' "${errors}" | tail -n 1)"
  if [[ ! -s "${file}" ]]; then rm -f "${file}"; fi
  return 1
}

# Like collect, for a facts table: the header line goes on top of the output.
collect_table() {
  local path="$1" header="$2"
  shift 2
  local file="${BUNDLE_DIR}/${path}"
  collect "${path}" "$@" || return 1
  { printf '%s\n' "${header}"; cat "${file}"; } >"${file}.with-header"
  mv "${file}.with-header" "${file}"
}

kube() {
  "${KUBECTL}" --request-timeout="${REQUEST_TIMEOUT}" "$@"
}

kube_ns() {
  kube --namespace "${NAMESPACE}" "$@"
}

release_selector() {
  echo "app.kubernetes.io/instance=${RELEASE}"
}

# --- Templates for the facts tables ------------------------------------------
# kubectl's go-template output, one row per object, tab-separated. Free text
# (messages) is printed with %q, so it never contains a tab or a newline.

labels_template() {
  cat <<'EOF'
{{- $instance := "" -}}{{- $component := "" -}}{{- $jobId := "" -}}
{{- with .metadata.labels -}}
{{- with index . "app.kubernetes.io/instance" }}{{ $instance = . }}{{ end -}}
{{- with index . "app.kubernetes.io/component" }}{{ $component = . }}{{ end -}}
{{- with index . "thumbnailer.cogent.co.jp/job-id" }}{{ $jobId = . }}{{ end -}}
{{- end -}}
EOF
}

readonly PODS_HEADER='# pod	instance	component	jobId	phase	created	container	image	imageID	ready	restarts	state	reason	exitCode	finishedAt	message	lastReason	lastExitCode'

# One row per container. A pod without container statuses gets one row with
# container "-", and with state "unscheduled" when it is not scheduled.
pods_template() {
  echo '{{- range .items -}}'
  labels_template
  cat <<'EOF'
{{- $prefix := printf "%s\t%s\t%s\t%s\t%s\t%s" .metadata.name $instance $component $jobId (or .status.phase "") .metadata.creationTimestamp -}}
{{- if .status.containerStatuses -}}
{{- range .status.containerStatuses -}}
{{ $prefix }}{{"\t"}}{{ .name }}{{"\t"}}{{ .image }}{{"\t"}}{{ or .imageID "" }}{{"\t"}}{{ .ready }}{{"\t"}}{{ .restartCount }}{{"\t"}}
{{- with .state.waiting }}waiting{{"\t"}}{{ or .reason "" }}{{"\t\t\t"}}{{ printf "%q" (or .message "") }}{{ end -}}
{{- with .state.running }}running{{"\t\t\t\t"}}{{ printf "%q" "" }}{{ end -}}
{{- with .state.terminated }}terminated{{"\t"}}{{ or .reason "" }}{{"\t"}}{{ .exitCode }}{{"\t"}}{{ or .finishedAt "" }}{{"\t"}}{{ printf "%q" (or .message "") }}{{ end -}}
{{"\t"}}{{ with .lastState }}{{ with .terminated }}{{ or .reason "" }}{{"\t"}}{{ .exitCode }}{{ else }}{{"\t"}}{{ end }}{{ else }}{{"\t"}}{{ end }}
{{ end -}}
{{- else -}}
{{- $reason := "" -}}{{- $message := "" -}}
{{- range .status.conditions -}}{{- if and (eq .type "PodScheduled") (eq .status "False") -}}{{- $reason = or .reason "Unschedulable" -}}{{- $message = or .message "" -}}{{- end -}}{{- end -}}
{{ $prefix }}{{"\t-\t\t\tfalse\t0\t"}}{{ if $reason }}unscheduled{{ else }}none{{ end }}{{"\t"}}{{ $reason }}{{"\t\t\t"}}{{ printf "%q" $message }}{{"\t\t"}}
{{ end -}}
{{- end -}}
EOF
}

readonly JOBS_HEADER='# job	instance	component	jobId	created	suspend	active	failedPods	outcome	reason	message'

jobs_template() {
  echo '{{- range .items -}}'
  labels_template
  cat <<'EOF'
{{- $outcome := "" -}}{{- $reason := "" -}}{{- $message := "" -}}
{{- with .status -}}{{- range .conditions -}}
{{- if and (eq .status "True") (or (eq .type "Failed") (eq .type "Complete")) -}}{{- $outcome = .type -}}{{- $reason = or .reason "" -}}{{- $message = or .message "" -}}{{- end -}}
{{- end -}}{{- end -}}
{{ .metadata.name }}{{"\t"}}{{ $instance }}{{"\t"}}{{ $component }}{{"\t"}}{{ $jobId }}{{"\t"}}{{ .metadata.creationTimestamp }}{{"\t"}}{{ or .spec.suspend false }}{{"\t"}}{{ or .status.active 0 }}{{"\t"}}{{ or .status.failed 0 }}{{"\t"}}{{ $outcome }}{{"\t"}}{{ $reason }}{{"\t"}}{{ printf "%q" $message }}
{{ end -}}
EOF
}

readonly DEPLOYMENTS_HEADER='# deployment	instance	component	replicas	readyReplicas	availableReplicas	problem'

# "problem" is the message of a True ReplicaFailure condition (a pod that
# admission rejects, a quota) or of a False Progressing condition.
deployments_template() {
  echo '{{- range .items -}}'
  labels_template
  cat <<'EOF'
{{- $problem := "" -}}
{{- with .status -}}{{- range .conditions -}}
{{- if and (eq .type "Progressing") (eq .status "False") -}}{{- $problem = or .message "" -}}{{- end -}}
{{- end -}}{{- range .conditions -}}
{{- if and (eq .type "ReplicaFailure") (eq .status "True") -}}{{- $problem = or .message "" -}}{{- end -}}
{{- end -}}{{- end -}}
{{ .metadata.name }}{{"\t"}}{{ $instance }}{{"\t"}}{{ $component }}{{"\t"}}{{ or .spec.replicas 0 }}{{"\t"}}{{ or .status.readyReplicas 0 }}{{"\t"}}{{ or .status.availableReplicas 0 }}{{"\t"}}{{ printf "%q" $problem }}
{{ end -}}
EOF
}

readonly PVCS_HEADER='# claim	phase	storageClassName	volumeName	accessModes	requested	capacity'

# storageClassName "<unset>" means the claim names no class, because none was
# the default when it was made. An empty name requests no class on purpose,
# for a PersistentVolume bound by hand.
pvcs_template() {
  cat <<'EOF'
{{- range .items -}}
{{- $class := "<unset>" -}}{{- with .spec -}}{{- $named := index . "storageClassName" -}}{{- if ne (printf "%v" $named) "<nil>" -}}{{- $class = $named -}}{{- end -}}{{- end -}}
{{ .metadata.name }}{{"\t"}}{{ or .status.phase "" }}{{"\t"}}{{ $class }}{{"\t"}}{{ or .spec.volumeName "" }}{{"\t"}}{{ range $i, $mode := .spec.accessModes }}{{ if $i }},{{ end }}{{ $mode }}{{ end }}{{"\t"}}{{ with .spec.resources }}{{ with .requests }}{{ index . "storage" }}{{ end }}{{ end }}{{"\t"}}{{ with .status.capacity }}{{ index . "storage" }}{{ end }}
{{ end -}}
EOF
}

readonly STORAGECLASSES_HEADER='# storageClass	provisioner	default	volumeBindingMode'

storageclasses_template() {
  cat <<'EOF'
{{- range .items -}}
{{ .metadata.name }}{{"\t"}}{{ .provisioner }}{{"\t"}}{{ with .metadata.annotations }}{{ or (index . "storageclass.kubernetes.io/is-default-class") "" }}{{ end }}{{"\t"}}{{ or .volumeBindingMode "" }}
{{ end -}}
EOF
}

readonly EVENTS_HEADER='# time	type	reason	kind	name	count	message'

events_template() {
  cat <<'EOF'
{{- range .items -}}
{{ or .lastTimestamp .eventTime .metadata.creationTimestamp }}{{"\t"}}{{ or .type "" }}{{"\t"}}{{ or .reason "" }}{{"\t"}}{{ .involvedObject.kind }}{{"\t"}}{{ .involvedObject.name }}{{"\t"}}{{ or .count 1 }}{{"\t"}}{{ printf "%q" (or .message "") }}
{{ end -}}
EOF
}

readonly NODES_HEADER='# node	ready	pressure	unschedulable	allocatableCpu	allocatableMemory	allocatablePods	allocatableEphemeralStorage	kubeletVersion'

nodes_template() {
  cat <<'EOF'
{{- range .items -}}
{{- $ready := "Unknown" -}}{{- $pressure := "" -}}
{{- range .status.conditions -}}
{{- if eq .type "Ready" -}}{{- $ready = .status -}}{{- else if eq .status "True" -}}{{- $pressure = printf "%s%s " $pressure .type -}}{{- end -}}
{{- end -}}
{{ .metadata.name }}{{"\t"}}{{ $ready }}{{"\t"}}{{ $pressure }}{{"\t"}}{{ or .spec.unschedulable false }}{{"\t"}}{{ with .status.allocatable }}{{ index . "cpu" }}{{"\t"}}{{ index . "memory" }}{{"\t"}}{{ index . "pods" }}{{"\t"}}{{ or (index . "ephemeral-storage") "" }}{{ end }}{{"\t"}}{{ .status.nodeInfo.kubeletVersion }}
{{ end -}}
EOF
}

# Conditions, allocatable and capacity of each node, for people to read.
node_conditions_template() {
  cat <<'EOF'
{{- range .items -}}
node {{ .metadata.name }} (kubelet {{ .status.nodeInfo.kubeletVersion }}, {{ .status.nodeInfo.osImage }}, {{ .status.nodeInfo.containerRuntimeVersion }}){{ if .spec.unschedulable }}, cordoned{{ end }}
  conditions:
{{ range .status.conditions }}    {{ .type }}={{ .status }} {{ or .reason "" }}: {{ or .message "" }} (since {{ .lastTransitionTime }})
{{ end }}  allocatable:{{ range $name, $value := .status.allocatable }} {{ $name }}={{ $value }}{{ end }}
  capacity:{{ range $name, $value := .status.capacity }} {{ $name }}={{ $value }}{{ end }}
{{ with .spec.taints }}  taints:{{ range . }} {{ .key }}={{ or .value "" }}:{{ .effect }}{{ end }}
{{ end }}
{{ end -}}
EOF
}

# --- Programs run inside the API pod -------------------------------------------
# The API image has Node.js and no guaranteed shell or df, so these run with
# `node -e`. They print nothing but numbers and job ids.

# Fetches one path of the API on the pod's loopback: the body on stdout, the
# HTTP status on stderr. Exits 0 for any HTTP response, so a 503 from /readyz
# is kept with its body.
# shellcheck disable=SC2016 # JavaScript, expanded by node, not by bash
readonly FETCH_PROGRAM='
const [port, path] = process.argv.slice(1);
fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10000) })
  .then(async (response) => {
    process.stdout.write(await response.text());
    console.error(`HTTP ${response.status}`);
  })
  .catch((error) => {
    console.error(`GET ${path} failed: ${error.message}`);
    process.exitCode = 1;
  });
'

# Prints the volume's usage as key=value lines, then one "jobFolder <id>"
# line per job folder. It checks which files each folder has, by name, and
# opens none of them. Other entries are counted, never named.
# shellcheck disable=SC2016 # JavaScript, expanded by node, not by bash
readonly VOLUME_PROGRAM='
const fs = require("node:fs");
const path = require("node:path");
const dataDir = process.argv[1];
const jobIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const stats = fs.statfsSync(dataDir);
const counts = {
  bytesTotal: stats.blocks * stats.bsize,
  bytesUsed: (stats.blocks - stats.bfree) * stats.bsize,
  bytesFree: stats.bavail * stats.bsize,
  inodesTotal: stats.files,
  inodesFree: stats.ffree,
  jobFolders: 0,
  withOriginal: 0,
  withThumbnail: 0,
  withResult: 0,
  originalBytes: 0,
  thumbnailBytes: 0,
  otherEntries: 0,
};
const ids = [];
const sizeOf = (file) => {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
};
const jobsDir = path.join(dataDir, "jobs");
const entries = fs.existsSync(jobsDir) ? fs.readdirSync(jobsDir, { withFileTypes: true }) : [];
for (const entry of entries) {
  if (!entry.isDirectory() || !jobIdPattern.test(entry.name)) {
    counts.otherEntries += 1;
    continue;
  }
  counts.jobFolders += 1;
  ids.push(entry.name);
  const folder = path.join(jobsDir, entry.name);
  const original = sizeOf(path.join(folder, "original"));
  const thumbnail = sizeOf(path.join(folder, "thumbnail"));
  if (original >= 0) {
    counts.withOriginal += 1;
    counts.originalBytes += original;
  }
  if (thumbnail >= 0) {
    counts.withThumbnail += 1;
    counts.thumbnailBytes += thumbnail;
  }
  if (sizeOf(path.join(folder, "result.json")) >= 0) counts.withResult += 1;
}
for (const [key, value] of Object.entries(counts)) console.log(`${key}=${value}`);
for (const id of ids.sort()) console.log(`jobFolder ${id}`);
'

# --- Collection ------------------------------------------------------------------

collect_helm() {
  if ! command -v "${HELM}" >/dev/null 2>&1; then
    local path
    for path in helm/status.txt helm/history.txt helm/values.yaml helm/values-all.yaml helm/manifest.yaml; do
      record skipped "${path}" "helm (${HELM}) is not installed: install helm 3 or 4, or set HELM"
    done
    return 0
  fi
  if collect helm/status.txt "${HELM}" status "${RELEASE}" --namespace "${NAMESPACE}"; then
    HELM_OK=true
  fi
  collect helm/list.yaml helm_list || true
  collect helm/history.txt "${HELM}" history "${RELEASE}" --namespace "${NAMESPACE}" --max 20 || true
  collect helm/values.yaml "${HELM}" get values "${RELEASE}" --namespace "${NAMESPACE}" || true
  collect helm/values-all.yaml "${HELM}" get values "${RELEASE}" --namespace "${NAMESPACE}" --all || true
  collect helm/manifest.yaml manifest_without_secrets || true
}

# Lists the release whatever its status: helm 3 needs --all for that, and
# helm 4 lists every status by default and has no --all.
helm_list() {
  "${HELM}" list --namespace "${NAMESPACE}" --filter "^${RELEASE}\$" --output yaml --all 2>/dev/null ||
    "${HELM}" list --namespace "${NAMESPACE}" --filter "^${RELEASE}\$" --output yaml
}

# The release's manifest, with every Secret document dropped (the chart makes
# none, but a values override or a later chart version might).
manifest_without_secrets() {
  "${HELM}" get manifest "${RELEASE}" --namespace "${NAMESPACE}" |
    awk '
      function flush() { if (doc != "" && !secret) printf "%s", doc; doc = ""; secret = 0 }
      /^---/ { flush() }
      /^kind:[[:space:]]*Secret[[:space:]]*$/ { secret = 1 }
      { doc = doc $0 "\n" }
      END { flush() }
    '
}

collect_objects() {
  local kinds="deployments replicasets pods jobs services endpointslices persistentvolumeclaims networkpolicies roles rolebindings serviceaccounts resourcequotas limitranges leases poddisruptionbudgets"
  local kind
  for kind in ${kinds}; do
    collect "objects/${kind}.yaml" kube_ns get "${kind}" --output yaml || true
  done
  # Only the release's ConfigMaps, because others in the namespace may contain anything.
  collect objects/configmaps.yaml kube_ns get configmaps --selector "$(release_selector)" --output yaml || true
  collect objects/storageclasses.yaml kube get storageclasses --output yaml || true

  local volumes
  volumes="$(awk -F '\t' '!/^#/ && $4 != "" { print $4 }' "${BUNDLE_DIR}/facts/pvcs.tsv" 2>/dev/null || true)"
  if [[ -n "${volumes}" ]]; then
    # shellcheck disable=SC2086 # one argument per volume name
    collect objects/persistentvolumes.yaml kube get persistentvolumes ${volumes} --output yaml || true
  else
    record none objects/persistentvolumes.yaml "no PersistentVolumeClaim in the namespace is bound"
  fi
}

collect_facts() {
  collect_table facts/pods.tsv "${PODS_HEADER}" kube_ns get pods --output go-template="$(pods_template)" || true
  collect_table facts/jobs.tsv "${JOBS_HEADER}" kube_ns get jobs --output go-template="$(jobs_template)" || true
  collect_table facts/deployments.tsv "${DEPLOYMENTS_HEADER}" kube_ns get deployments --output go-template="$(deployments_template)" || true
  collect_table facts/pvcs.tsv "${PVCS_HEADER}" kube_ns get persistentvolumeclaims --output go-template="$(pvcs_template)" || true
  collect_table facts/storageclasses.tsv "${STORAGECLASSES_HEADER}" kube get storageclasses --output go-template="$(storageclasses_template)" || true
  collect_table facts/nodes.tsv "${NODES_HEADER}" kube get nodes --output go-template="$(nodes_template)" || true
  if collect_table facts/events.tsv "${EVENTS_HEADER}" kube_ns get events --output go-template="$(events_template)"; then
    sort_events "${BUNDLE_DIR}/facts/events.tsv"
  fi
}

# Sorts the events table by time, oldest first, keeping the header on top.
sort_events() {
  local file="$1"
  {
    head -n 1 "${file}"
    tail -n +2 "${file}" | sort -t "$(printf '\t')" -k 1,1
  } >"${file}.sorted"
  mv "${file}.sorted" "${file}"
}

collect_events() {
  collect events/events.yaml kube_ns get events --output yaml || true
  if [[ -f "${BUNDLE_DIR}/facts/events.tsv" ]]; then
    awk -F '\t' '
      NR == 1 { printf "%-30s %-8s %-24s %-40s %5s  %s\n", "TIME", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"; next }
      {
        message = $7
        if (message ~ /^".*"$/) message = substr(message, 2, length(message) - 2)
        gsub(/\\"/, "\"", message)
        printf "%-30s %-8s %-24s %-40s %5s  %s\n", $1, $2, $3, $4 "/" $5, $6, message
      }
    ' "${BUNDLE_DIR}/facts/events.tsv" >"${BUNDLE_DIR}/events/events.txt"
    record ok events/events.txt
  else
    record failed events/events.txt "the events could not be listed (see facts/events.tsv)"
  fi
}

# Prints the names of the release's pods of one component, one a line. With
# "running" as $2, it prints only those whose phase is Running.
release_pods() {
  local component="$1" phase="${2:-}"
  awk -F '\t' -v release="${RELEASE}" -v component="${component}" -v phase="${phase}" '
    /^#/ { next }
    $2 == release && $3 == component && (phase == "" || $5 == "Running") && !seen[$1]++ { print $1 }
  ' "${BUNDLE_DIR}/facts/pods.tsv" 2>/dev/null || true
}

# Prints "<pod> <container> <restarts>" for each container of the release's API pods.
api_containers() {
  awk -F '\t' -v release="${RELEASE}" '
    /^#/ { next }
    $2 == release && $3 == "api" && $7 != "-" { print $1, $7, $11 }
  ' "${BUNDLE_DIR}/facts/pods.tsv" 2>/dev/null || true
}

collect_api_logs() {
  local containers pod container restarts
  containers="$(api_containers)"
  if [[ -z "${containers}" ]]; then
    record skipped logs/api "no API pod of release ${RELEASE} has a container yet"
    return 0
  fi
  while read -r pod container restarts; do
    collect "logs/api/${pod}.log" kube_ns logs "${pod}" --container "${container}" --tail "${API_LOG_LINES}" || true
    if [[ "${restarts}" == "0" ]]; then
      record none "logs/api/${pod}.previous.log" "the container has not restarted, so there is no previous log"
    else
      collect "logs/api/${pod}.previous.log" kube_ns logs "${pod}" --container "${container}" --tail "${API_LOG_LINES}" --previous || true
    fi
  done <<<"${containers}"
}

# Writes runners/failed-runners.tsv and, for each of the newest failed runner
# pods, its log and its termination message exactly as the kubelet stored it.
collect_failed_runners() {
  local rows pod
  rows="$(awk -F '\t' -v release="${RELEASE}" '
    /^#/ { next }
    $2 == release && $3 == "runner" && $5 == "Failed" { print $1 "\t" $4 "\t" $6 "\t" $15 "\t" $13 "\t" $14 "\t" $16 }
  ' "${BUNDLE_DIR}/facts/pods.tsv" 2>/dev/null | sort -t "$(printf '\t')" -k 3,3r | head -n "${FAILED_RUNNERS}")" || true
  if [[ -z "${rows}" ]]; then
    record none logs/runners "no failed runner pod of release ${RELEASE} is left"
    return 0
  fi

  {
    printf '# pod\tjobId\tcreated\tfinishedAt\treason\texitCode\tterminationMessage\n'
    printf '%s\n' "${rows}"
  } >"${BUNDLE_DIR}/runners/failed-runners.tsv"
  record ok runners/failed-runners.tsv

  while read -r pod; do
    collect "logs/runners/${pod}.log" kube_ns logs "${pod}" --all-containers --limit-bytes "${RUNNER_LOG_BYTES}" || true
    collect "runners/${pod}.termination-message" kube_ns get pod "${pod}" \
      --output jsonpath='{range .status.containerStatuses[*]}{.state.terminated.message}{end}' || true
  done < <(printf '%s\n' "${rows}" | cut -f 1)
}

# Fetches /readyz and /metrics through the API. kubectl exec runs the request
# on the pod's own loopback, so it works under any NetworkPolicy. The API
# server's service proxy is the fallback for a user without pods/exec. It
# reaches the pod from the API server's address, and the chart's
# NetworkPolicy admits that address only while networkPolicy.ingress lists
# no sources.
collect_api_endpoints() {
  local pod container service method=""
  pod="$(release_pods api running | head -n 1)"
  if [[ -n "${pod}" ]]; then
    container="$(api_containers | awk -v pod="${pod}" '$1 == pod { print $2; exit }')"
    if collect api/readyz.json kube_ns exec "${pod}" --container "${container}" -- node -e "${FETCH_PROGRAM}" "${API_PORT}" /readyz; then
      method="kubectl exec ${pod} -- node (GET http://127.0.0.1:${API_PORT} inside the pod)"
      collect api/metrics.txt kube_ns exec "${pod}" --container "${container}" -- node -e "${FETCH_PROGRAM}" "${API_PORT}" /metrics || true
    fi
    collect_volume "${pod}" "${container}"
  else
    record failed volume/usage.txt "no API pod of release ${RELEASE} is running"
  fi

  if [[ -z "${method}" ]]; then
    service="$(kube_ns get services --selector "$(release_selector),app.kubernetes.io/component=api" --output name 2>/dev/null | head -n 1)" || true
    service="${service#service/}"
    if [[ -z "${service}" ]]; then
      record failed api/readyz.json "no Service of release ${RELEASE} with app.kubernetes.io/component=api"
    elif collect api/readyz.json kube get --raw "/api/v1/namespaces/${NAMESPACE}/services/${service}:http/proxy/readyz"; then
      method="the API server's service proxy (/api/v1/namespaces/${NAMESPACE}/services/${service}:http/proxy)"
      collect api/metrics.txt kube get --raw "/api/v1/namespaces/${NAMESPACE}/services/${service}:http/proxy/metrics" || true
      mark_replaced api/readyz.json
    fi
  fi
  if [[ -n "${method}" ]]; then
    echo "readyz and metrics were fetched through ${method}" >"${BUNDLE_DIR}/api/fetched-through.txt"
  fi
}

# Turns the "failed" lines of a path into "replaced" lines once a fallback
# has collected it, so the summary does not list it as missing.
mark_replaced() {
  local path="$1" log="${BUNDLE_DIR}/collection-log.tsv"
  awk -F '\t' -v OFS='\t' -v path="${path}" '$1 == "failed" && $2 == path { $1 = "replaced" } { print }' "${log}" >"${log}.new"
  mv "${log}.new" "${log}"
}

collect_volume() {
  local pod="$1" container="$2" file="${BUNDLE_DIR}/volume/usage.txt"
  if collect volume/usage.txt kube_ns exec "${pod}" --container "${container}" -- node -e "${VOLUME_PROGRAM}" "${DATA_DIR}"; then
    grep '^jobFolder ' "${file}" | cut -d ' ' -f 2 >"${BUNDLE_DIR}/volume/job-folder-ids.txt" || true
    grep -v '^jobFolder ' "${file}" >"${file}.counts" || true
    mv "${file}.counts" "${file}"
  fi
}

collect_nodes() {
  collect nodes/nodes.txt kube get nodes --output wide || true
  collect nodes/conditions.txt kube get nodes --output go-template="$(node_conditions_template)" || true
}

collect_versions() {
  local file="${BUNDLE_DIR}/versions.txt"
  {
    echo "== kubectl version (client and server)"
    kube version 2>&1 || true
    echo
    echo "== helm version"
    "${HELM}" version 2>&1 || true
    echo
    echo "== release (helm list)"
    cat "${BUNDLE_DIR}/helm/list.yaml" 2>/dev/null || echo "not collected"
    echo
    echo "== images of the namespace's pods (component, pod, image, and the digest it runs once pulled)"
    awk -F '\t' '/^#/ || $7 == "-" { next } !seen[$8 "\t" $9]++ { printf "%s %s  %s  %s\n", $3 == "" ? "-" : $3, $1, $8, $9 }' \
      "${BUNDLE_DIR}/facts/pods.tsv" 2>/dev/null || echo "not collected"
  } >"${file}"
  record ok versions.txt

  {
    echo "namespace=${NAMESPACE}"
    echo "release=${RELEASE}"
    echo "takenAt=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "context=$(kube config current-context 2>/dev/null || echo unknown)"
    echo "kubectl=$(kube version --client 2>/dev/null | awk '/^Client Version:/ { print $3 }')"
    echo "server=$(kube version 2>/dev/null | awk '/^Server Version:/ { print $3 }')"
    echo "helm=$("${HELM}" version --template '{{.Version}}' 2>/dev/null || echo unknown)"
  } >"${BUNDLE_DIR}/facts/bundle.txt"
  record ok facts/bundle.txt
}

# --- Summary -----------------------------------------------------------------------

# The awk functions that the summary's programs share.
readonly AWK_LIBRARY='
function unquote(text) {
  if (text ~ /^".*"$/) text = substr(text, 2, length(text) - 2)
  gsub(/\\"/, "\"", text)
  gsub(/\\n/, " ", text)
  gsub(/\\t/, " ", text)
  return text
}
function clip(text, width) {
  return length(text) > width ? substr(text, 1, width - 3) "..." : text
}
function plural(count, word) {
  return count " " word (count == 1 ? "" : "s")
}
function human(bytes,    units, i) {
  split("B KiB MiB GiB TiB PiB", units, " ")
  i = 1
  while (bytes >= 1024 && i < 6) { bytes /= 1024; i++ }
  return (i == 1 ? sprintf("%d", bytes) : sprintf("%.1f", bytes)) " " units[i]
}
'

# Prints the value of one key in a file of key=value lines, or $3 when the key is missing.
value_of() {
  local file="$1" key="$2" default="${3:-}" value=""
  if [[ -f "${file}" ]]; then
    value="$(awk -F '=' -v key="${key}" '$1 == key { sub(/^[^=]*=/, ""); print; exit }' "${file}")"
  fi
  echo "${value:-${default}}"
}

# Prints "key: value" of one top-level key of the first item of helm list's YAML.
release_field() {
  local file="$1" key="$2"
  [[ -f "${file}" ]] || return 0
  awk -v key="${key}" '
    { line = $0; sub(/^- /, "  ", line) }
    line ~ "^  " key ":" { sub("^  " key ":[[:space:]]*", "", line); gsub(/"/, "", line); print line; exit }
  ' "${file}"
}

finding_release() {
  local dir="$1" release="$2" namespace="$3" status
  if grep -q $'^failed\thelm/status.txt\t.*release: not found' "${dir}/collection-log.tsv" 2>/dev/null; then
    echo "Helm release ${release} was not found in namespace ${namespace}: check NAMESPACE and RELEASE (helm list --all-namespaces)"
  elif [[ -f "${dir}/helm/list.yaml" ]]; then
    status="$(release_field "${dir}/helm/list.yaml" status)"
    if [[ -z "${status}" ]]; then
      echo "Helm release ${release} was not found in namespace ${namespace}: check NAMESPACE and RELEASE (helm list --all-namespaces)"
    elif [[ "${status}" == pending-* ]]; then
      echo "Helm release ${release} is ${status}: a helm install, upgrade or rollback is still running or was interrupted; see helm/history.txt"
    elif [[ "${status}" != "deployed" ]]; then
      echo "Helm release ${release} is ${status}, not deployed: see helm/history.txt for the failed revision's description"
    fi
  fi
}

finding_deployments() {
  local dir="$1" release="$2"
  local file="${dir}/facts/deployments.tsv"
  [[ -f "${file}" ]] || return 0
  awk -F '\t' -v release="${release}" "${AWK_LIBRARY}"'
    /^#/ || $2 != release { next }
    {
      found = 1
      if ($4 == 0) { print "deployment " $1 " is scaled to 0 replicas: the API is not running"; next }
      if ($5 < $4) {
        line = "deployment " $1 " has " $5 "/" $4 " ready replicas"
        problem = unquote($7)
        if (problem != "") line = line ": " clip(problem, 240)
        print line
      }
    }
    END { if (!found) print "no API Deployment of release " release " in this namespace" }
  ' "${file}"
}

# Reports image pull errors, containers that cannot start or keep restarting,
# and pods that are not scheduled, grouped so that 50 runner pods make one line.
finding_pods() {
  local dir="$1" release="$2"
  local file="${dir}/facts/pods.tsv"
  [[ -f "${file}" ]] || return 0
  awk -F '\t' -v release="${release}" "${AWK_LIBRARY}"'
    function values_for(component) {
      return component == "api" ? "image.registry, image.api.repository and image.tag" : \
        component == "runner" ? "image.registry, image.runner.repository and image.tag" : "the pod spec"
    }
    /^#/ || $2 != release { next }
    $12 == "waiting" && $13 ~ /^(ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName)$/ {
      key = $3 SUBSEP $8
      if (!(key in pulls)) { order[++pullCount] = key }
      if (!((key SUBSEP $1) in pullPod)) { pullPod[key SUBSEP $1] = 1; pulls[key]++ }
      if (index(", " pullReasons[key] ", ", ", " $13 ", ") == 0) pullReasons[key] = pullReasons[key] (pullReasons[key] == "" ? "" : ", ") $13
      if ($13 != "ImagePullBackOff" || pullMessage[key] == "") pullMessage[key] = unquote($16)
      next
    }
    $12 == "waiting" && $13 == "CrashLoopBackOff" {
      last = $17 == "" ? "" : " (last exit: " $17 ", code " $18 ")"
      print $3 " container " $7 " in pod " $1 " keeps crashing" last ", " plural($11, "restart") ": see logs/"
      next
    }
    $12 == "waiting" && $13 ~ /^(CreateContainerConfigError|CreateContainerError|RunContainerError|PreCreateHookError|PostStartHookError)$/ {
      print $3 " pod " $1 " cannot start container " $7 " (" $13 "): " clip(unquote($16), 240)
      next
    }
    $12 == "unscheduled" {
      print $3 " pod " $1 " cannot be scheduled (" $13 "): " clip(unquote($16), 240)
      next
    }
    $3 == "api" && $11 > 0 && $17 != "" {
      print "API container " $7 " in pod " $1 " restarted " plural($11, "time") " (last: " $17 ", exit code " $18 "): see logs/api/" $1 ".previous.log"
    }
    END {
      for (i = 1; i <= pullCount; i++) {
        key = order[i]
        split(key, parts, SUBSEP)
        line = parts[1] " image " parts[2] " cannot be pulled (" pullReasons[key] ") for " plural(pulls[key], "pod") \
          ": check the Helm values " values_for(parts[1])
        if (pullReasons[key] ~ /ErrImageNeverPull/) line = line ", and image.pullPolicy (Never needs the image loaded on the node)"
        print line
        if (pullMessage[key] != "") print "    kubelet: " clip(pullMessage[key], 240)
      }
    }
  ' "${file}"
}

finding_claims() {
  local dir="$1"
  local claims="${dir}/facts/pvcs.tsv" classes="${dir}/facts/storageclasses.tsv" events="${dir}/facts/events.tsv"
  [[ -f "${claims}" ]] || return 0
  [[ -f "${classes}" ]] || classes=/dev/null
  [[ -f "${events}" ]] || events=/dev/null
  awk -F '\t' -v classesKnown="$([[ "${classes}" != /dev/null ]] && echo 1 || echo 0)" "${AWK_LIBRARY}"'
    FILENAME == ARGV[1] {
      if (!/^#/) { class[$1] = 1; mode[$1] = $4; if ($3 == "true") defaultClass = $1 }
      next
    }
    FILENAME == ARGV[2] {
      if (!/^#/ && $4 == "PersistentVolumeClaim" && $2 == "Warning") lastWarning[$5] = $3 ": " unquote($7)
      next
    }
    /^#/ || $2 == "Bound" { next }
    {
      line = "PVC " $1 " is " ($2 == "" ? "not bound" : $2)
      if ($3 == "<unset>" && classesKnown && defaultClass == "") {
        line = line " (it names no StorageClass and the cluster has no default StorageClass: set persistence.storageClassName)"
      } else if ($3 != "<unset>" && $3 != "" && classesKnown && !($3 in class)) {
        line = line " (StorageClass \"" $3 "\" not found: set persistence.storageClassName to one of the cluster'\''s classes)"
      } else if ($1 in lastWarning) {
        line = line " (" clip(lastWarning[$1], 240) ")"
      } else if ($3 != "<unset>" && mode[$3] == "WaitForFirstConsumer") {
        line = line " (StorageClass \"" $3 "\" provisions it only once a pod that mounts it is scheduled)"
      }
      print line
    }
  ' "${classes}" "${events}" "${claims}"
}

finding_readiness() {
  local dir="$1"
  local file="${dir}/api/readyz.json"
  [[ -f "${file}" ]] || return 0
  awk "${AWK_LIBRARY}"'
    { body = body $0 }
    END {
      if (body ~ /"status":"ready"/) exit
      if (body !~ /"checks":/) { print "API not ready: /readyz returned " clip(body, 200); exit }
      rest = body
      sub(/.*"checks":\{/, "", rest)
      while (match(rest, /"[^"]*":"([^"\\]|\\.)*"/)) {
        pair = substr(rest, RSTART, RLENGTH)
        rest = substr(rest, RSTART + RLENGTH)
        name = pair; sub(/":.*/, "", name); sub(/^"/, "", name)
        value = pair; sub(/^"[^"]*":"/, "", value); sub(/"$/, "", value); gsub(/\\"/, "\"", value)
        if (value == "ok") continue
        if (name == "volume") print "API not ready: the data volume is not writable (" clip(value, 200) ")"
        else if (name ~ /Informer$/) print "API not ready: the " substr(name, 1, length(name) - 8) " informer is " value ": the API cannot watch its Jobs or Pods (see logs/api/ and the Role in objects/roles.yaml)"
        else print "API not ready: " name ": " clip(value, 200)
      }
    }
  ' "${file}"
}

# Counts the failed jobs by reason. A reason comes, as the API decides it, from the
# runner's JSON termination message, else from the last pod's state
# (OOMKilled, or RunnerError for another exit code), else from the Job's
# Failed condition.
failed_job_reasons() {
  local dir="$1" release="$2"
  local pods="${dir}/facts/pods.tsv" jobs="${dir}/facts/jobs.tsv"
  [[ -f "${jobs}" ]] || return 0
  [[ -f "${pods}" ]] || pods=/dev/null
  awk -F '\t' -v release="${release}" "${AWK_LIBRARY}"'
    FILENAME == ARGV[1] {
      if (/^#/ || $2 != release || $3 != "runner" || $12 != "terminated" || $4 == "") next
      if ($6 < created[$4]) next
      created[$4] = $6
      message = unquote($16)
      reason = ""
      if (match(message, /"reason":"[A-Za-z]+"/)) reason = substr(message, RSTART + 10, RLENGTH - 11)
      else if ($13 == "OOMKilled") reason = "OOMKilled"
      else if ($14 != "" && $14 != 0) reason = "RunnerError"
      podReason[$4] = reason
      next
    }
    /^#/ || $2 != release || $9 != "Failed" { next }
    {
      reason = ($4 in podReason && podReason[$4] != "") ? podReason[$4] : $10
      if (reason == "") reason = "unknown"
      count[reason]++
    }
    END { for (reason in count) print count[reason] "\t" reason }
  ' "${pods}" "${jobs}" | sort -t "$(printf '\t')" -k 1,1nr -k 2,2
}

finding_jobs() {
  local dir="$1" release="$2"
  failed_job_reasons "${dir}" "${release}" | awk -F '\t' "${AWK_LIBRARY}"'
    {
      hint = ""
      if ($2 ~ /^(EmptyInput|UnsupportedFormat|CorruptImage)$/) hint = ": the uploaded files are not usable images, nothing to fix in the cluster"
      else if ($2 ~ /^(TooManyPixels|TooManyFrames)$/) hint = ": over limits.maxPixels or limits.maxFrames"
      else if ($2 ~ /^(TooLarge|OOMKilled)$/) hint = ": raise runner.resources.limits.memory"
      else if ($2 == "DeadlineExceeded") hint = ": the Job ran past jobs.activeDeadlineSeconds (a pod that never started counts too)"
      else if ($2 ~ /^(RunnerError|BackoffLimitExceeded)$/) hint = ": see logs/runners/"
      print ($1 == 1 ? "1 job" : $1 " jobs") " failed with " $2 hint
    }
  '
}

# Counts the API's error lines by message. Messages are fixed text, so a
# handful of lines shows what went wrong however many times it happened.
finding_api_log() {
  local dir="$1" file
  for file in "${dir}"/logs/api/*.log; do
    [[ -f "${file}" ]] || continue
    awk "${AWK_LIBRARY}"'
      /"level":"error"/ && match($0, /"msg":"([^"\\]|\\.)*"/) {
        message = substr($0, RSTART + 7, RLENGTH - 8)
        gsub(/\\"/, "\"", message)
        if (!(message in count)) order[++distinct] = message
        count[message]++
      }
      END {
        for (i = 1; i <= distinct && i <= 5; i++) {
          message = order[i]
          print "API logged " plural(count[message], "error") " \"" message "\": see " logFile
        }
      }
    ' logFile="${file#"${dir}"/}" "${file}"
  done
}

finding_nodes() {
  local file="$1/facts/nodes.tsv"
  [[ -f "${file}" ]] || return 0
  awk -F '\t' '
    /^#/ { next }
    $2 != "True" { print "node " $1 " is not Ready (Ready=" $2 "): see nodes/conditions.txt" }
    $3 != "" { sub(/ $/, "", $3); print "node " $1 " reports " $3 }
    $4 == "true" { print "node " $1 " is cordoned (unschedulable)" }
  ' "${file}"
}

finding_volume() {
  local file="$1/volume/usage.txt"
  [[ -f "${file}" ]] || return 0
  awk -F '=' -v minimum="${VOLUME_FREE_PERCENT_MIN}" "${AWK_LIBRARY}"'
    { value[$1] = $2 }
    END {
      if (value["bytesTotal"] > 0 && value["bytesFree"] * 100 < value["bytesTotal"] * minimum) {
        printf "the data volume is %d%% full (%s free of %s): uploads get 507 when it is full; lower jobs.ttlSecondsAfterFinished or grow the claim\n",
          100 - value["bytesFree"] * 100 / value["bytesTotal"], human(value["bytesFree"]), human(value["bytesTotal"])
      }
    }
  ' "${file}"
}

overview_api_log() {
  local dir="$1" file
  for file in "${dir}"/logs/api/*.log; do
    [[ -f "${file}" ]] || continue
    awk '
      /"level":"error"/ { errors++ }
      /"level":"warn"/ { warnings++ }
      END { printf "API log %s: %d lines, %d error, %d warn\n", logFile, NR, errors, warnings }
    ' logFile="${file#"${dir}"/}" "${file}"
  done
}

overview_jobs() {
  local file="$1/facts/jobs.tsv" release="$2"
  [[ -f "${file}" ]] || { echo "Jobs: not collected"; return 0; }
  awk -F '\t' -v release="${release}" "${AWK_LIBRARY}"'
    /^#/ || $2 != release || $3 != "runner" { next }
    { total++ }
    $9 == "Complete" { succeeded++; next }
    $9 == "Failed" { failed++; next }
    $6 == "true" { queued++; next }
    { processing++ }
    END {
      printf "Jobs: %d in total: %d succeeded, %d failed, %d processing, %d queued (suspended)\n", total, succeeded, failed, processing, queued
    }
  ' "${file}"
}

overview_api() {
  local dir="$1" release="$2" readiness="not collected"
  if [[ -f "${dir}/api/readyz.json" ]]; then
    readiness="$(tr -d '\n' <"${dir}/api/readyz.json" | cut -c 1-200)"
  fi
  echo "API /readyz: ${readiness}"
  if [[ -f "${dir}/facts/deployments.tsv" ]]; then
    awk -F '\t' -v release="${release}" '!/^#/ && $2 == release { print "API deployment " $1 ": " $5 "/" $4 " ready" }' "${dir}/facts/deployments.tsv"
  fi
}

overview_volume() {
  local dir="$1" release="$2"
  local file="${dir}/volume/usage.txt" ids="${dir}/volume/job-folder-ids.txt" jobs="${dir}/facts/jobs.tsv"
  [[ -f "${file}" ]] || { echo "Volume: not collected"; return 0; }
  local orphans=""
  if [[ -f "${ids}" && -f "${jobs}" ]]; then
    orphans="$(awk -F '\t' -v release="${release}" '
      FILENAME == ARGV[1] { if (!/^#/ && $2 == release) job[$4] = 1; next }
      !($1 in job) { count++ }
      END { print count + 0 }
    ' "${jobs}" "${ids}")"
  fi
  awk -F '=' -v orphans="${orphans}" "${AWK_LIBRARY}"'
    { value[$1] = $2 }
    END {
      printf "Volume: %s used, %s free of %s; %s (%d with an original, %d with a thumbnail)", human(value["bytesUsed"]), human(value["bytesFree"]),
        human(value["bytesTotal"]), plural(value["jobFolders"], "job folder"), value["withOriginal"], value["withThumbnail"]
      if (orphans != "") printf "; %d without a Job (removed after api.orphanGraceSeconds)", orphans
      printf "\n"
    }
  ' "${file}"
}

recent_warnings() {
  local file="$1/facts/events.tsv"
  [[ -f "${file}" ]] || return 0
  awk -F '\t' '!/^#/ && $2 == "Warning"' "${file}" | tail -n 8 | awk -F '\t' "${AWK_LIBRARY}"'
    { print "  " $1 "  " $3 " " $4 "/" $5 " (x" $6 "): " clip(unquote($7), 200) }
  '
}

nothing_to_collect() {
  local file="$1/collection-log.tsv"
  [[ -f "${file}" ]] || return 0
  awk -F '\t' '$1 == "none" { print "  - " $2 ": " $3 }' "${file}"
}

not_collected() {
  local file="$1/collection-log.tsv"
  [[ -f "${file}" ]] || return 0
  awk -F '\t' '$1 == "failed" || $1 == "skipped" { print "  - " $2 " (" $1 "): " $3 }' "${file}"
}

# Writes SUMMARY.txt from the facts and files of a collected bundle folder.
write_summary() {
  local dir="$1" bundle_facts="$1/facts/bundle.txt"
  local namespace release findings warnings missing nothing
  namespace="$(value_of "${bundle_facts}" namespace "${NAMESPACE}")"
  release="$(value_of "${bundle_facts}" release "${RELEASE}")"

  findings="$(
    finding_release "${dir}" "${release}" "${namespace}"
    finding_claims "${dir}"
    finding_deployments "${dir}" "${release}"
    finding_pods "${dir}" "${release}"
    finding_readiness "${dir}"
    finding_jobs "${dir}" "${release}"
    finding_api_log "${dir}"
    finding_nodes "${dir}"
    finding_volume "${dir}"
  )"

  {
    echo "Thumbnailer support bundle"
    echo "Namespace ${namespace}, release ${release}, taken at $(value_of "${bundle_facts}" takenAt unknown) with context $(value_of "${bundle_facts}" context unknown)"
    if [[ -n "$(release_field "${dir}/helm/list.yaml" chart)" ]]; then
      echo "Chart $(release_field "${dir}/helm/list.yaml" chart), app version $(release_field "${dir}/helm/list.yaml" app_version), release status $(release_field "${dir}/helm/list.yaml" status) (revision $(release_field "${dir}/helm/list.yaml" revision))"
    else
      echo "Chart and release status: not collected"
    fi
    echo "Kubernetes server $(value_of "${bundle_facts}" server unknown), kubectl $(value_of "${bundle_facts}" kubectl unknown), helm $(value_of "${bundle_facts}" helm unknown)"
    echo
    echo "Findings"
    if [[ -n "${findings}" ]]; then
      printf '%s\n' "${findings}" | sed -e 's/^    /      /' -e '/^      /!s/^/  - /'
    elif [[ -n "$(not_collected "${dir}")" ]]; then
      echo "  - no problem found in what was collected (see Not collected below)"
    else
      echo "  - no problem found in the collected data"
    fi
    echo
    overview_api "${dir}" "${release}"
    overview_api_log "${dir}"
    overview_jobs "${dir}" "${release}"
    overview_volume "${dir}" "${release}"
    echo
    echo "Helm values set for this release (helm get values)"
    if [[ -f "${dir}/helm/values.yaml" ]]; then
      grep -v '^USER-SUPPLIED VALUES:' "${dir}/helm/values.yaml" | head -n 40 | sed 's/^/  /'
    else
      echo "  not collected"
    fi
    echo
    echo "Latest Warning events"
    warnings="$(recent_warnings "${dir}")"
    if [[ -n "${warnings}" ]]; then echo "${warnings}"; else echo "  none"; fi
    echo
    echo "Not collected"
    missing="$(not_collected "${dir}")"
    if [[ -n "${missing}" ]]; then echo "${missing}"; else echo "  - nothing: every step succeeded"; fi
    nothing="$(nothing_to_collect "${dir}")"
    if [[ -n "${nothing}" ]]; then
      echo
      echo "Nothing to collect"
      echo "${nothing}"
    fi
    echo
    echo "Files in this bundle"
    { echo SUMMARY.txt; (cd "${dir}" && find . -type f ! -name SUMMARY.txt | sed 's|^\./||' | sort); } | sed 's/^/  /'
  } >"${dir}/SUMMARY.txt"
}

# --- Scrub check -----------------------------------------------------------------

# Fails when any file under the folder contains the start of a PNG, JPEG, GIF
# or WebP file, raw or base64-encoded. An image in a bundle is a leak whatever
# put it there, so the archive is not written. The patterns are extended
# regular expressions over bytes (LC_ALL=C).
scrub_check() {
  local dir="$1" found=0 file i
  local names=(PNG JPEG GIF WebP "base64 PNG" "base64 JPEG" "base64 GIF" "base64 WebP")
  local patterns=(
    $'\x89PNG'
    $'\xff\xd8\xff'
    'GIF8[79]a'
    'WEBPVP8'
    'iVBORw0KGgo'
    '/9j/[2-7]'
    'R0lGOD[dl]h'
    'UklGR[A-Za-z0-9+/]{7}RUJQ'
  )
  for i in "${!patterns[@]}"; do
    while IFS= read -r file; do
      [[ -n "${file}" ]] || continue
      log "SCRUB CHECK FAILED: ${file#"${dir}"/} contains the signature of a ${names[${i}]} image"
      found=1
    done < <(LC_ALL=C grep -rlaE -e "${patterns[${i}]}" "${dir}" 2>/dev/null || true)
  done
  if ((found)); then
    log "the bundle would contain image data, so no archive was written; please report this as a bug in hack/support-bundle.sh"
    return 1
  fi
}

# --- Main --------------------------------------------------------------------------

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --namespace) NAMESPACE="${2:?--namespace needs a value}"; shift 2 ;;
      --release) RELEASE="${2:?--release needs a value}"; shift 2 ;;
      --out) OUT="${2:?--out needs a value}"; shift 2 ;;
      --failed-runners) FAILED_RUNNERS="${2:?--failed-runners needs a value}"; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown argument $1: see --help" ;;
    esac
  done
  [[ "${FAILED_RUNNERS}" =~ ^[0-9]+$ ]] || die "invalid --failed-runners ${FAILED_RUNNERS}: expected a whole number"
  [[ "${NAMESPACE}" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "invalid namespace ${NAMESPACE}: expected a DNS label"
  [[ -d "${OUT}" ]] || die "output folder ${OUT} does not exist"
}

write_archive() {
  local name="$1" archive="$2"
  local entries=("${name}/SUMMARY.txt") entry
  for entry in "${BUNDLE_DIR}"/*; do
    [[ "${entry}" == */SUMMARY.txt ]] && continue
    entries+=("${name}/${entry##*/}")
  done
  # SUMMARY.txt goes first, so `tar -tzf` lists it on top.
  tar -czf "${archive}.partial" -C "${STAGING_DIR}" "${entries[@]}"
  mv "${archive}.partial" "${archive}"
}

main() {
  case "${1:-}" in
    summarize)
      [[ -d "${2:-}" ]] || die "summarize needs a bundle folder"
      write_summary "$2"
      return 0
      ;;
    scrub-check)
      [[ -d "${2:-}" ]] || die "scrub-check needs a folder"
      scrub_check "$2"
      return
      ;;
  esac

  parse_args "$@"
  command -v "${KUBECTL}" >/dev/null 2>&1 || die "kubectl (${KUBECTL}) is not installed: install it, or set KUBECTL"
  local reachable
  if ! reachable="$(kube version 2>&1)"; then
    die "cannot reach the Kubernetes API server of context $(kube config current-context 2>/dev/null || echo '<none>'): $(printf '%s' "${reachable}" | tail -n 1)"
  fi

  local timestamp name archive
  timestamp="$(date -u +%Y%m%dT%H%M%SZ)"
  name="thumbnailer-support-${NAMESPACE}-${timestamp}"
  archive="$(cd "${OUT}" && pwd)/${name}.tar.gz"
  trap cleanup EXIT
  trap 'cleanup; exit 130' INT TERM
  STAGING_DIR="$(mktemp -d "${TMPDIR:-/tmp}/thumbnailer-support.XXXXXX")"
  BUNDLE_DIR="${STAGING_DIR}/${name}"
  mkdir -p "${BUNDLE_DIR}"/{api,events,facts,helm,logs,nodes,objects,runners,volume}
  : >"${BUNDLE_DIR}/collection-log.tsv"

  log "collecting namespace ${NAMESPACE}, release ${RELEASE}, context $(kube config current-context 2>/dev/null || echo '<none>')"
  collect_facts
  log "collecting the Helm release"
  collect_helm
  log "collecting objects and events"
  collect_objects
  collect_events
  log "collecting logs"
  collect_api_logs
  collect_failed_runners
  log "collecting readiness, metrics and volume usage through the API pod"
  collect_api_endpoints
  collect_nodes
  collect_versions
  if [[ "${HELM_OK}" != true ]]; then
    log "the Helm release could not be read: see SUMMARY.txt"
  fi
  write_summary "${BUNDLE_DIR}"

  scrub_check "${BUNDLE_DIR}" || exit 1
  find "${BUNDLE_DIR}" -type d -empty -delete
  write_archive "${name}" "${archive}"
  sed -n '/^Findings$/,/^$/p' "${BUNDLE_DIR}/SUMMARY.txt" >&2
  log "wrote ${archive}"
  echo "${archive}"
}

main "$@"
