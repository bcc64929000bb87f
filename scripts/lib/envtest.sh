# Shell functions shared by scripts that need a real control plane: envtest's etcd and
# kube-apiserver with the flags of ../shared/envtest/README.md. Source it, set ROOT, then
# `start_envtest` (sets WORK and KUBECONFIG) and `stop_envtest` (kills what it started by PID).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts etcd and kube-apiserver in $WORK; sets KUBECONFIG. The flags are those of
# ../shared/envtest/README.md.
start_envtest() {
    local assets=${KUBEBUILDER_ASSETS:-}
    if [[ -z $assets ]]; then
        assets=$("$ROOT/../shared/envtest/unpack" "$ROOT/target/envtest-bin" | tail -1)
    fi
    [[ -x $assets/kube-apiserver && -x $assets/etcd ]] || { echo "error: no kube-apiserver/etcd in $assets" >&2; exit 1; }
    WORK=$(mktemp -d /tmp/record-cel.XXXXXX)
    local ep pp ap
    ep=$(free_port); pp=$(free_port); ap=$(free_port)
    (
        cd "$WORK"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=envtest-ca -keyout ca.key -out ca.crt 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout apiserver.key -out apiserver.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
        openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile san.ext -out apiserver.crt 2>/dev/null
        openssl genrsa -out sa.key 2048 2>/dev/null
        openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
        echo 'record-cel-admin-token,admin,admin-uid,"system:masters"' >tokens.csv
    )
    "$assets/etcd" --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$ep" \
        --advertise-client-urls "http://127.0.0.1:$ep" --listen-peer-urls "http://127.0.0.1:$pp" \
        --unsafe-no-fsync >"$WORK/etcd.log" 2>&1 &
    echo $! >"$WORK/etcd.pid"
    "$assets/kube-apiserver" --etcd-servers="http://127.0.0.1:$ep" --secure-port="$ap" \
        --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
        --tls-cert-file="$WORK/apiserver.crt" --tls-private-key-file="$WORK/apiserver.key" \
        --client-ca-file="$WORK/ca.crt" --token-auth-file="$WORK/tokens.csv" --authorization-mode=RBAC \
        --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$WORK/sa.pub" \
        --service-account-signing-key-file="$WORK/sa.key" --service-cluster-ip-range=10.0.0.0/24 \
        --endpoint-reconciler-type=none >"$WORK/apiserver.log" 2>&1 &
    echo $! >"$WORK/apiserver.pid"
    export KUBECONFIG=$WORK/kubeconfig
    kubectl config set-cluster envtest --server="https://127.0.0.1:$ap" --certificate-authority="$WORK/ca.crt" >/dev/null
    kubectl config set-credentials admin --token=record-cel-admin-token >/dev/null
    kubectl config set-context envtest --cluster=envtest --user=admin >/dev/null
    kubectl config use-context envtest >/dev/null
    for _ in $(seq 1 120); do
        kubectl get --raw /readyz >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "error: kube-apiserver not ready after 60s (see $WORK/apiserver.log)" >&2
    exit 1
}

stop_envtest() {
    [[ -n ${WORK:-} ]] || return 0
    for p in apiserver etcd; do
        [[ -f $WORK/$p.pid ]] && kill "$(cat "$WORK/$p.pid")" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

