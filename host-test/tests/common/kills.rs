//! Killing a writer at random instants. The writer never runs out of work: it loops until it
//! is killed, so every kill lands while it writes, whatever the machine's speed. The test
//! waits until the writer has said a random number of lines (none included: a kill during
//! start-up and recovery), then a random few milliseconds more, kills it with SIGKILL,
//! checks that it died of that signal, and learns from what it said exactly what must be in
//! the database and what one operation may be.
//!
//! The crash workloads announce each operation before it starts (`begin FIRST COUNT`) and
//! after it is committed (`done LAST`); the quickstart host reports each item it added.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::Rng;

/// The most lines the test waits for before it kills.
const MOST_LINES: u64 = 12;

/// The most milliseconds the test waits after those lines.
const MOST_MS: u64 = 20;

/// What the killed child had announced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Announced {
    /// Items committed, counted from the first: the last `done` plus one.
    pub committed: Option<u64>,
    /// The operation begun and not done: its first item and its count.
    pub pending: Option<(u64, u64)>,
}

impl Announced {
    /// The item counts the database may hold after the kill: exactly what was committed
    /// (`base` when nothing was announced done), or that plus the pending operation.
    pub fn allowed(&self, base: u64) -> Vec<u64> {
        let committed = self.committed.unwrap_or(base);
        match self.pending {
            Some((first, count)) => {
                assert_eq!(
                    first, committed,
                    "an operation began past the last done one"
                );
                vec![committed, committed + count]
            }
            None => vec![committed],
        }
    }

    /// Takes one line of a crash workload into account.
    fn read(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["begin", first, count] => {
                self.pending = Some((first.parse().unwrap(), count.parse().unwrap()));
            }
            ["done", last] => {
                self.committed = Some(last.parse::<u64>().unwrap() + 1);
                self.pending = None;
            }
            _ => {}
        }
    }
}

/// SIGKILL's number on Linux.
const SIGKILL: i32 = 9;

/// Starts `command` with its output piped (and its input, when `input` is given: its lines
/// are written to it until it stops reading), and passes each line it prints to `each` on a
/// thread of its own; returns the child and a receiver that gets a unit per line.
fn spawn(
    mut command: Command,
    input: Option<Box<dyn Iterator<Item = String> + Send>>,
    mut each: impl FnMut(&str) + Send + 'static,
) -> (Child, mpsc::Receiver<()>, std::thread::JoinHandle<()>) {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("start the writer");
    if let Some(lines) = input {
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            for line in lines {
                // The writer died: nothing more to feed.
                if writeln!(stdin, "{line}").is_err() {
                    return;
                }
            }
        });
    }
    let stdout = child.stdout.take().unwrap();
    let (said, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            each(&line);
            let _ = said.send(());
        }
    });
    (child, lines, reader)
}

/// Waits until the child said a random number of lines (or stopped saying anything), then
/// a random few milliseconds, kills it with SIGKILL and checks that it died of that signal,
/// not of an error of its own or by finishing.
fn kill_at_random(mut child: Child, lines: &mpsc::Receiver<()>, rng: &mut Rng) {
    for _ in 0..rng.below(MOST_LINES + 1) {
        if lines.recv().is_err() {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(rng.below(MOST_MS + 1)));
    child.kill().expect("SIGKILL the writer");
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.signal(),
        Some(SIGKILL),
        "the writer died of something else (it loops until killed): {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs a crash workload (`command`) and kills it at a random instant; returns what it
/// announced.
pub fn run_and_kill(command: Command, rng: &mut Rng) -> Announced {
    let announced = std::sync::Arc::new(std::sync::Mutex::new(Announced::default()));
    let shared = std::sync::Arc::clone(&announced);
    let (child, lines, reader) = spawn(command, None, move |line| {
        shared.lock().unwrap().read(line);
    });
    kill_at_random(child, &lines, rng);
    reader.join().unwrap();
    *announced.lock().unwrap()
}

/// Runs `command`, feeding it `input` line by line, and kills it at a random instant;
/// returns the last value it reported (each line of its output goes through `parse`).
pub fn run_and_kill_reporting(
    command: Command,
    input: impl Iterator<Item = String> + Send + 'static,
    rng: &mut Rng,
    parse: impl Fn(&str) -> Option<u64> + Send + 'static,
) -> Option<u64> {
    let last = std::sync::Arc::new(std::sync::Mutex::new(None));
    let shared = std::sync::Arc::clone(&last);
    let (child, lines, reader) = spawn(command, Some(Box::new(input)), move |line| {
        if let Some(value) = parse(line) {
            *shared.lock().unwrap() = Some(value);
        }
    });
    kill_at_random(child, &lines, rng);
    reader.join().unwrap();
    *last.lock().unwrap()
}
