//! Random and derived identifiers: token ids, opaque tokens, stable subject ids.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The system RNG does not fail on Linux; a zeroed buffer would still be well-formed.
    let _ = SystemRandom::new().fill(&mut buf);
    buf
}

/// A random RFC 4122 version 4 UUID.
pub fn random_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

/// A UUID derived from `seed`: the same seed always gives the same id (e.g. a service
/// account's `sub`), so tokens from different runs agree.
pub fn stable_uuid(seed: &str) -> String {
    let d = digest(&SHA256, seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

fn format_uuid(b: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        push_hex(&mut out, *x);
    }
    out
}

/// Appends `x` as two lowercase hex digits (no `format!`: ids are made on every token).
fn push_hex(out: &mut String, x: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(HEX[usize::from(x >> 4)] as char);
    out.push(HEX[usize::from(x & 0x0f)] as char);
}

/// `len` random characters from `[A-Za-z0-9]` (oauthlib's token alphabet).
pub fn random_alnum(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<64>() {
            // 62 * 4 = 248: rejecting the top 8 values keeps the choice uniform.
            if byte < 248 && out.len() < len {
                out.push(ALNUM[(byte % 62) as usize] as char);
            }
        }
    }
    out
}

/// `len` random characters from `alphabet` (ASCII).
pub fn random_from(alphabet: &[u8], len: usize) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<32>() {
            if (byte as usize) < limit && out.len() < len {
                out.push(alphabet[byte as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// 32 lowercase hex characters (IdentityServer3's handle format).
pub fn random_hex32() -> String {
    let mut out = String::with_capacity(32);
    for x in random_bytes::<16>() {
        push_hex(&mut out, x);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let u = random_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(
            format_uuid(&[
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 1, 2, 3, 4, 5, 6, 0xff
            ]),
            "01234567-89ab-cdef-0001-0203040506ff"
        );
        assert!(
            random_hex32()
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, random_uuid());
        assert_eq!(stable_uuid("a"), stable_uuid("a"));
        assert_ne!(stable_uuid("a"), stable_uuid("b"));
        let t = random_alnum(30);
        assert_eq!(t.len(), 30);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
