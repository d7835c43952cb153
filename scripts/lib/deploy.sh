# shellcheck shell=bash
# shellcheck disable=SC2317  # functions called from traps look unreachable to shellcheck
# The deploy/ topology on 127.0.0.1 without Docker, for scripts/deploy-local and
# scripts/check-deploy: nginx (TLS, a certificate from a CA generated here) in front of two
# instances of an example, sharing Redis, the S3 server and the database that
# scripts/with-services provides. Source it after setting ROOT and defining `say` and `die`;
# run it under scripts/with-services (APP_REDIS__URL, APP_MONGO__URL and
# APP_STORAGE__S3__ENDPOINT set).
#
#   deploy_up                  # builds, generates certificates, starts everything; sets
#                              # DEPLOY_HTTPS_URL, DEPLOY_HTTP_URL, DEPLOY_CA, INSTANCE_URLS
#   deploy_restart_instance I  # SIGTERM instance I (0 or 1), waits for its exit (it
#                              # drains first), starts it again on the same port, waits for
#                              # /health/ready
#   deploy_nginx_conf, deploy_nginx_reload  # rewrite nginx.conf (the instances listed in
#                              # DRAINED marked `down`) and reload it
#   deploy_down                # stops nginx and the instances (also the EXIT trap)
#
# Environment: DEPLOY_EXAMPLE (default week4_files), DEPLOY_RELEASE=1 (a release build),
# DEPLOY_INSTANCES (default 2).
#
# scripts/lib/service.sh runs one instance on an OS-chosen port; here each instance keeps a
# fixed port across restarts (nginx's upstream names it), so the lifecycle is written out.

# shellcheck source=scripts/lib/example.sh
. "$ROOT/scripts/lib/example.sh"

DEPLOY_DIR="$ROOT/target/deploy-local"
DEPLOY_EXAMPLE="${DEPLOY_EXAMPLE:-week4_files}"
DEPLOY_INSTANCES="${DEPLOY_INSTANCES:-2}"
DEPLOY_TIMEOUT=60 # seconds an instance gets to be ready, and nginx to answer
STOP_TIMEOUT=30   # seconds an instance gets to drain and exit after SIGTERM
RUN=""
NGINX_PID=""
INSTANCE_PIDS=()
INSTANCE_PORTS=()
INSTANCE_URLS=()
NGINX_BIN=""
HTTP_PORT=""
HTTPS_PORT=""
DRAINED="" # instances marked `down` in nginx's upstream

deploy_down() {
    local pid i
    set +e
    if [ -n "$NGINX_PID" ]; then
        # QUIT: graceful, open connections finish.
        kill -QUIT "$NGINX_PID" 2>/dev/null
        deploy_wait_exit "$NGINX_PID" 10 || kill -KILL "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
        NGINX_PID=""
    fi
    for i in "${!INSTANCE_PIDS[@]}"; do
        pid="${INSTANCE_PIDS[$i]}"
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null
        deploy_wait_exit "$pid" "$STOP_TIMEOUT" || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        INSTANCE_PIDS[i]=""
    done
    if [ -n "$RUN" ] && [ -z "${DEPLOY_KEEP_RUN:-}" ]; then
        rm -rf "$RUN"
    fi
}

deploy_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ] && [ -n "$RUN" ] && [ -d "$RUN" ]; then
        say "failed; last log lines:"
        tail -n 20 "$RUN"/*.log >&2 2>/dev/null
    fi
    deploy_down
    exit "$rc"
}
trap deploy_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# deploy_wait_exit PID SECONDS: 0 once PID is gone, 1 if it still runs after SECONDS.
deploy_wait_exit() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

deploy_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# A CA and a server certificate for 127.0.0.1 and localhost, made once and kept in
# target/deploy-local/certs (gitignored); a lock keeps concurrent first runs apart.
deploy_certs() {
    local certs="$DEPLOY_DIR/certs"
    mkdir -p "$certs"
    exec 8>"$DEPLOY_DIR/certs.lock"
    flock -w 60 8 || die "timed out waiting for another run to generate certificates"
    if [ ! -s "$certs/server.crt" ] || ! openssl x509 -checkend 86400 -noout -in "$certs/server.crt" >/dev/null; then
        say "generating a CA and a server certificate in $certs"
        (
            set -e
            cd "$certs"
            umask 077
            openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout ca.key -out ca.crt -days 825 -subj "/CN=starter deploy-local CA" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
            printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
                "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -out server.crt -days 365 -extfile server.ext 2>/dev/null
            chmod 644 ca.crt server.crt
            rm -f server.csr server.ext
        ) || die "openssl could not generate the certificates"
    fi
    flock -u 8
    exec 8>&-
    DEPLOY_CA="$certs/ca.crt"
}

# deploy_start_instance I: starts instance I on its port (chosen on first start).
deploy_start_instance() {
    local i="$1" port="${INSTANCE_PORTS[$1]:-}"
    [ -n "$port" ] || port="$(deploy_free_port)"
    INSTANCE_PORTS[i]="$port"
    INSTANCE_URLS[i]="http://127.0.0.1:$port"
    (
        cd "$ROOT" || exit
        # Both instances share one database, Redis and bucket: the same service, twice.
        # nginx is the only proxy, on 127.0.0.1; the JWT key comes from a file, as a Docker
        # secret would.
        exec env -u RUST_LOG APP_PROFILE=dev APP_SERVER__HOST=127.0.0.1 APP_SERVER__PORT="$port" \
            APP_LOG__FORMAT=json APP_LOG__LEVEL=info APP_DOCS__ENABLED=true APP_SERVER__DRAIN=5 \
            APP_MONGO__DATABASE=deploy_local APP_STORAGE__BACKEND=s3 \
            APP_AUTH__TRUSTED_PROXIES='["127.0.0.1/32"]' \
            APP_AUTH__JWT_SECRET_FILE="$RUN/secrets/jwt_secret" \
            "$BIN"
    ) >>"$RUN/instance-$i.log" 2>&1 &
    INSTANCE_PIDS[i]=$!
    local n
    for ((n = 0; n < DEPLOY_TIMEOUT * 5; n++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "${INSTANCE_URLS[$i]}/health/ready")" = 200 ] && return 0
        kill -0 "${INSTANCE_PIDS[$i]}" 2>/dev/null || die "instance $i exited during start-up (log: $RUN/instance-$i.log)"
        sleep 0.2
    done
    die "instance $i is not ready after ${DEPLOY_TIMEOUT}s (log: $RUN/instance-$i.log)"
}

# deploy_nginx_conf: writes nginx.conf from the template, each instance in the upstream,
# those listed in DRAINED (indexes, space-separated) marked `down`, and checks it.
deploy_nginx_conf() {
    local i upstreams="" down
    for i in "${!INSTANCE_PORTS[@]}"; do
        down=""
        [[ " $DRAINED " == *" $i "* ]] && down=" down"
        upstreams+="        server 127.0.0.1:${INSTANCE_PORTS[$i]} max_fails=1 fail_timeout=3s$down;"$'\n'
    done
    UPSTREAMS="${upstreams%$'\n'}" python3 - "$ROOT/deploy/nginx/local.conf.template" "$RUN/nginx/nginx.conf" \
        RUN_DIR="$RUN" MIME_TYPES=/etc/nginx/mime.types HTTP_PORT="$HTTP_PORT" HTTPS_PORT="$HTTPS_PORT" \
        CERT_DIR="$DEPLOY_DIR/certs" STATIC_DIR="$ROOT/deploy/static" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
values = dict(arg.split("=", 1) for arg in sys.argv[3:])
values["UPSTREAM_SERVERS"] = os.environ["UPSTREAMS"]
for key, value in values.items():
    text = text.replace(f"@@{key}@@", value)
left = re.findall(r"@@[A-Z_]+@@", text)
assert not left, f"placeholders left unfilled: {left}"
open(sys.argv[2], "w").write(text)
PY
    "$NGINX_BIN" -t -q -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/error.log" ||
        die "nginx -t refused the generated config ($RUN/nginx/nginx.conf)"
}

# deploy_children PID: the processes whose parent is PID (from /proc: procps may be absent).
deploy_children() {
    local parent="$1" stat rest fields
    for stat in /proc/[0-9]*/stat; do
        read -r rest 2>/dev/null <"$stat" || continue
        # After the command name (which may hold spaces): state, then the parent's pid.
        read -r -a fields <<<"${rest##*) }"
        [ "${fields[1]}" = "$parent" ] && printf '%s ' "${stat//[!0-9]/}"
    done
    return 0
}

# deploy_nginx_reload: applies nginx.conf (SIGHUP) and waits until the workers of the old
# configuration have finished their requests and exited, so that nothing sent under the
# old upstream list is still on its way.
deploy_nginx_reload() {
    local old n
    old="$(deploy_children "$NGINX_PID")"
    kill -HUP "$NGINX_PID"
    for ((n = 0; n < STOP_TIMEOUT * 10; n++)); do
        local left=0 pid
        for pid in $old; do
            kill -0 "$pid" 2>/dev/null && left=1
        done
        [ "$left" = 0 ] && return 0
        sleep 0.1
    done
    die "nginx's old workers did not exit ${STOP_TIMEOUT}s after a reload"
}

# SIGTERM, then the same instance again on the same port once it has exited. The instance
# drains (server.drain): it refuses new connections, which nginx retries on the other
# instance whatever the method, and serves its open ones, each response saying
# `Connection: close`, until nginx has closed them all (or its idle upstream connections
# time out: keepalive_timeout in the upstream, below server.drain).
deploy_restart_instance() {
    local i="$1" pid="${INSTANCE_PIDS[$1]}"
    kill -TERM "$pid"
    deploy_wait_exit "$pid" "$STOP_TIMEOUT" || die "instance $i did not exit ${STOP_TIMEOUT}s after SIGTERM"
    wait "$pid" 2>/dev/null || true
    deploy_start_instance "$i"
}

deploy_up() {
    if [ -z "${APP_REDIS__URL:-}" ] || [ -z "${APP_MONGO__URL:-}" ] || [ -z "${APP_STORAGE__S3__ENDPOINT:-}" ]; then
        die "run under scripts/with-services (Redis, the database and the S3 server)"
    fi
    command -v nginx >/dev/null 2>&1 || command -v /usr/sbin/nginx >/dev/null 2>&1 ||
        die "nginx not found; install the Debian package nginx-light (or nginx)"
    command -v openssl >/dev/null 2>&1 || die "openssl not found"
    local nginx_bin
    nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

    local profile=debug release=()
    if [ "${DEPLOY_RELEASE:-}" = 1 ]; then
        profile=release
        release=(--release)
    fi
    example_build "$DEPLOY_EXAMPLE" "$profile" "${release[@]}" ||
        die "cargo build --example $DEPLOY_EXAMPLE failed"

    mkdir -p "$DEPLOY_DIR"
    deploy_certs
    RUN="$(mktemp -d "$DEPLOY_DIR/run.XXXXXX")"
    mkdir -p "$RUN/secrets" "$RUN/tmp" "$RUN/nginx"
    # nginx's workers drop to `nobody` when started as root and write temp files here.
    chmod 755 "$RUN"
    chmod 700 "$RUN/secrets"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$RUN/secrets/jwt_secret")

    local i
    for ((i = 0; i < DEPLOY_INSTANCES; i++)); do
        deploy_start_instance "$i"
        say "instance $i ready at ${INSTANCE_URLS[$i]} (log: $RUN/instance-$i.log)"
    done

    local mime=/etc/nginx/mime.types
    [ -f "$mime" ] || die "$mime not found (it comes with the nginx package)"
    NGINX_BIN="$nginx_bin"
    cp "$ROOT"/deploy/nginx/{tls,proxy,locations}.conf "$RUN/nginx/"
    for attempt in 1 2 3; do
        HTTP_PORT="$(deploy_free_port)"
        HTTPS_PORT="$(deploy_free_port)"
        deploy_nginx_conf
        "$nginx_bin" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/error.log" \
            </dev/null >>"$RUN/nginx.log" 2>&1 &
        NGINX_PID=$!
        DEPLOY_HTTPS_URL="https://127.0.0.1:$HTTPS_PORT"
        DEPLOY_HTTP_URL="http://127.0.0.1:$HTTP_PORT"
        local n
        for ((n = 0; n < DEPLOY_TIMEOUT * 10; n++)); do
            curl -sf -o /dev/null --cacert "$DEPLOY_CA" "$DEPLOY_HTTPS_URL/health/live" && break
            kill -0 "$NGINX_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$NGINX_PID" 2>/dev/null && break
        # A port taken between deploy_free_port and nginx's bind: try others.
        wait "$NGINX_PID" 2>/dev/null
        NGINX_PID=""
        say "nginx exited during start-up (attempt $attempt): $(tail -n 1 "$RUN/error.log" 2>/dev/null)"
    done
    [ -n "$NGINX_PID" ] || die "nginx did not start"
    curl -sf -o /dev/null --cacert "$DEPLOY_CA" "$DEPLOY_HTTPS_URL/health/live" ||
        die "nginx does not answer on $DEPLOY_HTTPS_URL (logs in $RUN)"
    export DEPLOY_HTTPS_URL DEPLOY_HTTP_URL DEPLOY_CA
}
