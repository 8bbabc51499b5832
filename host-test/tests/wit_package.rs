//! The WIT package `wasm-dbms:memory` as others depend on it: it validates, every item
//! carries a feature gate, the binary package `wkg build` made round-trips to the same
//! text, the adapter crate carries the same file, and the built components target its
//! worlds (checked by `wac targets` against worlds that add WASI's own imports), and a
//! consumer builds against the package fetched by `wkg` or put in `wit/deps`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `command`; returns its output, or its error text when it failed.
fn run(command: &mut Command) -> Result<String, String> {
    let output = command.output().expect("run a tool");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(text)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The package as `wasm-tools` prints it from `path` (a directory or a binary package).
fn printed(path: &Path) -> String {
    run(Command::new("wasm-tools")
        .args(["component", "wit"])
        .arg(path))
    .unwrap_or_else(|error| panic!("{} does not validate: {error}", path.display()))
}

#[test]
fn the_package_validates_and_its_binary_form_round_trips() {
    let text = printed(&repository().join("wit"));
    assert!(
        text.starts_with("package wasm-dbms:memory@0.2.0;"),
        "{text}"
    );
    let built = repository().join("artifacts/wasm-dbms-memory.wasm");
    assert_eq!(
        printed(&built),
        text,
        "what `wkg build` encoded reads back the same"
    );
    let encoded = tempfile::NamedTempFile::new().unwrap();
    run(Command::new("wasm-tools")
        .args(["component", "wit", "--wasm", "-o"])
        .arg(encoded.path())
        .arg(repository().join("wit")))
    .unwrap();
    assert_eq!(printed(encoded.path()), text);
}

#[test]
fn the_adapter_crate_carries_the_same_package() {
    let ours = std::fs::read_to_string(repository().join("wit/memory.wit")).unwrap();
    let adapter = std::fs::read_to_string(repository().join("adapter/wit/memory.wit")).unwrap();
    assert!(
        ours == adapter,
        "adapter/wit/memory.wit differs from wit/memory.wit"
    );
}

/// The items of a WIT file that WASI's CI requires a gate on: interfaces, worlds, their
/// types, functions, imports and exports.
fn ungated_items(wit: &str) -> Vec<String> {
    let keywords = [
        "interface ",
        "world ",
        "variant ",
        "record ",
        "resource ",
        "enum ",
        "flags ",
        "type ",
        "import ",
        "export ",
        "include ",
    ];
    let mut ungated = Vec::new();
    let mut gated = false;
    for line in wit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") || line == "}" {
            continue;
        }
        if line.starts_with("@since(") || line.starts_with("@unstable(") {
            gated = true;
            continue;
        }
        let is_item = keywords.iter().any(|k| line.starts_with(k))
            || line.contains(": func(")
            || line.contains(": static func(");
        // Fields of records and cases of variants are not gated items.
        if is_item && !gated {
            ungated.push(line.to_owned());
        }
        gated = false;
    }
    ungated
}

#[test]
fn every_item_carries_a_feature_gate() {
    let wit = std::fs::read_to_string(repository().join("wit/memory.wit")).unwrap();
    assert_eq!(ungated_items(&wit), Vec::<String>::new());
    assert_eq!(
        ungated_items("@since(version = 0.1.0)\ninterface a {\n  f: func();\n}\n"),
        ["f: func();"],
        "the check sees an ungated function"
    );
    for version in wit.split("@since(version = ").skip(1) {
        let version = version.split(')').next().unwrap();
        assert!(
            ["0.1.0", "0.2.0"].contains(&version),
            "@since names version {version}, which the package never had"
        );
    }
}

/// A directory holding worlds that add WASI 0.2's imports to ours (the WASI WIT comes
/// from the wasmtime-wasi crate the host builds with): `wac targets` wants every import of a
/// component named by the world.
fn worlds_on_wasi() -> tempfile::TempDir {
    let metadata = run(Command::new(env!("CARGO")).current_dir(repository()).args([
        "metadata",
        "--format-version",
        "1",
    ]))
    .unwrap();
    let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    let wasmtime_wasi = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|package| package["name"] == "wasmtime-wasi")
        .expect("wasmtime-wasi in the build");
    let manifest = PathBuf::from(wasmtime_wasi["manifest_path"].as_str().unwrap());
    let wasi = manifest.parent().unwrap().join("src/p2/wit/deps");
    let dir = tempfile::tempdir().unwrap();
    let deps = dir.path().join("deps");
    std::fs::create_dir_all(deps.join("memory")).unwrap();
    for entry in std::fs::read_dir(&wasi).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, deps.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        repository().join("wit/memory.wit"),
        deps.join("memory/memory.wit"),
    )
    .unwrap();
    let worlds = "package wasm-dbms:checks;\n\n\
        world provider-on-wasi {\n    include wasm-dbms:memory/provider@0.2.0;\n    include wasi:cli/imports@0.2.12;\n}\n\n\
        world consumer-on-wasi {\n    include wasm-dbms:memory/consumer@0.2.0;\n    include wasi:cli/imports@0.2.12;\n}\n";
    std::fs::write(dir.path().join("checks.wit"), worlds).unwrap();
    dir
}

fn targets(worlds: &Path, world: &str, artifact: &str) -> Result<String, String> {
    run(Command::new("wac")
        .args(["targets", "--wit"])
        .arg(worlds)
        .args(["--world", world])
        .arg(repository().join("artifacts").join(artifact)))
}

#[test]
fn the_components_target_the_package_worlds() {
    let worlds = worlds_on_wasi();
    targets(worlds.path(), "provider-on-wasi", "provider.wasm").expect("the provider");
    for consumer in ["dbms.wasm", "todo.wasm"] {
        targets(worlds.path(), "consumer-on-wasi", consumer)
            .unwrap_or_else(|error| panic!("{consumer}: {error}"));
    }
    // And the check can fail: a consumer exports no memory provider.
    let error = targets(worlds.path(), "provider-on-wasi", "dbms.wasm").unwrap_err();
    assert!(error.contains("memory-provider"), "{error}");
}

/// A consumer's component built against `wit` (a world importing `memory-provider`) the way
/// the README says, from a core module with no code (`wasm-tools component embed --dummy`):
/// it imports exactly our interface, and `wac plug` with the provider leaves only WASI.
fn a_consumer_against(wit: &Path, dir: &Path) {
    let core = dir.join("core.wasm");
    let component = dir.join("app.wasm");
    run(Command::new("wasm-tools")
        .args(["component", "embed", "--dummy", "--world", "app", "-o"])
        .arg(&core)
        .arg(wit))
    .expect("the world resolves against the package");
    run(Command::new("wasm-tools")
        .args(["component", "new", "-o"])
        .arg(&component)
        .arg(&core))
    .unwrap();
    let imports = |path: &Path| -> Vec<String> {
        printed(path)
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("import "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        imports(&component),
        ["import wasm-dbms:memory/memory-provider@0.2.0;"]
    );
    let composed = dir.join("composed.wasm");
    run(Command::new("wac")
        .args(["plug", "--plug"])
        .arg(repository().join("artifacts/provider.wasm"))
        .arg("-o")
        .arg(&composed)
        .arg(&component))
    .expect("wac plug");
    let left = imports(&composed);
    assert!(
        !left.is_empty() && left.iter().all(|import| import.starts_with("import wasi:")),
        "{left:?}"
    );
}

const CONSUMER_WORLD: &str = "package my:app;\n\n\
    world app {\n    import wasm-dbms:memory/memory-provider@0.2.0;\n    export run: func() -> u64;\n}\n";

#[test]
fn a_consumer_builds_against_the_package_from_wkg_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let wit = dir.path().join("wit");
    std::fs::create_dir_all(&wit).unwrap();
    std::fs::write(wit.join("world.wit"), CONSUMER_WORLD).unwrap();
    let overrides = format!(
        "[overrides]\n\"wasm-dbms:memory\" = {{ path = {:?} }}\n",
        repository().join("wit")
    );
    std::fs::write(dir.path().join("wkg.toml"), overrides).unwrap();
    run(Command::new("wkg").arg("fetch").current_dir(dir.path())).expect("wkg fetch");
    let fetched = wit.join("deps/wasm-dbms-memory-0.2.0");
    assert_eq!(
        printed(&fetched),
        printed(&repository().join("wit")),
        "wkg fetched the package as it is"
    );
    a_consumer_against(&wit, dir.path());
}

#[test]
fn a_consumer_builds_against_the_binary_package_in_wit_deps() {
    let dir = tempfile::tempdir().unwrap();
    let wit = dir.path().join("wit");
    let deps = wit.join("deps/wasm-dbms-memory");
    std::fs::create_dir_all(&deps).unwrap();
    std::fs::write(wit.join("world.wit"), CONSUMER_WORLD).unwrap();
    let text = printed(&repository().join("artifacts/wasm-dbms-memory.wasm"));
    std::fs::write(deps.join("package.wit"), text).unwrap();
    a_consumer_against(&wit, dir.path());
    // And the check can fail: without the package the world does not resolve.
    std::fs::remove_dir_all(wit.join("deps")).unwrap();
    let error = run(Command::new("wasm-tools")
        .args(["component", "embed", "--dummy", "--world", "app", "-o"])
        .arg(dir.path().join("none.wasm"))
        .arg(&wit))
    .unwrap_err();
    assert!(error.contains("wasm-dbms:memory"), "{error}");
}
