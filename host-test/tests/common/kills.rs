//! Killing a writer at random instants: a child process announces each operation before it
//! starts (`begin FIRST COUNT`) and after it is committed (`done LAST`); the test kills it
//! with SIGKILL and learns exactly which items must be in the database and which one
//! operation may be.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::Rng;

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
}

/// Reads a child's announcements.
fn read_announcements(lines: impl Iterator<Item = String>) -> Announced {
    let mut announced = Announced::default();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["begin", first, count] => {
                announced.pending = Some((first.parse().unwrap(), count.parse().unwrap()));
            }
            ["done", last] => {
                announced.committed = Some(last.parse::<u64>().unwrap() + 1);
                announced.pending = None;
            }
            _ => {}
        }
    }
    announced
}

/// SIGKILL's number on Linux.
const SIGKILL: i32 = 9;

/// Starts `command` with its output piped.
fn spawn(mut command: Command) -> Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the writer")
}

/// Kills `child` with SIGKILL and checks that it died of that signal, not of an error of its
/// own.
fn kill(mut child: Child) {
    child.kill().expect("SIGKILL the writer");
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.signal(),
        Some(SIGKILL),
        "the writer died of something else: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Starts `command`, lets it run for a random while, kills it with SIGKILL, checks that it
/// died of that signal and not of an error of its own, and returns what it announced.
pub fn run_and_kill(command: Command, rng: &mut Rng, most_ms: u64) -> Announced {
    let mut child = spawn(command);
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        read_announcements(BufReader::new(stdout).lines().map_while(Result::ok))
    });
    std::thread::sleep(Duration::from_millis(30 + rng.below(most_ms)));
    kill(child);
    reader.join().unwrap()
}

/// Starts `command`, waits until it reports its first value (each stdout line goes through
/// `parse`), lets it run a random while longer, kills it with SIGKILL, checks that it died
/// of that signal, and returns the last value it reported.
pub fn run_and_kill_reporting(
    command: Command,
    rng: &mut Rng,
    most_ms: u64,
    parse: impl Fn(&str) -> Option<u64> + Send + 'static,
) -> Option<u64> {
    let mut child = spawn(command);
    let stdout = child.stdout.take().unwrap();
    let (sender, values) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(value) = parse(&line) {
                let _ = sender.send(value);
            }
        }
    });
    let first = values.recv_timeout(Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(rng.below(most_ms)));
    kill(child);
    reader.join().unwrap();
    assert!(
        first.is_ok(),
        "the writer reported nothing before it was killed"
    );
    values.try_iter().last().or(first.ok())
}
