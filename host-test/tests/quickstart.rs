//! The README's quickstart, as a newcomer follows it, outside this workspace: the example
//! component's files are copied into a temporary directory, depend on the adapter by path
//! as the README says, are built there with plain `cargo build --target wasm32-wasip2`,
//! composed with the provider by `wac plug`, and run by the quickstart host
//! (`examples/todo-host`): items added survive a restart of the host, and a host killed at
//! random instants leaves exactly the items it reported added, or those and the one it was
//! adding.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Rng, kills};

/// The repository's top.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Copies the quickstart component's files into `to`, its adapter dependency pointing at
/// this checkout's `adapter/` (the README's path form).
fn copy_quickstart(to: &Path) {
    let from = repository().join("examples/todo");
    for file in [
        "Cargo.toml",
        "rust-toolchain.toml",
        "src/lib.rs",
        "wit/world.wit",
    ] {
        let target = to.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(file), &target).unwrap();
    }
    let manifest = std::fs::read_to_string(to.join("Cargo.toml")).unwrap();
    let adapter = repository().join("adapter");
    let line = format!(
        "wasm-dbms-component-memory = {{ path = \"{}\" }}",
        adapter.display()
    );
    let rewritten: String = manifest
        .lines()
        .map(|l| {
            if l.starts_with("wasm-dbms-component-memory") {
                line.clone()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(rewritten.contains(&line), "the manifest names the adapter");
    std::fs::write(to.join("Cargo.toml"), rewritten + "\n").unwrap();
}

/// A command free of the variables `cargo test` sets for this workspace.
fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO_") || name == "RUSTUP_TOOLCHAIN" || name == "RUSTFLAGS" {
            command.env_remove(name);
        }
    }
    command
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("run a quickstart step");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The quickstart host, built in this workspace (`cargo build --release -p todo-host`).
fn todo_host() -> PathBuf {
    let binary = repository().join("target/release/todo-host");
    if !binary.exists() {
        run(Command::new(env!("CARGO")).current_dir(repository()).args([
            "build",
            "--release",
            "-p",
            "todo-host",
        ]));
    }
    binary
}

#[test]
fn a_newcomer_builds_composes_runs_and_reopens_the_quickstart_and_kills_lose_nothing() {
    let outside = tempfile::tempdir().unwrap();
    let project = outside.path().join("my-todo");
    copy_quickstart(&project);

    // Build the component the way the README says. Its build directory is kept under this
    // checkout's `target/`, so that a second run does not compile wasm-dbms again.
    let started = std::time::Instant::now();
    let build_dir = repository().join("target/quickstart");
    run(clean("cargo")
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", &build_dir)
        .args(["build", "--release", "--target", "wasm32-wasip2"]));
    let component = build_dir.join("wasm32-wasip2/release/todo.wasm");
    assert!(
        component.exists(),
        "the build leaves {}",
        component.display()
    );
    let built = started.elapsed();

    // Compose it with the provider.
    let app = outside.path().join("todo-app.wasm");
    let provider = repository().join("artifacts/provider.wasm");
    run(Command::new("wac")
        .arg("plug")
        .arg(&component)
        .arg("--plug")
        .arg(&provider)
        .arg("-o")
        .arg(&app));

    // Run it, then run it again: a new process, store and instance reopen the file.
    let data = outside.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let host = todo_host();
    let added =
        run(Command::new(&host)
            .arg(&app)
            .arg(&data)
            .args(["add", "buy milk", "write tests"]));
    assert_eq!(added, "added 1: buy milk\nadded 2: write tests\n");
    let listed = run(Command::new(&host).arg(&app).arg(&data).arg("list"));
    assert_eq!(listed, "1: buy milk\n2: write tests\n");

    // Kill the host while it adds items read from its input, which never ends: afterwards
    // exactly the items it reported added are there, or those and the one it was adding.
    let mut rng = Rng::new(0x0DD);
    let mut present = 2u64;
    let kills = 12;
    for kill in 0..kills {
        let texts = (present + 1..).map(|id| format!("task {id}"));
        let mut command = Command::new(&host);
        command.arg(&app).arg(&data).arg("add");
        let reported = kills::run_and_kill_reporting(command, texts, &mut rng, |line| {
            line.strip_prefix("added ")
                .and_then(|rest| rest.split(':').next())
                .and_then(|id| id.parse::<u64>().ok())
        });
        let committed = reported.unwrap_or(present);
        let listed = run(Command::new(&host).arg(&app).arg(&data).arg("list"));
        let lines: Vec<&str> = listed.lines().collect();
        let count = lines.len() as u64;
        assert!(
            count == committed || count == committed + 1,
            "kill {kill}: {count} items, {committed} reported added"
        );
        for (line, id) in lines.iter().zip(1u64..) {
            let expected = match id {
                1 => "1: buy milk".to_owned(),
                2 => "2: write tests".to_owned(),
                _ => format!("{id}: task {id}"),
            };
            assert_eq!(*line, expected, "kill {kill}");
        }
        present = count;
    }
    assert!(present > 2, "the host added items before being killed");
    eprintln!(
        "quickstart: built outside the workspace in {:.0} s; {kills} kills, {present} items, \
         corruptions found: 0",
        built.as_secs_f64()
    );
}
