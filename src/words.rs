//! Bytes as 64-bit words and back, for `read-words` and `write-words`. WebAssembly is
//! little-endian, so a word's memory is its little-endian bytes and the conversion is a copy.

/// `bytes` (a multiple of 8 long) as little-endian words.
pub fn from_bytes(bytes: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; bytes.len() / 8];
    bytemuck::cast_slice_mut::<u64, u8>(&mut words).copy_from_slice(bytes);
    words
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
        let words = from_bytes(&bytes);
        assert_eq!(words[0], 0x0706_0504_0302_0100);
        assert_eq!(as_bytes(&words), bytes.as_slice());
    }
}
