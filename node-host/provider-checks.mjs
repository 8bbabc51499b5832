// Runs contract checks on the provider component under jco in Node, where a file's
// `metadata-hash` changes whenever it is written and `is-same-object` holds for one
// descriptor only, and prints one line per check: `NAME: ok`, or `NAME: FAILED ...`.
//
//   node provider-checks.mjs PROVIDER.wasm DATA_DIR

import { execFileSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { cli, clocks, filesystem, io, random } from "@bytecodealliance/preview2-shim";

const [component, dataDir] = process.argv.slice(2);
if (!component || !dataDir) {
  console.error("usage: node provider-checks.mjs PROVIDER.wasm DATA_DIR");
  process.exit(2);
}

const out = mkdtempSync(join(tmpdir(), "jco-provider-"));
const jco = join(import.meta.dirname, "node_modules", ".bin", "jco");
execFileSync(jco, ["transpile", resolve(component), "-o", out, "--instantiation", "async", "--name", "provider", "--quiet"]);
const { instantiate } = await import(pathToFileURL(join(out, "provider.js")).href);

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
  "wasi:random/random": random.random,
};
const getCoreModule = async (name) => WebAssembly.compile(await readFile(join(out, name)));

/** A fresh instance's `memory` resource class. */
async function fresh() {
  const instance = await instantiate(getCoreModule, imports);
  const api = instance.memoryProvider ?? instance["wasm-dbms:memory/memory-provider@0.2.0"];
  return api.Memory;
}

/** The error tag (and text) of a call that must fail. */
function refusal(f) {
  try {
    f();
  } catch (error) {
    if (error?.payload?.tag) return error.payload;
    throw error;
  }
  return null;
}

const bytes = (text) => new TextEncoder().encode(text);
const text = (array) => new TextDecoder().decode(array);
const lines = [];
function check(name, condition, detail) {
  lines.push(condition ? `${name}: ok` : `${name}: FAILED ${JSON.stringify(detail)}`);
}

// One memory per file, although the file's hash changes with every write.
let Memory = await fresh();
const memory = Memory.open("db.bin");
memory.beginGroup();
memory.grow(1n);
memory.write(0n, bytes("first"));
memory.commitGroup(true);
// Other names of the file: the same path, a path through another directory, a hard link.
mkdirSync(join(dataDir, "sub"));
linkSync(join(dataDir, "db.bin"), join(dataDir, "link.bin"));
for (const alias of ["db.bin", "./db.bin", "sub/../db.bin", "link.bin"]) {
  const second = refusal(() => Memory.open(alias));
  check(`a second open of ${alias} is locked`, second?.tag === "locked" && second.val.includes("`db.bin`"), second);
}
// A hard link to the open memory's journal.
linkSync(join(dataDir, "db.bin-journal"), join(dataDir, "journal-link.bin"));
const journalAlias = refusal(() => Memory.open("journal-link.bin"));
check("a hard link to the journal is locked", journalAlias?.tag === "locked" && journalAlias.val.includes("the journal of the memory `db.bin`"), journalAlias);
const journal = readFileSync(join(dataDir, "db.bin-journal"));
memory.beginGroup();
memory.write(0n, bytes("second"));
memory.commitGroup(true);
check("the first memory keeps its journal", readFileSync(join(dataDir, "db.bin-journal")).length === journal.length, null);
memory[Symbol.dispose]();
check("closing removes the journal", !existsSync(join(dataDir, "db.bin-journal")), null);

// A new instance opens the file whole.
Memory = await fresh();
const reopened = Memory.open("db.bin");
check("the reopened memory holds the last commit", text(reopened.read(0n, 6n)) === "second", null);
const again = refusal(() => Memory.open("db.bin"));
check("a second open in the new instance is locked", again?.tag === "locked", again);
reopened[Symbol.dispose]();

// The journal's name is reserved in any case.
Memory = await fresh();
const reserved = refusal(() => Memory.open("db.bin-JOURNAL"));
check("a name ending in -JOURNAL is refused", reserved?.tag === "invalid-path", reserved);

console.log(lines.join("\n"));
