//! An independent review of the crash-safety protocol: each scenario a test.

mod common;

#[test]
fn placeholder() {}
