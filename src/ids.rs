//! Random and derived identifiers: token ids, opaque tokens, codes, stable subject ids. Every
//! generated value comes from an engine's [`IdSource`]: the system RNG, or in deterministic mode
//! (`--seed`) a stream derived from the seed, so two runs of the same requests give the same
//! codes, tokens and ids.

use std::sync::Mutex;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Where an engine's generated values come from.
#[derive(Debug)]
pub enum IdSource {
    /// The operating system's RNG.
    System,
    /// SHA-256 of (seed, label, counter), block after block: predictable by design (test
    /// snapshots), never for anything but tests.
    Seeded {
        seed: u64,
        label: String,
        counter: Mutex<u64>,
    },
}

impl IdSource {
    /// A seeded source; `label` tells apart the streams of one seed (the server's, each
    /// namespace's).
    pub fn seeded(seed: u64, label: &str) -> Self {
        Self::Seeded {
            seed,
            label: label.to_string(),
            counter: Mutex::new(0),
        }
    }

    /// Starts the stream again (a reset: the same requests then give the same values again).
    pub fn restart(&self) {
        if let Self::Seeded { counter, .. } = self {
            *counter.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        }
    }

    /// The seed, in deterministic mode.
    pub fn seed(&self) -> Option<u64> {
        match self {
            Self::System => None,
            Self::Seeded { seed, .. } => Some(*seed),
        }
    }

    /// The source for a namespace called `label` of a server using this one.
    pub fn for_namespace(&self, label: &str) -> Self {
        match self {
            Self::System => Self::System,
            Self::Seeded { seed, .. } => Self::seeded(*seed, label),
        }
    }

    /// `N` bytes, up to 32.
    fn bytes<const N: usize>(&self) -> [u8; N] {
        match self {
            Self::System => random_bytes::<N>(),
            Self::Seeded {
                seed,
                label,
                counter,
            } => {
                let n = {
                    let mut c = counter.lock().unwrap_or_else(|e| e.into_inner());
                    *c += 1;
                    *c
                };
                let mut input = Vec::with_capacity(label.len() + 16);
                input.extend_from_slice(&seed.to_be_bytes());
                input.extend_from_slice(label.as_bytes());
                input.extend_from_slice(&n.to_be_bytes());
                let d = digest(&SHA256, &input);
                let mut out = [0u8; N];
                for (o, b) in out.iter_mut().zip(d.as_ref().iter()) {
                    *o = *b;
                }
                out
            }
        }
    }

    /// An RFC 4122 version 4 UUID.
    pub fn uuid(&self) -> String {
        let mut b = self.bytes::<16>();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        format_uuid(&b)
    }

    /// `len` characters from `[A-Za-z0-9]` (oauthlib's token alphabet).
    pub fn alnum(&self, len: usize) -> String {
        self.from(ALNUM, len)
    }

    /// `len` characters from `alphabet` (ASCII), uniformly.
    pub fn from(&self, alphabet: &[u8], len: usize) -> String {
        let limit = 256 - 256 % alphabet.len();
        let mut out = String::with_capacity(len);
        while out.len() < len {
            for byte in self.bytes::<32>() {
                if (byte as usize) < limit && out.len() < len {
                    out.push(alphabet[byte as usize % alphabet.len()] as char);
                }
            }
        }
        out
    }

    /// 32 lowercase hex characters (IdentityServer3's handle format).
    pub fn hex32(&self) -> String {
        let mut out = String::with_capacity(32);
        for x in self.bytes::<16>() {
            push_hex(&mut out, x);
        }
        out
    }

    /// 64 bytes for an HMAC key.
    pub fn key_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.bytes::<32>());
        out[32..].copy_from_slice(&self.bytes::<32>());
        out
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The system RNG does not fail on Linux; a zeroed buffer would still be well-formed.
    let _ = SystemRandom::new().fill(&mut buf);
    buf
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let ids = IdSource::System;
        let u = ids.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(
            format_uuid(&[
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 1, 2, 3, 4, 5, 6, 0xff
            ]),
            "01234567-89ab-cdef-0001-0203040506ff"
        );
        assert!(
            ids.hex32()
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, ids.uuid());
        assert_eq!(stable_uuid("a"), stable_uuid("a"));
        assert_ne!(stable_uuid("a"), stable_uuid("b"));
        let t = ids.alnum(30);
        assert_eq!(t.len(), 30);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn a_seed_gives_the_same_stream_and_labels_tell_streams_apart() {
        let a = IdSource::seeded(7, "");
        let b = IdSource::seeded(7, "");
        let other = IdSource::seeded(7, "ns");
        let take = |s: &IdSource| (s.uuid(), s.alnum(30), s.hex32(), s.from(b"0123456789", 9));
        let first = take(&a);
        assert_eq!(first, take(&b));
        assert_ne!(first, take(&a), "the stream moves on");
        assert_ne!(take(&IdSource::seeded(7, "")).0, take(&other).0);
        assert_eq!(first.0.len(), 36);
        assert_eq!(&first.0[14..15], "4");
    }
}
