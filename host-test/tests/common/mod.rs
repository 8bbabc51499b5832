//! What the host tests share: a sandbox directory, a seeded random generator, the
//! trivially correct in-memory model of the memory-provider contract, and the rows of the
//! wasm-dbms component's schema.

#![allow(dead_code)]

pub mod journal;
pub mod kills;
pub mod library;
pub mod simulated;
pub mod steps;

use std::path::{Path, PathBuf};

use host_test::WasiConfig;
use host_test::provider::MemoryError;

/// Bytes in one page.
pub const PAGE: u64 = 65536;

/// A temporary directory preopened as `.` for the component.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// A new empty directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    /// The host path of the directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The host path of `name` inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The WASI configuration that preopens the directory as `.`.
    pub fn wasi(&self) -> WasiConfig {
        WasiConfig::dir(self.dir.path())
    }

    /// The bytes of `name` on disk.
    pub fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.file(name)).expect("read a file of the sandbox")
    }
}

/// SplitMix64: small, seeded and reproducible.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// `true` with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// The contract in its simplest form: a vector of bytes.
#[derive(Default)]
pub struct Model {
    pub bytes: Vec<u8>,
}

impl Model {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Page count.
    pub fn pages(&self) -> u64 {
        self.size() / PAGE
    }

    /// `grow`, with the provider's cap: sizes past `i64::MAX` are refused.
    pub fn grow(&mut self, new_pages: u64) -> Result<u64, MemoryError> {
        let previous = self.pages();
        let size = previous
            .checked_add(new_pages)
            .and_then(|pages| pages.checked_mul(PAGE))
            .filter(|size| *size <= i64::MAX as u64)
            .ok_or(MemoryError::LimitExceeded)?;
        self.bytes.resize(size as usize, 0);
        Ok(previous)
    }

    /// `read`.
    pub fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        let end = self.end(offset, len)?;
        Ok(self.bytes[offset as usize..end].to_vec())
    }

    /// `write`.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), MemoryError> {
        let end = self.end(offset, data.len() as u64)?;
        self.bytes[offset as usize..end].copy_from_slice(data);
        Ok(())
    }

    fn end(&self, offset: u64, len: u64) -> Result<usize, MemoryError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size() => Ok(end as usize),
            _ => Err(MemoryError::OutOfBounds),
        }
    }
}
