//! Bytes as 64-bit words and back, for the provider's word transfers. WebAssembly is
//! little-endian, so a word's memory is its little-endian bytes and the conversion is a copy.

use wasm_dbms_api::memory::{MemoryError, MemoryResult};

/// `bytes` (a multiple of 8 long) as little-endian words.
pub fn from_bytes(bytes: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; bytes.len() / 8];
    bytemuck::cast_slice_mut::<u64, u8>(&mut words).copy_from_slice(bytes);
    words
}

/// The bytes of `words`, which must be `len` long, without copying.
pub fn as_bytes(words: &[u64], len: usize) -> MemoryResult<&[u8]> {
    if words.len() * 8 != len {
        return Err(MemoryError::ProviderError(format!(
            "provider returned {} words for a read of {len} bytes",
            words.len()
        )));
    }
    Ok(bytemuck::cast_slice(words))
}

/// Whether every byte of `bytes` is zero.
pub fn all_zero(bytes: &[u8]) -> bool {
    let (words, rest) = bytes.as_chunks::<8>();
    words.iter().all(|word| *word == [0; 8]) && rest.iter().all(|byte| *byte == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_the_bytes_in_order() {
        let bytes: Vec<u8> = (0..16).collect();
        let words = from_bytes(&bytes);
        assert_eq!(words, [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);
        assert_eq!(as_bytes(&words, 16).unwrap(), bytes.as_slice());
        assert!(as_bytes(&words, 8).is_err());
    }

    #[test]
    fn zero_detection_sees_every_byte() {
        assert!(all_zero(&[0; 13]));
        assert!(!all_zero(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
        assert!(!all_zero(&[0, 1, 0, 0, 0, 0, 0, 0, 0]));
    }
}
