//! What each built component imports and exports, as `wasm-tools component wit` prints it.

use std::process::Command;

use host_test::artifacts;

/// The `import` and `export` lines of the artifact `name`'s WIT.
fn world_lines(name: &str, kind: &str) -> Vec<String> {
    let path = artifacts::path(name);
    let output = Command::new("wasm-tools")
        .args(["component", "wit"])
        .arg(&path)
        .output()
        .expect("run wasm-tools (scripts/setup.sh installs it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix(&format!("{kind} ")))
        .map(|rest| rest.trim_end_matches(';').to_owned())
        .collect()
}

#[test]
fn the_composition_imports_only_wasi_and_exports_the_database() {
    let imports = world_lines(artifacts::COMPOSED, "import");
    assert!(!imports.is_empty());
    assert!(
        imports.iter().all(|import| import.starts_with("wasi:")),
        "{imports:?}"
    );
    assert!(
        imports
            .iter()
            .any(|import| import.starts_with("wasi:filesystem/preopens"))
    );
    assert_eq!(
        world_lines(artifacts::COMPOSED, "export"),
        [
            "wasm-dbms:demo/database@0.1.0",
            "wasm-dbms:demo/raw-storage@0.1.0"
        ]
    );
}

#[test]
fn the_dbms_component_imports_the_provider_and_the_provider_exports_it() {
    let interface = host_test::linking::INTERFACE;
    assert!(
        world_lines(artifacts::DBMS, "import")
            .iter()
            .any(|import| import == interface)
    );
    assert_eq!(world_lines(artifacts::PROVIDER, "export"), [interface]);
}

#[test]
fn the_provider_uses_nothing_beyond_wasi() {
    let imports = world_lines(artifacts::PROVIDER, "import");
    assert!(
        imports.iter().all(|import| import.starts_with("wasi:")),
        "{imports:?}"
    );
}

#[test]
fn the_comparison_builds_carry_their_storage_inside() {
    for name in [artifacts::DBMS_SEED, artifacts::DBMS_HEAP] {
        let imports = world_lines(name, "import");
        assert!(
            imports.iter().all(|import| import.starts_with("wasi:")),
            "{name}: {imports:?}"
        );
    }
}
