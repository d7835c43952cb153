# shellcheck shell=bash
# shellcheck disable=SC2317  # functions called from traps look unreachable to shellcheck
# Runs one service binary for a check script (scripts/fuzz-api, scripts/check-docs-pages):
# build it, start it on a free 127.0.0.1 port, wait until it is ready, stop it. Source it;
# the caller defines `say` and `die`, and sets ROOT.
#
#   service_binary TARGET        # an example name, or the path of a binary; sets BIN, NAME,
#                                # RUN_DIR (SERVICE_RELEASE=1: a release build; SERVICE_CWD:
#                                # where a binary runs, for its config/)
#   service_start LOG [VAR=value…]   # starts it (JSON logs at info, docs on, its own
#                                    # database), waits for /health/ready; sets BASE
#   service_stop                 # SIGTERM, then waits for it to exit
#
# An EXIT trap kills the service if the caller ends early.

# shellcheck source=scripts/lib/example.sh
. "$ROOT/scripts/lib/example.sh"

STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}" # seconds to log `listening on` and be ready
STOP_TIMEOUT="${STOP_TIMEOUT:-20}"       # seconds to exit after SIGTERM
SERVICE_PID=""

service_cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [ -n "$SERVICE_PID" ] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill -KILL "$SERVICE_PID" 2>/dev/null
        wait "$SERVICE_PID" 2>/dev/null
    fi
    exit "$rc"
}
trap service_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

service_binary() {
    local target="$1"
    if [[ "$target" == */* ]]; then
        BIN="$(cd "$(dirname "$target")" && pwd)/$(basename "$target")"
        NAME="$(basename "$target")"
        RUN_DIR="${SERVICE_CWD:-$PWD}"
        [ -x "$BIN" ] || die "$BIN is not an executable"
        return
    fi
    NAME="$target"
    [ -e "$ROOT/examples/$NAME" ] || [ -e "$ROOT/examples/$NAME.rs" ] ||
        die "no example '$NAME' in $ROOT/examples"
    local profile=debug release=()
    if [ "${SERVICE_RELEASE:-}" = 1 ]; then
        profile=release
        release=(--release)
    fi
    example_build "$NAME" "$profile" "${release[@]}" || die "cargo build --example $NAME failed"
    RUN_DIR="$ROOT"
}

service_start() {
    local log="$1"
    shift
    say "starting $NAME (log: $log)"
    (
        cd "$RUN_DIR" || exit
        exec env -u RUST_LOG APP_PROFILE=dev APP_SERVER__HOST=127.0.0.1 APP_SERVER__PORT=0 \
            APP_LOG__FORMAT=json APP_LOG__LEVEL=info APP_DOCS__ENABLED=true \
            APP_MONGO__DATABASE="check_${NAME//-/_}_$$" "$@" "$BIN"
    ) >"$log" 2>&1 &
    SERVICE_PID=$!

    local addr="" i
    for ((i = 0; i < STARTUP_TIMEOUT * 10; i++)); do
        addr="$(python3 - "$log" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    fields = event.get("fields", event)
    if str(fields.get("message", "")).startswith("listening on") and fields.get("addr"):
        print(fields["addr"])
        break
PY
)"
        [ -n "$addr" ] && break
        kill -0 "$SERVICE_PID" 2>/dev/null || {
            cat "$log" >&2
            die "$NAME exited before listening (its log is above)"
        }
        sleep 0.1
    done
    [ -n "$addr" ] || {
        cat "$log" >&2
        die "$NAME did not log 'listening on' within ${STARTUP_TIMEOUT}s"
    }
    BASE="http://$addr"
    for ((i = 0; i < STARTUP_TIMEOUT * 5; i++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready")" = 200 ] && break
        sleep 0.2
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready")" = 200 ] ||
        die "$BASE/health/ready is not 200 after ${STARTUP_TIMEOUT}s"
    say "$NAME listens on $BASE"
}

service_stop() {
    local i
    kill -TERM "$SERVICE_PID"
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        kill -0 "$SERVICE_PID" 2>/dev/null || break
        sleep 0.1
    done
    wait "$SERVICE_PID" 2>/dev/null || true
    SERVICE_PID=""
}
