//! Compile-time behaviour of the derives: each `ui/fail` case must fail with exactly the
//! `.stderr` next to it. After changing a message, regenerate with `TRYBUILD=overwrite cargo
//! test -p starter-macros --test ui` and read the new `.stderr` files. What the derives
//! generate when they compile is checked by `expanded.rs`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
}
