#!/usr/bin/env bash
# Writes the cluster's certificate authority, the certificates of each
# component, the service-account signing key and the kubeconfig of each
# client into CLUSTER_DIR (see lib.sh). Keeps what already exists, so a
# second cluster-up reuses them; cluster-down deletes them with the folder.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly PKI_DIR="${CLUSTER_DIR}/pki"
readonly CERT_DAYS=365
readonly APISERVER_URL="https://${NODE_IP}:${APISERVER_PORT}"

new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

write_ca() {
  [[ -f "${PKI_DIR}/ca.crt" ]] && return
  new_key "${PKI_DIR}/ca.key"
  openssl req -x509 -new -key "${PKI_DIR}/ca.key" -subj "/CN=thumbnailer-cluster-ca" \
    -days "${CERT_DAYS}" -out "${PKI_DIR}/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign,cRLSign"
}

# Writes $1.key and $1.crt, signed by the CA, for subject $2. $3 is
# "clientAuth" or "serverAuth"; $4, for servers, is the subjectAltName list.
write_cert() {
  local name="$1" subject="$2" usage="$3" alt_names="${4:-}"
  [[ -f "${PKI_DIR}/${name}.crt" ]] && return
  new_key "${PKI_DIR}/${name}.key"
  local extensions="${PKI_DIR}/${name}.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${usage}"
    if [[ -n "${alt_names}" ]]; then echo "subjectAltName=${alt_names}"; fi
  } >"${extensions}"
  openssl req -new -key "${PKI_DIR}/${name}.key" -subj "${subject}" -out "${PKI_DIR}/${name}.csr"
  openssl x509 -req -in "${PKI_DIR}/${name}.csr" -CA "${PKI_DIR}/ca.crt" -CAkey "${PKI_DIR}/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "${CERT_DAYS}" -extfile "${extensions}" \
    -out "${PKI_DIR}/${name}.crt" 2>/dev/null
  rm -f "${PKI_DIR}/${name}.csr" "${extensions}"
}

# The key pair that signs and checks service-account tokens.
write_service_account_key() {
  [[ -f "${PKI_DIR}/sa.key" ]] && return
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "${PKI_DIR}/sa.key" 2>/dev/null
  chmod 600 "${PKI_DIR}/sa.key"
  openssl pkey -in "${PKI_DIR}/sa.key" -pubout -out "${PKI_DIR}/sa.pub"
}

# Writes the kubeconfig $1 for the client certificate $2 (a name in PKI_DIR)
# with the user name $3 in it.
write_kubeconfig() {
  local file="$1" cert="$2" user="$3"
  [[ -f "${file}" ]] && return
  local kubeconfig=(--kubeconfig "${file}.partial")
  rm -f "${file}.partial"
  "${K8S_BIN_DIR}/kubectl" config set-cluster thumbnailer "${kubeconfig[@]}" --server "${APISERVER_URL}" \
    --certificate-authority "${PKI_DIR}/ca.crt" --embed-certs >/dev/null
  "${K8S_BIN_DIR}/kubectl" config set-credentials "${user}" "${kubeconfig[@]}" \
    --client-certificate "${PKI_DIR}/${cert}.crt" --client-key "${PKI_DIR}/${cert}.key" --embed-certs >/dev/null
  "${K8S_BIN_DIR}/kubectl" config set-context thumbnailer "${kubeconfig[@]}" --cluster thumbnailer --user "${user}" >/dev/null
  "${K8S_BIN_DIR}/kubectl" config use-context thumbnailer "${kubeconfig[@]}" >/dev/null
  chmod 600 "${file}.partial"
  mv -f "${file}.partial" "${file}"
}

main() {
  mkdir -p "${PKI_DIR}"
  chmod 700 "${PKI_DIR}"
  write_ca
  write_service_account_key

  local apiserver_names="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  apiserver_names+=",DNS:kubernetes.default.svc.${CLUSTER_DOMAIN},DNS:localhost"
  apiserver_names+=",IP:${NODE_IP},IP:${KUBERNETES_SERVICE_IP},IP:127.0.0.1"
  write_cert apiserver "/CN=kube-apiserver" serverAuth "${apiserver_names}"
  write_cert kubelet-serving "/CN=${NODE_NAME}" serverAuth "DNS:${NODE_NAME},IP:${NODE_IP}"

  # system:masters lets the API server call every kubelet endpoint (logs, exec).
  write_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  write_cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  write_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  write_cert scheduler "/CN=system:kube-scheduler" clientAuth
  # The Node authorizer and NodeRestriction admission know the kubelet by this name.
  write_cert kubelet "/O=system:nodes/CN=system:node:${NODE_NAME}" clientAuth
  write_cert kube-proxy "/CN=system:kube-proxy" clientAuth

  write_kubeconfig "${CLUSTER_KUBECONFIG}" admin kubernetes-admin
  write_kubeconfig "${CLUSTER_DIR}/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  write_kubeconfig "${CLUSTER_DIR}/scheduler.kubeconfig" scheduler system:kube-scheduler
  write_kubeconfig "${CLUSTER_DIR}/kubelet.kubeconfig" kubelet "system:node:${NODE_NAME}"
  write_kubeconfig "${CLUSTER_DIR}/kube-proxy.kubeconfig" kube-proxy system:kube-proxy
}

main "$@"
