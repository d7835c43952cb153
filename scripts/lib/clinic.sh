# shellcheck shell=bash
# shellcheck disable=SC2317  # functions called from traps look unreachable to shellcheck
# shellcheck disable=SC2034  # CLINIC_URL, CLINIC_LOGINS are for the scripts that source this
# The clinic example's whole stack on 127.0.0.1, for scripts/run-clinic and
# scripts/e2e-clinic: the API (seeded with the demo clinic) and nginx serving the built staff
# app with the API behind one origin. Run it under scripts/with-services (Redis and the
# database: APP_REDIS__URL, APP_MONGO__URL). Source it after setting ROOT and defining
# `say` and `die`.
#
#   clinic_tools             # installs what is missing: nginx-light, nodejs/npm (apt)
#   clinic_web_deps always|if-changed  # npm ci in examples/clinic/web (if-changed: only
#                            # when node_modules is older than package-lock.json)
#   clinic_web_build         # npm run build → examples/clinic/web/dist
#   clinic_up                # builds and seeds the API, starts it and nginx; sets
#                            # CLINIC_URL (the one origin), BASE (the API itself),
#                            # CLINIC_LOGINS (the seed's demo logins)
#   clinic_dev_server PORT   # the app on the Vite dev server at localhost:PORT, calling the
#                            # API on its own origin (VITE_API_BASE); sets CLINIC_DEV_URL.
#                            # The API must allow that origin: CLINIC_API_ENV+=(
#                            # APP_CORS__ALLOWED_ORIGINS='["http://localhost:PORT"]')
#   clinic_down              # stops the dev server, nginx and the API (also the EXIT trap)
#
# Settings (environment or shell variables, before clinic_up):
#   CLINIC_PORT      nginx's port (0: any free port)
#   CLINIC_LOG       the API's JSON log, the seed's next to it as *-seed.log (default
#                    target/clinic/api.log)
#   CLINIC_DB        database name (default clinic; the seed fills it only when empty)
#   CLINIC_API_ENV   array of extra VAR=value for the API (e.g. a short access-token TTL)

CLINIC_WEB="$ROOT/examples/clinic/web"
CLINIC_DIR="$ROOT/target/clinic"
CLINIC_RUN=""
CLINIC_NGINX_PID=""
CLINIC_VITE_PID=""
CLINIC_DEV_URL=""
CLINIC_URL=""
CLINIC_LOGINS=""
[ -n "${CLINIC_API_ENV+x}" ] || CLINIC_API_ENV=()

# shellcheck source=scripts/lib/service.sh
. "$ROOT/scripts/lib/service.sh"

# clinic_stop PID: SIGTERM (QUIT for nginx: graceful), then SIGKILL after 10 s.
clinic_stop() {
    local pid="$1" signal="${2:-TERM}" i
    kill -"$signal" "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# clinic_watch PID: stops PID if this script dies without running its EXIT trap (SIGKILL,
# e.g. from a parent's stop timeout), so no server outlives the command that started it.
clinic_watch() {
    local pid="$1" owner="$$"
    (
        trap - EXIT INT TERM
        while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
        kill -TERM "$pid" 2>/dev/null
    ) </dev/null >/dev/null 2>&1 &
}

clinic_down() {
    set +e
    [ -z "$CLINIC_VITE_PID" ] || clinic_stop "$CLINIC_VITE_PID"
    CLINIC_VITE_PID=""
    [ -z "$CLINIC_NGINX_PID" ] || clinic_stop "$CLINIC_NGINX_PID" QUIT
    CLINIC_NGINX_PID=""
    # Quietly: after a Ctrl-C the API may have stopped already.
    [ -z "$SERVICE_PID" ] || service_stop 2>/dev/null
    [ -z "$CLINIC_RUN" ] || rm -rf "$CLINIC_RUN"
    CLINIC_RUN=""
    set -e
}

clinic_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ] && [ -n "$CLINIC_RUN" ]; then
        say "failed; last lines of the API and nginx logs:"
        tail -n 20 "${CLINIC_LOG:-$CLINIC_DIR/api.log}" "$CLINIC_RUN/error.log" >&2 2>/dev/null
    fi
    clinic_down
    exit "$rc"
}
# Replaces service.sh's trap: nginx is stopped too.
trap clinic_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

clinic_apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    say "installing $* (apt)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=300 "$@" >/dev/null
}

clinic_tools() {
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || clinic_apt_install nginx-light
    # The registry's nodejs (NodeSource 20.x) ships npm and conflicts with Debian's `npm`
    # package: asking for both fails. Debian's own nodejs 18 lacks npm, and is too old anyway.
    command -v npm >/dev/null 2>&1 || clinic_apt_install nodejs
    command -v npm >/dev/null 2>&1 || clinic_apt_install npm
    command -v curl >/dev/null 2>&1 || clinic_apt_install curl
    # The web app's tools (Vite 8, Vitest 4) need Node 20.19 or later (package.json).
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
        die "Node $(node --version) is too old for the web app: install Node 20.19 or later (e.g. from nodejs.org or NodeSource)"
}

clinic_web_deps() {
    if [ "$1" = if-changed ] && [ "$CLINIC_WEB/node_modules/.package-lock.json" -nt "$CLINIC_WEB/package-lock.json" ]; then
        return 0
    fi
    say "npm ci (examples/clinic/web)"
    (cd "$CLINIC_WEB" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
}

clinic_web_build() {
    say "building the staff app (npm run build)"
    mkdir -p "$CLINIC_DIR"
    (cd "$CLINIC_WEB" && npm run --silent build >"$CLINIC_DIR/web-build.log" 2>&1) || {
        cat "$CLINIC_DIR/web-build.log" >&2
        die "npm run build failed"
    }
}

# clinic_nginx PORT: writes the config for PORT and starts nginx; 0 once it serves the app,
# 3 when it exited (the port is taken).
clinic_nginx() {
    local port="$1" api_port="${BASE##*:}" n
    sed -e "s#@@RUN_DIR@@#$CLINIC_RUN#g" -e "s#@@MIME_TYPES@@#/etc/nginx/mime.types#g" \
        -e "s#@@API_PORT@@#$api_port#g" -e "s#@@PORT@@#$port#g" -e "s#@@WEB_DIR@@#$CLINIC_WEB/dist#g" \
        "$ROOT/deploy/nginx/clinic.conf.template" >"$CLINIC_RUN/nginx/nginx.conf"
    ! grep -Eq '@@[A-Z_]+@@' "$CLINIC_RUN/nginx/nginx.conf" || die "placeholders left in $CLINIC_RUN/nginx/nginx.conf"
    "$CLINIC_NGINX" -p "$CLINIC_RUN/nginx" -c "$CLINIC_RUN/nginx/nginx.conf" -e "$CLINIC_RUN/error.log" \
        </dev/null >>"$CLINIC_RUN/nginx.out" 2>&1 &
    CLINIC_NGINX_PID=$!
    CLINIC_URL="http://localhost:$port"
    for ((n = 0; n < 100; n++)); do
        if curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" &&
            curl -sf -o /dev/null "http://127.0.0.1:$port/login"; then
            return 0
        fi
        kill -0 "$CLINIC_NGINX_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$CLINIC_NGINX_PID" 2>/dev/null && die "nginx does not serve the app on port $port (log: $CLINIC_RUN/error.log)"
    wait "$CLINIC_NGINX_PID" 2>/dev/null
    CLINIC_NGINX_PID=""
    return 3
}

clinic_up() {
    if [ -z "${APP_REDIS__URL:-}" ] || [ -z "${APP_MONGO__URL:-}" ]; then
        die "run under scripts/with-services (Redis and the database)"
    fi
    [ -f "$CLINIC_WEB/dist/index.html" ] || die "no built staff app in $CLINIC_WEB/dist (clinic_web_build)"
    CLINIC_NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
    [ -f /etc/nginx/mime.types ] || die "/etc/nginx/mime.types not found (it comes with the nginx package)"

    mkdir -p "$CLINIC_DIR"
    CLINIC_RUN="$(mktemp -d "$CLINIC_DIR/run.XXXXXX")"
    mkdir -p "$CLINIC_RUN/nginx" "$CLINIC_RUN/tmp"
    # nginx's workers drop to `nobody` when started as root.
    chmod 755 "$CLINIC_RUN"
    cp "$ROOT/deploy/nginx/proxy.conf" "$CLINIC_RUN/nginx/"
    local log="${CLINIC_LOG:-$CLINIC_DIR/api.log}" db="${CLINIC_DB:-clinic}"
    CLINIC_LOG="$log"

    service_binary clinic
    say "seeding the demo clinic (database $db)"
    # The seed's JSON log lines go next to the API's log (masked, checked with it); its
    # stdout (the demo logins, in clear) only to the run folder.
    (cd "$RUN_DIR" && env -u RUST_LOG APP_PROFILE=dev APP_LOG__FORMAT=json APP_LOG__LEVEL=info \
        APP_MONGO__DATABASE="$db" "$BIN" seed) >"$CLINIC_RUN/seed.out" 2>&1 ||
        {
            cat "$CLINIC_RUN/seed.out" >&2
            die "the seed failed"
        }
    grep '^{' "$CLINIC_RUN/seed.out" >"${log%.*}-seed.log" || true
    CLINIC_LOGINS="$(grep -v '^{' "$CLINIC_RUN/seed.out" || true)"
    service_start "$log" APP_MONGO__DATABASE="$db" "${CLINIC_API_ENV[@]}"
    clinic_watch "$SERVICE_PID"

    local port="${CLINIC_PORT:-8088}" attempt status
    for attempt in 1 2 3; do
        [ "${CLINIC_PORT:-8088}" != 0 ] ||
            port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        status=0
        clinic_nginx "$port" || status=$?
        [ "$status" -eq 0 ] && break
        # A fixed port that is taken is the user's to change; a free one may have been
        # taken since it was chosen: try another.
        [ "${CLINIC_PORT:-8088}" = 0 ] ||
            die "nginx could not listen on 127.0.0.1:$port ($(tail -n 1 "$CLINIC_RUN/error.log" 2>/dev/null)); set CLINIC_PORT to another port"
        say "nginx exited during start-up (attempt $attempt)"
    done
    [ -n "$CLINIC_NGINX_PID" ] || die "nginx did not start"
    clinic_watch "$CLINIC_NGINX_PID"
    say "the staff app and the API at $CLINIC_URL (API log: $log)"
}

clinic_dev_server() {
    local port="$1" n
    [ -n "${BASE:-}" ] || die "clinic_dev_server: start the API first (clinic_up)"
    (
        cd "$CLINIC_WEB" || exit
        VITE_API_BASE="http://localhost:${BASE##*:}" exec node node_modules/vite/bin/vite.js \
            --host localhost --port "$port" --strictPort
    ) </dev/null >"$CLINIC_DIR/vite.log" 2>&1 &
    CLINIC_VITE_PID=$!
    clinic_watch "$CLINIC_VITE_PID"
    CLINIC_DEV_URL="http://localhost:$port"
    for ((n = 0; n < 300; n++)); do
        curl -sf -o /dev/null "$CLINIC_DEV_URL/login" && return 0
        kill -0 "$CLINIC_VITE_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$CLINIC_DIR/vite.log" >&2
    die "the Vite dev server does not answer on $CLINIC_DEV_URL"
}
