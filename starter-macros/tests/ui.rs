//! Compile-time behaviour of the derives: `ui/pass` cases must build and run (their `main`
//! asserts what was generated); `ui/fail` cases must fail with exactly the `.stderr` next to
//! them. After changing a message, regenerate with `TRYBUILD=overwrite cargo test -p
//! starter-macros --test ui` and read the new `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
