//! Bytes as 64-bit words and back, for the provider's word transfers. WebAssembly is
//! little-endian, so a word's memory is its little-endian bytes and the conversion is a copy.

use wasm_dbms_api::memory::{MemoryError, MemoryResult};

/// `bytes` (a multiple of 8 long) as little-endian words.
pub fn from_bytes(bytes: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; bytes.len() / 8];
    bytemuck::cast_slice_mut::<u64, u8>(&mut words).copy_from_slice(bytes);
    words
}

/// Copies the bytes of `words` into `out`, which must be exactly as long.
pub fn copy_into(words: &[u64], out: &mut [u8]) -> MemoryResult<()> {
    if words.len() * 8 != out.len() {
        return Err(MemoryError::ProviderError(format!(
            "provider returned {} words for a read of {} bytes",
            words.len(),
            out.len()
        )));
    }
    out.copy_from_slice(bytemuck::cast_slice(words));
    Ok(())
}

/// Whether every byte of `bytes` is zero.
pub fn all_zero(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    chunks.all(|chunk| chunk == [0; 8]) && chunks.remainder().iter().all(|byte| *byte == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_the_bytes_in_order() {
        let bytes: Vec<u8> = (0..16).collect();
        let words = from_bytes(&bytes);
        assert_eq!(words, [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);
        let mut back = [0; 16];
        copy_into(&words, &mut back).unwrap();
        assert_eq!(back.as_slice(), bytes.as_slice());
        assert!(copy_into(&words, &mut [0; 8]).is_err());
    }

    #[test]
    fn zero_detection_sees_every_byte() {
        assert!(all_zero(&[0; 13]));
        assert!(!all_zero(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
        assert!(!all_zero(&[0, 1, 0, 0, 0, 0, 0, 0, 0]));
    }
}
