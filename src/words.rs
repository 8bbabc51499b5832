//! Bytes as 64-bit words and back, for `read-words` and `write-words`. WebAssembly is
//! little-endian, so a word's memory is its little-endian bytes and the conversion is a copy.

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::error::io_detail;

/// `bytes` (a multiple of 8 long) as little-endian words, in memory reserved fallibly.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<u64>, MemoryError> {
    let mut words = Vec::new();
    words
        .try_reserve_exact(bytes.len() / 8)
        .map_err(|_| io_detail("read-words", "cannot allocate the words"))?;
    let (chunks, _) = bytes.as_chunks::<8>();
    words.extend(chunks.iter().map(|chunk| u64::from_le_bytes(*chunk)));
    Ok(words)
}

/// The bytes of `words`, little-endian, in order, without copying.
pub fn as_bytes(words: &[u64]) -> &[u8] {
    bytemuck::cast_slice(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_the_bytes_in_order() {
        let bytes: Vec<u8> = (0..32).collect();
        let words = from_bytes(&bytes).unwrap();
        assert_eq!(words[0], 0x0706_0504_0302_0100);
        assert_eq!(as_bytes(&words), bytes.as_slice());
    }
}
