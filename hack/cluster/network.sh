# shellcheck shell=bash
# Functions that set up and remove the node's network: the node address, the
# kernel settings the pod network needs, and the iptables rules that keep the
# cluster's traffic on this machine. Sourced after lib.sh.

readonly SAVED_SYSCTLS_FILE="${RUN_DIR}/sysctls-before"
# The kernel settings cluster-up needs: forwarding between the pod bridge
# and the Service NAT rules, and iptables on bridged pod-to-pod traffic.
readonly NEEDED_SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables)

# Prints each rule that cluster-up adds to a built-in chain, one per line as
# "<chain> <rule arguments>". cluster-down deletes exactly these.
builtin_chain_rules() {
  local source_range
  for source_range in "${POD_CIDR}" "${SERVICE_CIDR}"; do
    echo "FORWARD -s ${source_range} -j ${EGRESS_CHAIN}"
    echo "OUTPUT -s ${source_range} -j ${EGRESS_CHAIN}"
  done
  # Forwarded into the pod range from anywhere but a pod: nothing outside
  # this machine, and no Docker container, may open a connection to a pod.
  echo "FORWARD -d ${POD_CIDR} ! -s ${POD_CIDR} -j DROP"
}

# Traffic from the pod or Service range may go to those ranges and to this
# machine's own addresses (the node address among them), and nowhere else.
setup_egress_chain() {
  iptables -N "${EGRESS_CHAIN}" 2>/dev/null || iptables -F "${EGRESS_CHAIN}"
  iptables -A "${EGRESS_CHAIN}" -d "${POD_CIDR}" -j RETURN
  iptables -A "${EGRESS_CHAIN}" -d "${SERVICE_CIDR}" -j RETURN
  iptables -A "${EGRESS_CHAIN}" -m addrtype --dst-type LOCAL -j RETURN
  iptables -A "${EGRESS_CHAIN}" -j DROP

  local chain rule
  while read -r chain rule; do
    # shellcheck disable=SC2086 # the rule is a list of words on purpose.
    iptables -C "${chain}" ${rule} 2>/dev/null || iptables -I "${chain}" 1 ${rule}
  done < <(builtin_chain_rules)

  # Docker sets the FORWARD policy to DROP, and pod-to-pod traffic crosses
  # the pod bridge through FORWARD. So it is accepted at the end of FORWARD,
  # after every other rule (kube-proxy's included).
  iptables -C FORWARD -s "${POD_CIDR}" -d "${POD_CIDR}" -j ACCEPT 2>/dev/null ||
    iptables -A FORWARD -s "${POD_CIDR}" -d "${POD_CIDR}" -j ACCEPT
}

remove_egress_chain() {
  local chain rule
  while read -r chain rule; do
    # shellcheck disable=SC2086 # the rule is a list of words on purpose.
    while iptables -D "${chain}" ${rule} 2>/dev/null; do :; done
  done < <(builtin_chain_rules)
  while iptables -D FORWARD -s "${POD_CIDR}" -d "${POD_CIDR}" -j ACCEPT 2>/dev/null; do :; done
  if iptables -L "${EGRESS_CHAIN}" -n >/dev/null 2>&1; then
    iptables -F "${EGRESS_CHAIN}"
    iptables -X "${EGRESS_CHAIN}"
  fi
}

# Saves the value each needed sysctl had before the first cluster-up, then
# sets it to 1.
setup_sysctls() {
  mkdir -p "${RUN_DIR}"
  local name
  if [[ ! -f "${SAVED_SYSCTLS_FILE}" ]]; then
    for name in "${NEEDED_SYSCTLS[@]}"; do
      echo "${name}=$(sysctl -n "${name}")"
    done >"${SAVED_SYSCTLS_FILE}"
  fi
  for name in "${NEEDED_SYSCTLS[@]}"; do
    sysctl -q -w "${name}=1"
  done
}

# Puts back the values saved by setup_sysctls.
# NOTE: when ip_forward was 0 before cluster-up and Docker started since,
# restoring 0 breaks the networking of Docker's containers until dockerd
# restarts. Docker sets it to 1 itself, so this only happens when dockerd
# started after cluster-up.
restore_sysctls() {
  [[ -f "${SAVED_SYSCTLS_FILE}" ]] || return 0
  local setting
  while read -r setting; do
    sysctl -q -w "${setting}" || log "could not restore ${setting}"
  done <"${SAVED_SYSCTLS_FILE}"
  rm -f "${SAVED_SYSCTLS_FILE}"
}

# The node address lives on a bridge with no ports: this kernel has no dummy
# interface, and a bridge without ports carries no traffic off the machine.
setup_node_link() {
  if ! ip link show "${NODE_LINK}" >/dev/null 2>&1; then
    ip link add "${NODE_LINK}" type bridge
  fi
  if ! ip -4 addr show dev "${NODE_LINK}" | grep -q "inet ${NODE_IP}/32"; then
    ip addr add "${NODE_IP}/32" dev "${NODE_LINK}"
  fi
  ip link set "${NODE_LINK}" up
}

remove_links() {
  local link
  for link in "${POD_BRIDGE}" "${NODE_LINK}"; do
    if ip link show "${link}" >/dev/null 2>&1; then
      ip link del "${link}"
    fi
  done
}

network_up() {
  setup_sysctls
  setup_node_link
  setup_egress_chain
}
