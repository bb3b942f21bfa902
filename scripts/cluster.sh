#!/usr/bin/env bash
# Start the hosted topology on this machine: HAProxy (deploy/haproxy.cfg) in front of N replicas of
# the app (streamlit run serve.py), all on loopback, with affinity by cookie and one shared cookie
# secret. Ctrl-C stops everything.
#
#   scripts/cluster.sh                      # 2 replicas behind http://127.0.0.1:8501
#   scripts/cluster.sh --replicas 3 --port 8700 -- --secrets.files /path/secrets.toml
#
# Options after "--" go to every replica's `streamlit run` (a secrets file, a data folder, ...).
# Replicas listen on port+1 .. port+N. Logs and pid files go to $RESPINE_CLUSTER_DIR (default
# /tmp/respine-cluster-<port>): balancer.log, app<K>.log, app<K>.pid, ready (written once the
# balancer answers). RESPINE_COOKIE_SECRET sets the cookie secret (default: a new random one).
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=2
port=8501
while [ $# -gt 0 ]; do
    case "$1" in
        --replicas) replicas="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        --) shift; break ;;
        *) echo "cluster: unknown option '$1' (use --replicas N, --port P, -- streamlit options)" >&2; exit 2 ;;
    esac
done
case "$replicas" in
    ''|*[!0-9]*) echo "cluster: --replicas needs a whole number, got '$replicas'" >&2; exit 2 ;;
esac
if [ "$replicas" -lt 2 ] || [ "$replicas" -gt 16 ]; then
    echo "cluster: --replicas must be between 2 and 16 (for one replica use scripts/start.sh)" >&2
    exit 2
fi

bash scripts/setup.sh app
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
    if command -v apt-get >/dev/null; then
        echo "cluster: installing Debian's haproxy" >&2
        SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq haproxy >/dev/null
    else
        echo "cluster: HAProxy is needed (install your distribution's haproxy package)." >&2
        exit 1
    fi
fi
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"

dir="${RESPINE_CLUSTER_DIR:-/tmp/respine-cluster-$port}"
mkdir -p "$dir"
rm -f "$dir"/ready "$dir"/app*.pid
# Every replica signs cookies (the XSRF cookie, the sign-in cookie) with the same secret, so a
# browser sent to another replica after a failure is still recognised.
# (Streamlit takes it from its environment only, never from the command line.)
export STREAMLIT_SERVER_COOKIE_SECRET="${RESPINE_COOKIE_SECRET:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')}"

pids=()
stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

config="$dir/haproxy.cfg"
cp deploy/haproxy.cfg "$config"
for k in $(seq 1 "$replicas"); do
    app_port=$((port + k))
    .venv/bin/python -m streamlit run serve.py \
        --server.port "$app_port" --server.address 127.0.0.1 --server.headless true \
        --browser.gatherUsageStats false \
        --server.fileWatcherType none "$@" >"$dir/app$k.log" 2>&1 &
    pids+=("$!")
    echo "$!" >"$dir/app$k.pid"
    export "RESPINE_APP$k=127.0.0.1:$app_port"
    if [ "$k" -gt 2 ]; then
        echo "    server app$k \"\${RESPINE_APP$k}\" cookie app$k" >>"$config"
    fi
done
export RESPINE_BIND="127.0.0.1:$port"
export RESPINE_DEPLOY_DIR="$PWD/deploy"
# The balancer's status page (CSV at /;csv), for the operator and the readiness check below.
export RESPINE_STATS_BIND="${RESPINE_STATS_BIND:-127.0.0.1:$((port + replicas + 1))}"
"$HAPROXY" -c -q -f "$config"
"$HAPROXY" -db -f "$config" >"$dir/balancer.log" 2>&1 &
balancer="$!"
pids+=("$balancer")
echo "$balancer" >"$dir/balancer.pid"

# Ready when the balancer sees every replica up; a replica that exits while starting stops the
# cluster with its log.
for _ in $(seq 1 240); do
    for k in $(seq 1 "$replicas"); do
        if ! kill -0 "$(cat "$dir/app$k.pid")" 2>/dev/null; then
            echo "cluster: replica $k exited while starting; its log ($dir/app$k.log) ends:" >&2
            tail -n 20 "$dir/app$k.log" >&2
            exit 1
        fi
    done
    up=$(.venv/bin/python - "$RESPINE_STATS_BIND" 2>/dev/null <<'PY' || echo 0
import csv, io, sys, urllib.request
rows = csv.DictReader(io.StringIO(urllib.request.urlopen(f"http://{sys.argv[1]}/;csv", timeout=2).read().decode().lstrip("# ")))
print(sum(r["pxname"] == "replicas" and r["svname"].startswith("app") and r["status"] == "UP" for r in rows))
PY
)
    if [ "$up" = "$replicas" ]; then
        touch "$dir/ready"
        echo "cluster: $replicas replicas behind http://127.0.0.1:$port, status page http://$RESPINE_STATS_BIND (logs in $dir)"
        break
    fi
    sleep 0.5
done
[ -f "$dir/ready" ] || { echo "cluster: no replica answered within 120 s; see $dir/app*.log" >&2; exit 1; }
# A replica that dies is the balancer's to route around (its readers reload onto another one);
# the cluster stops when the balancer does.
wait "$balancer" || true
echo "cluster: the balancer stopped; stopping the replicas" >&2
