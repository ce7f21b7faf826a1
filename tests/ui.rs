//! Compile-fail tests: each file under `tests/ui/<category>/` is a declaration with one mistake,
//! and its `.stderr` holds what rustc prints. Regenerate with `TRYBUILD=overwrite cargo test --test ui`
//! and review the diff by eye.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*/*.rs");
}
