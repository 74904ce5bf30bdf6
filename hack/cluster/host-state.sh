# shellcheck shell=bash
# Functions that record what the machine had before cluster-up, and remove
# what the components added outside the cluster's own folders: folders at
# fixed paths, iptables chains, and iptables tables. Sourced after lib.sh.

readonly IPTABLES_COMMANDS=(iptables ip6tables)

# Prints the tables that command $1 (iptables or ip6tables) has, one a line.
iptables_tables() {
  "$1-save" | sed -n 's/^\*//p'
}

# Records, once per cluster, which folders of HOST_PATHS_MADE_BY_COMPONENTS
# and which iptables tables did not exist yet.
record_host_state() {
  mkdir -p "${RUN_DIR}"
  if [[ ! -f "${HOST_PATHS_FILE}" ]]; then
    local path
    for path in "${HOST_PATHS_MADE_BY_COMPONENTS[@]}"; do
      [[ -e "${path}" ]] || echo "${path}"
    done >"${HOST_PATHS_FILE}"
  fi
  if [[ ! -f "${TABLES_BEFORE_FILE}" ]]; then
    local command
    for command in "${IPTABLES_COMMANDS[@]}"; do
      iptables_tables "${command}" | sed "s/^/${command} /"
    done >"${TABLES_BEFORE_FILE}"
  fi
}

# Removes the folders that record_host_state found missing, and the
# kubelet's links to this cluster's container logs.
remove_host_paths() {
  local link
  for link in /var/log/containers/*; do
    if [[ -L "${link}" && "$(readlink "${link}")" == "${NODE_DATA_DIR}/"* ]]; then
      rm -f "${link}"
    fi
  done
  [[ -f "${HOST_PATHS_FILE}" ]] || return 0
  local path
  while read -r path; do
    if [[ -n "${path}" && -e "${path}" ]]; then
      rm -rf "${path:?}"
    fi
  done <"${HOST_PATHS_FILE}"
}

# Deletes every KUBE-* chain that kube-proxy and the kubelet made, and every
# rule of a built-in chain that jumps to one, with command $1 (iptables or
# ip6tables). No other program on this machine makes KUBE-* chains.
remove_kube_chains() {
  local command="$1" table="" line rule_chain chains=()
  while IFS= read -r line; do
    case "${line}" in
      '*'*) table="${line#\*}" ;;
      ':KUBE-'*)
        line="${line#:}"
        chains+=("${table} ${line%% *}")
        ;;
      '-A '*' -j KUBE-'*)
        rule_chain="${line#-A }"
        rule_chain="${rule_chain%% *}"
        if [[ "${rule_chain}" != KUBE-* ]]; then
          # iptables-save quotes comments the way the shell reads them.
          eval "${command} -t ${table} -D ${line#-A }" || log "could not delete ${table}: ${line}"
        fi
        ;;
    esac
  done < <("${command}-save")

  local entry
  for entry in "${chains[@]}"; do
    # shellcheck disable=SC2086 # "<table> <chain>" splits into two words.
    set -- ${entry}
    "${command}" -t "$1" -F "$2"
  done
  for entry in "${chains[@]}"; do
    # shellcheck disable=SC2086
    set -- ${entry}
    "${command}" -t "$1" -X "$2" || log "could not delete the ${command} chain $2 of table $1"
  done
}

# Deletes the iptables tables that appeared since cluster-up and are empty
# again (the kubelet makes the mangle table for its canary chains). A table
# with any rule or chain of its own is left alone.
remove_new_empty_tables() {
  [[ -f "${TABLES_BEFORE_FILE}" ]] || return 0
  command -v nft >/dev/null 2>&1 || return 0
  local command family table content
  for command in "${IPTABLES_COMMANDS[@]}"; do
    family=ip
    [[ "${command}" == ip6tables ]] && family=ip6
    for table in $(iptables_tables "${command}"); do
      grep -qx "${command} ${table}" "${TABLES_BEFORE_FILE}" && continue
      content="$("${command}-save" -t "${table}" | grep -E '^(-A|:)' | grep -vE '^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT' || true)"
      if [[ -z "${content}" ]]; then
        nft delete table "${family}" "${table}" || log "could not delete the empty ${family} table ${table}"
      fi
    done
  done
}

remove_kubernetes_iptables() {
  local command
  for command in "${IPTABLES_COMMANDS[@]}"; do
    remove_kube_chains "${command}"
  done
  remove_new_empty_tables
}
