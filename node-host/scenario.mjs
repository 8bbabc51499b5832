// Runs a scenario of database operations on the composed wasm-dbms component under jco in
// Node, and prints its transcript. The wasmtime host runs the same scenario (tests/node_host.rs
// in host-test) and compares transcripts and the database file byte for byte.
//
//   node scenario.mjs COMPOSED.wasm SCENARIO.json DATA_DIR [SEED]
//
// SEED pins wasi:random/insecure-seed to (SEED, 0), as wasmtime's
// `WasiCtxBuilder::insecure_random_seed(SEED)` does, so that wasm-dbms lays out its schema
// page in the same HashMap order in both hosts.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { cli, clocks, filesystem, io, random } from "@bytecodealliance/preview2-shim";

const [component, scenarioPath, dataDir, seedText = "7"] = process.argv.slice(2);
if (!component || !scenarioPath || !dataDir) {
  console.error("usage: node scenario.mjs COMPOSED.wasm SCENARIO.json DATA_DIR [SEED]");
  process.exit(2);
}
const seed = BigInt(seedText);

// Transpile in instantiation mode, so that this script supplies every import itself.
const out = mkdtempSync(join(tmpdir(), "jco-"));
const jco = join(import.meta.dirname, "node_modules", ".bin", "jco");
execFileSync(jco, ["transpile", resolve(component), "-o", out, "--instantiation", "async", "--name", "composed", "--quiet"]);
const { instantiate } = await import(pathToFileURL(join(out, "composed.js")).href);

filesystem._setPreopens({ ".": resolve(dataDir) });
const imports = {
  "wasi:cli/environment": cli.environment,
  "wasi:cli/exit": cli.exit,
  "wasi:cli/stderr": cli.stderr,
  "wasi:cli/stdin": cli.stdin,
  "wasi:cli/stdout": cli.stdout,
  "wasi:cli/terminal-input": cli.terminalInput,
  "wasi:cli/terminal-output": cli.terminalOutput,
  "wasi:cli/terminal-stderr": cli.terminalStderr,
  "wasi:cli/terminal-stdin": cli.terminalStdin,
  "wasi:cli/terminal-stdout": cli.terminalStdout,
  "wasi:clocks/monotonic-clock": clocks.monotonicClock,
  "wasi:clocks/wall-clock": clocks.wallClock,
  "wasi:filesystem/preopens": filesystem.preopens,
  "wasi:filesystem/types": filesystem.types,
  "wasi:io/error": io.error,
  "wasi:io/poll": io.poll,
  "wasi:io/streams": io.streams,
  "wasi:random/insecure-seed": { insecureSeed: () => [seed, 0n] },
  "wasi:random/random": random.random,
};
const getCoreModule = async (name) => WebAssembly.compile(await readFile(join(out, name)));

/** A fresh instance of the component. */
async function fresh() {
  const instance = await instantiate(getCoreModule, imports);
  return instance.database ?? instance["wasm-dbms:demo/database@0.1.0"];
}

/** A scenario value ({"uint": 1}) as the WIT variant jco expects. */
function value(json) {
  const [tag, val] = Object.entries(json)[0];
  if (tag === "null") return { tag };
  return { tag, val: tag === "int" || tag === "uint" ? BigInt(val) : val };
}

const row = (json) => Object.entries(json).map(([column, v]) => ({ column, value: value(v) }));
const filter = (conditions) => conditions.map(([column, op, v]) => ({ column, op, value: value(v) }));

/** A WIT value as transcript text, the same text the wasmtime side writes. */
function show(v) {
  return v.tag === "null" ? "null" : `${v.tag}:${v.val}`;
}

/** Calls `f`, and turns a WIT error into its tag. */
function attempt(f) {
  try {
    return { ok: f() };
  } catch (error) {
    if (error?.payload?.tag) return { error: error.payload.tag };
    throw error;
  }
}

const scenario = JSON.parse(readFileSync(scenarioPath, "utf8"));
const transcript = [];
let database = await fresh();
let db;
let path;
for (const step of scenario) {
  const { op, table } = step;
  let result;
  switch (op) {
    case "open":
      path = step.path;
      result = attempt(() => (db = database.Db.open(path)));
      result = result.error ? result : { ok: "ok" };
      break;
    case "restart":
      db[Symbol.dispose]();
      database = await fresh();
      db = database.Db.open(path);
      result = { ok: "ok" };
      break;
    case "insert":
      result = attempt(() => db.insert(table, row(step.row)) ?? "ok");
      break;
    case "select": {
      const query = {
        filter: filter(step.filter),
        orderBy: step.order.map(([column, descending]) => ({ column, descending })),
        limit: step.limit === null ? undefined : BigInt(step.limit),
        offset: undefined,
      };
      result = attempt(() => db.select(table, query));
      if (result.ok) {
        const rows = result.ok.map((cells) => "  " + cells.map((c) => `${c.column}=${show(c.value)}`).join(" "));
        result = { ok: [`${rows.length} rows`, ...rows].join("\n") };
      }
      break;
    }
    case "update":
      result = attempt(() => db.update(table, row(step.patch), filter(step.filter)));
      break;
    case "delete":
      result = attempt(() => db.delete(table, filter(step.filter)));
      break;
    case "begin":
    case "commit":
    case "rollback":
      result = attempt(() => db[op]() ?? "ok");
      break;
    default:
      throw new Error(`unknown operation ${op}`);
  }
  const label = table ? `${op} ${table}` : op;
  transcript.push(result.error ? `${label}: error ${result.error}` : `${label}: ${result.ok}`);
}
db[Symbol.dispose]();
console.log(transcript.join("\n"));
