//! A second host: the composed component transpiled by jco and run in Node with
//! preview2-shim. Both hosts run `node-host/scenario.json` with the same pinned random seed;
//! their transcripts and the database files they leave must be identical.

mod common;

use std::path::Path;
use std::process::Command;

use common::Sandbox;
use host_test::dbms::{
    Cell, Comparison, Condition, DbError, DbmsSession, Order, Query, Storage, Value,
};
use host_test::{Runtime, artifacts};
use serde_json::Value as Json;

const SEED: u128 = 7;

fn node_host() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../node-host"))
}

fn value(json: &Json) -> Value {
    let (tag, val) = json.as_object().unwrap().iter().next().unwrap();
    match tag.as_str() {
        "null" => Value::Null,
        "uint" => Value::Uint(val.as_u64().unwrap()),
        "int" => Value::Int(val.as_i64().unwrap()),
        "text" => Value::Text(val.as_str().unwrap().into()),
        "boolean" => Value::Boolean(val.as_bool().unwrap()),
        other => panic!("unknown value kind {other}"),
    }
}

fn row(json: &Json) -> Vec<Cell> {
    let cells = json.as_object().unwrap().iter();
    cells
        .map(|(column, v)| Cell {
            column: column.clone(),
            value: value(v),
        })
        .collect()
}

fn filter(json: &Json) -> Vec<Condition> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|condition| {
            let op = match condition[1].as_str().unwrap() {
                "eq" => Comparison::Eq,
                "ne" => Comparison::Ne,
                "gt" => Comparison::Gt,
                "lt" => Comparison::Lt,
                "ge" => Comparison::Ge,
                "le" => Comparison::Le,
                "like" => Comparison::Like,
                other => panic!("unknown comparison {other}"),
            };
            Condition {
                column: condition[0].as_str().unwrap().into(),
                op,
                value: value(&condition[2]),
            }
        })
        .collect()
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Boolean(flag) => format!("boolean:{flag}"),
        Value::Int(number) => format!("int:{number}"),
        Value::Uint(number) => format!("uint:{number}"),
        Value::Text(text) => format!("text:{text}"),
    }
}

fn tag(error: &DbError) -> &'static str {
    match error {
        DbError::UnknownTable(_) => "unknown-table",
        DbError::BadRow(_) => "bad-row",
        DbError::Constraint(_) => "constraint",
        DbError::Validation(_) => "validation",
        DbError::Transaction(_) => "transaction",
        DbError::Storage(_) => "storage",
        DbError::Query(_) => "query",
    }
}

fn outcome<T: ToString>(result: Result<T, DbError>) -> String {
    match result {
        Ok(value) => value.to_string(),
        Err(error) => format!("error {}", tag(&error)),
    }
}

/// The scenario on wasmtime, as the transcript `scenario.mjs` prints.
fn wasmtime_transcript(sandbox: &Sandbox, scenario: &[Json]) -> String {
    let runtime = Runtime::shared();
    let wasi = sandbox.wasi().with_seed(SEED);
    let mut session = DbmsSession::new(runtime, &wasi, Storage::Composed).unwrap();
    let (mut db, mut path) = (None, String::new());
    let mut lines = Vec::new();
    for step in scenario {
        let op = step["op"].as_str().unwrap();
        let table = step["table"].as_str().unwrap_or_default();
        let result = match op {
            "open" => {
                path = step["path"].as_str().unwrap().to_owned();
                db = Some(session.open(&path).unwrap().unwrap());
                "ok".to_owned()
            }
            "restart" => {
                session.close(db.unwrap()).unwrap();
                session = DbmsSession::new(runtime, &wasi, Storage::Composed).unwrap();
                db = Some(session.open(&path).unwrap().unwrap());
                "ok".to_owned()
            }
            "insert" => outcome(
                session
                    .insert(db.unwrap(), table, &row(&step["row"]))
                    .unwrap()
                    .map(|()| "ok"),
            ),
            "select" => {
                let order = step["order"].as_array().unwrap().iter();
                let query = Query {
                    filter: filter(&step["filter"]),
                    order_by: order
                        .map(|o| Order {
                            column: o[0].as_str().unwrap().into(),
                            descending: o[1].as_bool().unwrap(),
                        })
                        .collect(),
                    limit: step["limit"].as_u64(),
                    offset: None,
                };
                outcome(
                    session
                        .select(db.unwrap(), table, &query)
                        .unwrap()
                        .map(|rows| {
                            let mut text = format!("{} rows", rows.len());
                            for cells in rows {
                                let shown: Vec<String> = cells
                                    .iter()
                                    .map(|c| format!("{}={}", c.column, show(&c.value)))
                                    .collect();
                                text.push_str(&format!("\n  {}", shown.join(" ")));
                            }
                            text
                        }),
                )
            }
            "update" => outcome(
                session
                    .update(
                        db.unwrap(),
                        table,
                        &row(&step["patch"]),
                        &filter(&step["filter"]),
                    )
                    .unwrap(),
            ),
            "delete" => outcome(
                session
                    .delete(db.unwrap(), table, &filter(&step["filter"]))
                    .unwrap(),
            ),
            "begin" => outcome(session.begin(db.unwrap()).unwrap().map(|()| "ok")),
            "commit" => outcome(session.commit(db.unwrap()).unwrap().map(|()| "ok")),
            "rollback" => outcome(session.rollback(db.unwrap()).unwrap().map(|()| "ok")),
            other => panic!("unknown operation {other}"),
        };
        let label = if table.is_empty() {
            op.to_owned()
        } else {
            format!("{op} {table}")
        };
        lines.push(format!("{label}: {result}"));
    }
    session.close(db.unwrap()).unwrap();
    lines.join("\n")
}

#[test]
fn node_and_wasmtime_run_the_same_scenario_to_the_same_bytes() {
    let scenario_path = node_host().join("scenario.json");
    let scenario: Vec<Json> =
        serde_json::from_slice(&std::fs::read(&scenario_path).unwrap()).unwrap();

    let on_wasmtime = Sandbox::new();
    let wasmtime = wasmtime_transcript(&on_wasmtime, &scenario);

    let on_node = Sandbox::new();
    let output = Command::new("node")
        .arg(node_host().join("scenario.mjs"))
        .arg(artifacts::path(artifacts::COMPOSED))
        .arg(&scenario_path)
        .arg(on_node.path())
        .arg(SEED.to_string())
        .output()
        .expect("run node (npm ci in node-host/ installs jco and preview2-shim)");
    assert!(
        output.status.success(),
        "node failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let node = String::from_utf8(output.stdout).unwrap();

    assert_eq!(node.trim_end(), wasmtime, "the transcripts differ");
    assert!(
        wasmtime.contains("insert books: error constraint"),
        "{wasmtime}"
    );
    assert!(
        wasmtime.contains("restart: ok\nselect authors: 3 rows"),
        "{wasmtime}"
    );
    let (node_file, wasmtime_file) = (on_node.bytes("library.db"), on_wasmtime.bytes("library.db"));
    assert!(wasmtime_file.len() >= 4 * 65536 && wasmtime_file.len().is_multiple_of(65536));
    let differing = node_file
        .iter()
        .zip(&wasmtime_file)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(node_file.len(), wasmtime_file.len(), "file sizes differ");
    assert_eq!(differing, 0, "the files differ in {differing} bytes");
}

/// The provider alone under jco, whose `metadata-hash` changes whenever a file is written
/// and whose `is-same-object` holds for one descriptor only: a file an open memory holds (by
/// its path, another path, a hard link, or as its journal) cannot be opened again, and the
/// journal's name is refused in any case (`node-host/provider-checks.mjs`).
#[test]
fn under_jco_a_written_file_is_locked_against_every_other_name_of_it() {
    let sandbox = Sandbox::new();
    let output = Command::new("node")
        .arg(node_host().join("provider-checks.mjs"))
        .arg(artifacts::path(artifacts::PROVIDER))
        .arg(sandbox.path())
        .output()
        .expect("run node (npm ci in node-host/ installs jco and preview2-shim)");
    assert!(
        output.status.success(),
        "node failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = [
        "a second open of db.bin is locked: ok",
        "a second open of ./db.bin is locked: ok",
        "a second open of sub/../db.bin is locked: ok",
        "a second open of link.bin is locked: ok",
        "a hard link to the journal is locked: ok",
        "the first memory keeps its journal: ok",
        "closing removes the journal: ok",
        "the reopened memory holds the last commit: ok",
        "a second open in the new instance is locked: ok",
        "a name ending in -JOURNAL is refused: ok",
    ];
    assert_eq!(
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(sandbox.bytes("db.bin")[..6], *b"second");
}
