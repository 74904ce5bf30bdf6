#!/usr/bin/env bash
# Checks that the cluster from hack/cluster-up.sh does what the product needs
# from a real cluster, in a namespace of its own that enforces the Pod
# Security Standard "restricted":
#   - a claim of the default StorageClass binds, and pods running as UID
#     10001 with fsGroup 10001 write to it, one of them through a subPath;
#   - a pod reaches a Service by its DNS name;
#   - the namespace rejects a privileged pod;
#   - a Job reaches the condition Complete;
#   - a pod gets a service-account token, and has no route off the machine;
#   - what a pod sends to an address outside the cluster's ranges is
#     dropped, even when the pod adds a route to it. The target is a network
#     namespace this script makes, so nothing leaves the machine either way.
# Prints one line per check and, last, "N passed, N failed"; exits non-zero
# when a check failed. Uses KUBECONFIG when set, else the cluster's own.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster/lib.sh"

NAMESPACE="cluster-smoke-$(date +%s)"
readonly NAMESPACE
# A namespace without Pod Security enforcement, for the one pod that needs
# NET_ADMIN to add a route.
readonly PRIVILEGED_NAMESPACE="${NAMESPACE}-net"
# The stand-in for another host: a network namespace joined to this machine
# by a veth pair, with an HTTP server on TARGET_IP.
readonly TARGET_NETNS="thumb-smoke-target"
readonly TARGET_LINK="thumbsmoke0"
readonly TARGET_HOST_IP="10.201.0.1"
readonly TARGET_IP="10.201.0.2"
TARGET_SERVER_PID=""
readonly WAIT_S="${SMOKE_WAIT_S:-120}"
PASSED=0
FAILED=0

cleanup() {
  kctl delete namespace "${NAMESPACE}" "${PRIVILEGED_NAMESPACE}" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  remove_target
}

remove_target() {
  if [[ -n "${TARGET_SERVER_PID}" ]]; then
    kill "${TARGET_SERVER_PID}" 2>/dev/null || true
    TARGET_SERVER_PID=""
  fi
  if ip link show "${TARGET_LINK}" >/dev/null 2>&1; then ip link del "${TARGET_LINK}"; fi
  if ip netns list | grep -qw "${TARGET_NETNS}"; then ip netns del "${TARGET_NETNS}"; fi
  rm -rf "${CLUSTER_DIR:?}/smoke-target-www"
}

# Makes the target namespace and starts busybox httpd in it, serving
# "target-ok"; the server is this script's child, and cleanup stops it.
make_target() {
  remove_target
  ip netns add "${TARGET_NETNS}"
  ip link add "${TARGET_LINK}" type veth peer name eth0 netns "${TARGET_NETNS}"
  ip addr add "${TARGET_HOST_IP}/30" dev "${TARGET_LINK}"
  ip link set "${TARGET_LINK}" up
  ip -n "${TARGET_NETNS}" addr add "${TARGET_IP}/30" dev eth0
  ip -n "${TARGET_NETNS}" link set eth0 up
  ip -n "${TARGET_NETNS}" link set lo up
  local www="${CLUSTER_DIR}/smoke-target-www"
  mkdir -p "${www}"
  echo target-ok >"${www}/index.html"
  ip netns exec "${TARGET_NETNS}" busybox httpd -f -p "${TARGET_IP}:8080" -h "${www}" &
  TARGET_SERVER_PID=$!
}
trap cleanup EXIT

pass() {
  PASSED=$((PASSED + 1))
  echo "ok - $1"
}

fail() {
  FAILED=$((FAILED + 1))
  echo "not ok - $1: $2"
}

# Prints a pod manifest named $1 that runs the busybox image with the shell
# script $2 as UID 10001, within the "restricted" standard. $3, when given,
# is YAML for the pod's volumes and $4 for the container's volumeMounts.
restricted_pod() {
  local name="$1" script="$2" volumes="${3:-}" mounts="${4:-}"
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  restartPolicy: Never
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: main
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: Never
      command: [sh, -c, '${script}']
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
${mounts:+      volumeMounts:
${mounts}}
${volumes:+  volumes:
${volumes}}
EOF
}

# Each of these takes a pod name and, optionally, its namespace (default
# NAMESPACE).
pod_phase() {
  kctl -n "${2:-${NAMESPACE}}" get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null || true
}

pod_finished() {
  local phase
  phase="$(pod_phase "$@")"
  [[ "${phase}" == Succeeded || "${phase}" == Failed ]]
}

# Waits at most WAIT_S seconds for the pod to exit, then prints its phase.
pod_phase_when_done() {
  wait_until "${WAIT_S}" pod_finished "$@" || true
  pod_phase "$@"
}

pod_logs() {
  kctl -n "${2:-${NAMESPACE}}" logs "$1" 2>&1 || true
}

create_namespace() {
  kctl create namespace "${NAMESPACE}" >/dev/null
  kctl label namespace "${NAMESPACE}" pod-security.kubernetes.io/enforce=restricted >/dev/null
  wait_until "${WAIT_S}" kctl -n "${NAMESPACE}" get serviceaccount default ||
    die "namespace ${NAMESPACE} got no default ServiceAccount"
}

check_claim_written_as_non_root() {
  local name="claim binds and UID 10001 writes to it, also through a subPath"
  kctl -n "${NAMESPACE}" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests: { storage: 16Mi }
EOF
  local claim_volume='    - name: data
      persistentVolumeClaim: { claimName: data }'
  restricted_pod writer 'mkdir -p /data/jobs/one && echo first >/data/jobs/one/original && id -u' \
    "${claim_volume}" '        - { name: data, mountPath: /data }' | kctl -n "${NAMESPACE}" apply -f - >/dev/null
  local phase
  phase="$(pod_phase_when_done writer)"
  if [[ "${phase}" != Succeeded ]]; then
    fail "${name}" "pod writer ended in phase '${phase}': $(pod_logs writer)"
    return
  fi
  # The second pod mounts only jobs/one, as a runner pod mounts its job folder.
  restricted_pod subpath-writer 'cat /job/original && echo second >/job/thumbnail && id -u' \
    "${claim_volume}" '        - { name: data, mountPath: /job, subPath: jobs/one }' |
    kctl -n "${NAMESPACE}" apply -f - >/dev/null
  phase="$(pod_phase_when_done subpath-writer)"
  local claim_phase output
  claim_phase="$(kctl -n "${NAMESPACE}" get pvc data -o jsonpath='{.status.phase}')"
  output="$(pod_logs subpath-writer | tr '\n' ' ')"
  if [[ "${claim_phase}" == Bound && "${phase}" == Succeeded && "${output}" == "first 10001 " ]]; then
    pass "${name}"
  else
    fail "${name}" "claim ${claim_phase}, pod subpath-writer ${phase}, output '${output}'"
  fi
}

check_service_by_dns_name() {
  local name="pod reaches a Service by its DNS name"
  restricted_pod web 'mkdir -p /tmp/www && echo smoke-ok >/tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www' \
    '    - name: tmp
      emptyDir: {}' '        - { name: tmp, mountPath: /tmp }' | kctl -n "${NAMESPACE}" apply -f - >/dev/null
  kctl -n "${NAMESPACE}" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
    - { port: 80, targetPort: 8080 }
EOF
  # The client retries while the Service's endpoints and DNS record appear.
  # It bounds each try with timeout(1), because the wget of Debian 12's
  # busybox-static crashes with a segmentation fault when given -T.
  local url="http://web.${NAMESPACE}.svc.${CLUSTER_DOMAIN}/"
  restricted_pod web-client "for i in \$(seq 30); do timeout 3 wget -q -O - ${url} && exit 0; sleep 1; done; exit 1" |
    kctl -n "${NAMESPACE}" apply -f - >/dev/null
  local phase output
  phase="$(pod_phase_when_done web-client)"
  output="$(pod_logs web-client)"
  # Tries made before the endpoints were ready leave wget's errors above the
  # page in the log, so only the last line must be the page.
  if [[ "${phase}" == Succeeded && "$(tail -n 1 <<<"${output}")" == smoke-ok ]]; then
    pass "${name}"
  else
    fail "${name}" "pod web-client ${phase}, output '${output}'"
  fi
}

check_privileged_pod_rejected() {
  local name="restricted namespace rejects a privileged pod"
  local output
  if output="$(kctl -n "${NAMESPACE}" apply -f - 2>&1 <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: privileged
spec:
  containers:
    - name: main
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: Never
      command: [sleep, "1"]
      securityContext: { privileged: true }
EOF
  )"; then
    fail "${name}" "the API server accepted it"
  elif [[ "${output}" == *'violates PodSecurity "restricted:latest"'*privileged* ]]; then
    pass "${name}"
  else
    fail "${name}" "rejected for another reason: ${output}"
  fi
}

check_job_completes() {
  local name="Job reaches the condition Complete"
  kctl -n "${NAMESPACE}" apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: finisher
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: main
          image: ${BUSYBOX_IMAGE}
          imagePullPolicy: Never
          command: [sh, -c, "echo done"]
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL] }
EOF
  if kctl -n "${NAMESPACE}" wait job/finisher --for=condition=Complete --timeout "${WAIT_S}s" >/dev/null 2>&1; then
    pass "${name}"
  else
    fail "${name}" "conditions: $(kctl -n "${NAMESPACE}" get job finisher -o jsonpath='{.status.conditions}')"
  fi
}

check_token_and_routes() {
  local name="pod gets a service-account token and has no default route"
  restricted_pod inspector 'cut -d. -f1 /var/run/secrets/kubernetes.io/serviceaccount/token | head -c 8; echo; ip route' |
    kctl -n "${NAMESPACE}" apply -f - >/dev/null
  local phase output
  phase="$(pod_phase_when_done inspector)"
  output="$(pod_logs inspector)"
  # Every token is a JWT, whose header encodes '{"alg"' as eyJhbGci.
  if [[ "${phase}" == Succeeded && "$(head -n 1 <<<"${output}")" == eyJhbGci && "${output}" != *default* ]]; then
    pass "${name}"
  else
    fail "${name}" "pod inspector ${phase}, output '${output}'"
  fi
}

# Prints how many packets the DROP rule of the cluster's egress chain counted.
egress_drop_count() {
  iptables -L "${EGRESS_CHAIN}" -n -v -x | awk '$3 == "DROP" { print $1 }'
}

check_egress_dropped() {
  local name="traffic from a pod to an address outside the cluster is dropped"
  make_target
  local url="http://${TARGET_IP}:8080/"
  # The target serves requests from the machine itself, so a failure below
  # comes from the drop.
  if ! wait_until 10 curl -fsS --max-time 2 "${url}"; then
    fail "${name}" "the target ${url} does not answer this machine, so the check proves nothing"
    return
  fi
  kctl create namespace "${PRIVILEGED_NAMESPACE}" >/dev/null
  wait_until "${WAIT_S}" kctl -n "${PRIVILEGED_NAMESPACE}" get serviceaccount default ||
    die "namespace ${PRIVILEGED_NAMESPACE} got no default ServiceAccount"
  kctl -n "${PRIVILEGED_NAMESPACE}" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: escaper
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  containers:
    - name: main
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: Never
      command:
        - sh
        - -c
        - >-
          ip route add ${TARGET_IP}/32 via ${POD_GATEWAY} &&
          if timeout 5 wget -q -O - ${url}; then echo reached; else echo blocked; fi
      securityContext:
        capabilities: { add: [NET_ADMIN] }
EOF
  local drops_before phase output drops_after
  drops_before="$(egress_drop_count)"
  phase="$(pod_phase_when_done escaper "${PRIVILEGED_NAMESPACE}")"
  output="$(pod_logs escaper "${PRIVILEGED_NAMESPACE}")"
  drops_after="$(egress_drop_count)"
  # Docker's FORWARD policy would drop the packets too, so the check also
  # requires that the cluster's own rule counted them. The shell's
  # "Terminated" for the timed-out wget may land before or after the
  # verdict in the log, so the verdict is looked for as a whole line.
  if [[ "${phase}" == Succeeded && "${drops_after}" -gt "${drops_before}" ]] &&
    grep -qx blocked <<<"${output}" && ! grep -qx reached <<<"${output}"; then
    pass "${name}"
  else
    fail "${name}" "pod escaper ${phase}, output '${output}', packets dropped by ${EGRESS_CHAIN}: ${drops_before} before, ${drops_after} after"
  fi
  remove_target
}

main() {
  require_root "cluster-smoke"
  [[ -x "${K8S_BIN_DIR}/kubectl" ]] || die "kubectl is not built: run make cluster-up first"
  create_namespace
  check_claim_written_as_non_root
  check_service_by_dns_name
  check_privileged_pod_rejected
  check_job_completes
  check_token_and_routes
  check_egress_dropped
  echo "${PASSED} passed, ${FAILED} failed"
  ((FAILED == 0))
}

main "$@"
