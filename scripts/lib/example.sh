# shellcheck shell=bash
# Builds an example of this package for a check script, unless its binary is already newer
# than every source it is built from. Source it; the caller defines `say` and sets ROOT.
#
#   example_build NAME PROFILE [CARGO ARGS…]   # PROFILE: debug or release; sets BIN
#
# Why a time check (like make, and like tests/support/process.rs) instead of always running
# `cargo build --example NAME`: in scripts/test the `cargo test --workspace` step has just
# built every example with the features of the whole workspace, and a build of this package
# alone resolves features differently, so it would compile the workspace crates again
# (about 150 s on 2 cores) only to produce an equivalent binary.

# Prints the first source newer than $2 (nothing when the binary is up to date).
example_newer_source() {
    local name="$1" bin="$2" dir
    local sources=("$ROOT/Cargo.lock" "$ROOT/examples/$name.rs" "$ROOT/examples/$name")
    for dir in "$ROOT" "$ROOT"/*/; do
        [ -f "$dir/Cargo.toml" ] && sources+=("$dir/Cargo.toml" "$dir/src")
    done
    local existing=()
    for dir in "${sources[@]}"; do
        [ -e "$dir" ] && existing+=("$dir")
    done
    # Not a web app beside an example (examples/clinic/web): no Rust is built from it.
    find "${existing[@]}" \( -name node_modules -o -name dist -o -name target -o -name web \) -prune -o \
        -newer "$bin" -type f -print -quit
}

example_build() {
    local name="$1" profile="$2" newer
    shift 2
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$profile/examples/$name"
    if [ -x "$BIN" ]; then
        newer="$(example_newer_source "$name" "$BIN")"
        if [ -z "$newer" ]; then
            say "example $name ($profile) is up to date"
            return 0
        fi
        say "building example $name ($profile): ${newer#"$ROOT"/} changed"
    else
        say "building example $name ($profile)"
    fi
    (cd "$ROOT" && cargo build --quiet "$@" --example "$name")
}
