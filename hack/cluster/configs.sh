# shellcheck shell=bash
# Functions that write the configuration files of containerd, the CNI
# plugins, the kubelet and kube-proxy. Sourced by cluster-up.sh after lib.sh.

readonly CONFIG_DIR="${CLUSTER_DIR}/config"
readonly CNI_CONF_DIR="${NODE_DATA_DIR}/cni/net.d"
readonly CONTAINERD_CONFIG="${CONFIG_DIR}/containerd.toml"
readonly KUBELET_CONFIG="${CONFIG_DIR}/kubelet.yaml"
readonly KUBE_PROXY_CONFIG="${CONFIG_DIR}/kube-proxy.yaml"
# shellcheck disable=SC2034 # cluster-up.sh uses it.
readonly KUBELET_ROOT_DIR="${NODE_DATA_DIR}/kubelet"

# Writes standard input to file $1 unless the file already has that content:
# kube-proxy exits when its configuration file changes, so a second
# cluster-up must leave unchanged files alone.
write_if_changed() {
  local file="$1"
  mkdir -p "$(dirname "${file}")"
  cat >"${file}.new"
  if cmp -s "${file}.new" "${file}"; then
    rm -f "${file}.new"
  else
    mv -f "${file}.new" "${file}"
  fi
}

# containerd keeps every file under NODE_DATA_DIR and RUN_DIR, and listens on
# its own socket, so it never meets the containerd that Docker runs.
write_containerd_config() {
  write_if_changed "${CONTAINERD_CONFIG}" <<EOF
version = 2
root = "${NODE_DATA_DIR}/containerd"
state = "${RUN_DIR}/containerd/state"

[grpc]
  address = "${CONTAINERD_SOCKET}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${NODE_DATA_DIR}/containerd-opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # Never set an oom_score_adj below containerd's own: lowering it needs
  # CAP_SYS_RESOURCE, which root lacks in some sandboxes (this machine's
  # among them), and runc then fails to create every pod.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # The kubelet's cgroupDriver is cgroupfs: this machine has no systemd.
        SystemdCgroup = false
        Root = "${RUN_DIR}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${CNI_CONF_DIR}"
    max_conf_num = 1
EOF
}

# The pods' network: Debian's bridge and host-local plugins. Pods get routes
# to the pod range, the Service range and the node address only, and no
# default route, so a pod cannot even try to reach another host. These
# plugins do not enforce NetworkPolicy.
write_cni_config() {
  write_if_changed "${CNI_CONF_DIR}/10-thumbnailer.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "thumbnailer",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${POD_BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${NODE_DATA_DIR}/cni/networks",
        "ranges": [[{ "subnet": "${POD_CIDR}", "gateway": "${POD_GATEWAY}" }]],
        "routes": [{ "dst": "${SERVICE_CIDR}" }, { "dst": "${NODE_IP}/32" }]
      }
    }
  ]
}
EOF
}

write_kubelet_config() {
  write_if_changed "${KUBELET_CONFIG}" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: ${CLUSTER_DIR}/pki/ca.crt
authorization:
  mode: Webhook
tlsCertFile: ${CLUSTER_DIR}/pki/kubelet-serving.crt
tlsPrivateKeyFile: ${CLUSTER_DIR}/pki/kubelet-serving.key
containerRuntimeEndpoint: unix://${CONTAINERD_SOCKET}
cgroupDriver: cgroupfs
# Kubernetes 1.35 refuses to start on cgroup v1, which this machine has,
# unless this is false.
failCgroupV1: false
failSwapOn: false
clusterDNS:
  - ${DNS_SERVICE_IP}
clusterDomain: ${CLUSTER_DOMAIN}
# No host resolver in pods: the machine's one is not on this machine, and
# cluster DNS answers only for the cluster domain.
resolvConf: ""
podCIDR: ${POD_CIDR}
podLogsDir: ${NODE_DATA_DIR}/pod-logs
volumePluginDir: ${NODE_DATA_DIR}/kubelet-plugins
# The images were imported, not pulled, and cannot be pulled again: never
# garbage-collect them, and never evict pods because another program on
# this shared machine fills the disk.
imageGCHighThresholdPercent: 100
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
EOF
}

# kube-proxy in iptables mode. It leaves the machine's sysctls alone
# (conntrack sizes, route_localnet) and opens NodePorts on the node address
# only.
write_kube_proxy_config() {
  write_if_changed "${KUBE_PROXY_CONFIG}" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${CLUSTER_DIR}/kube-proxy.kubeconfig
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${POD_CIDR}
nodePortAddresses:
  - ${NODE_IP}/32
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}
