# Shell functions for scripts that need a real control plane: the same envtest control plane the
# tests start (crates/testenv's kubeplug-envtest: etcd and kube-apiserver, its PKI, users admin,
# alice, bob). Source it, set ROOT, then `start_envtest` (sets WORK and KUBECONFIG) and
# `stop_envtest`. However the script ends, kubeplug-envtest's reaper stops the control plane.

start_envtest() {
    if [[ -z ${KUBEBUILDER_ASSETS:-} ]]; then
        KUBEBUILDER_ASSETS=$("$ROOT/../shared/envtest/unpack" "$ROOT/target/envtest-bin" | tail -1)
    fi
    export KUBEBUILDER_ASSETS
    cargo build -q -p kubeplug-testenv --bin kubeplug-envtest --manifest-path "$ROOT/Cargo.toml" >&2
    WORK=$(mktemp -d /tmp/kubeplug-envtest-script.XXXXXX)
    "${CARGO_TARGET_DIR:-$ROOT/target}/debug/kubeplug-envtest" --kubeconfig "$WORK/kubeconfig" >"$WORK/envtest.log" 2>&1 &
    echo $! >"$WORK/envtest.pid"
    for _ in $(seq 1 600); do
        if [[ -s $WORK/kubeconfig ]]; then
            export KUBECONFIG=$WORK/kubeconfig
            return 0
        fi
        kill -0 "$(cat "$WORK/envtest.pid")" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/envtest.log" >&2
    echo "error: the envtest control plane did not start (see above)" >&2
    exit 1
}

stop_envtest() {
    [[ -n ${WORK:-} ]] || return 0
    [[ -f $WORK/envtest.pid ]] && kill "$(cat "$WORK/envtest.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
