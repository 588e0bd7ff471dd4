//! Digest algorithms and the RFC 7616 / RFC 2617 hash computations.

use std::fmt;

use md5::Md5;
use sha2::{Digest as _, Sha256};

use super::DigestError;

/// A digest algorithm (RFC 8760 for SIP: MD5 and SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// MD5 (the default when a challenge names none).
    Md5,
    /// MD5-sess
    Md5Sess,
    /// SHA-256 (RFC 7616, RFC 8760)
    Sha256,
    /// SHA-256-sess
    Sha256Sess,
}

impl Algorithm {
    /// Parses an algorithm token, without regard to case.
    pub fn parse(s: &str) -> Result<Algorithm, DigestError> {
        [Algorithm::Md5, Algorithm::Md5Sess, Algorithm::Sha256, Algorithm::Sha256Sess]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or(DigestError::Algorithm)
    }

    /// The token as written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// True for the `-sess` variants.
    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// The lowercase hex hash of the parts joined by `:`.
    pub fn hash(self, parts: &[&[u8]]) -> String {
        self.hex_hash(parts).as_str().to_owned()
    }

    /// [`Algorithm::hash`], on the stack.
    pub(crate) fn hex_hash(self, parts: &[&[u8]]) -> HexHash {
        fn run<D: sha2::Digest>(mut d: D, parts: &[&[u8]]) -> HexHash {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    d.update(b":");
                }
                d.update(p);
            }
            HexHash::of(&d.finalize())
        }
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => run(Md5::new(), parts),
            Algorithm::Sha256 | Algorithm::Sha256Sess => run(Sha256::new(), parts),
        }
    }
}

/// A hash of at most 32 bytes written in lowercase hex, without a heap
/// allocation.
#[derive(Clone, Copy)]
pub(crate) struct HexHash {
    buf: [u8; 64],
    len: usize,
}

impl HexHash {
    fn of(hash: &[u8]) -> HexHash {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = HexHash { buf: [0; 64], len: 0 };
        for (&b, pair) in hash.iter().zip(out.buf.chunks_exact_mut(2)) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
            out.len += 2;
        }
        out
    }

    /// The hex digits.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The hex digits, as text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `H(username:realm:password)`: the HA1 a credential store may keep
/// instead of the password (one per hash function). For the `-sess`
/// variants this is still the plain HA1; [`response`] adds nonce and cnonce.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash(&[username.as_bytes(), realm.as_bytes(), password.as_bytes()])
}

/// The inputs of a digest response besides HA1.
#[derive(Debug, Clone, Copy)]
pub struct ResponseInput<'a> {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The server nonce.
    pub nonce: &'a str,
    /// The client nonce (with qop or a `-sess` algorithm).
    pub cnonce: Option<&'a str>,
    /// The nonce count, written as 8 hex digits (with qop).
    pub nc: Option<u32>,
    /// The quality of protection: `Some("auth")` or `None` (RFC 2069 style).
    pub qop: Option<&'a str>,
    /// The request method.
    pub method: &'a str,
    /// The `uri` parameter (the Request-URI as the client wrote it).
    pub uri: &'a str,
}

/// The `response` parameter for the plain HA1 `ha1` (RFC 7616 3.4.1, RFC
/// 2617 3.2.2.1): `H(HA1':nonce:nc:cnonce:qop:H(method:uri))`, or
/// `H(HA1':nonce:H(method:uri))` without qop, where `HA1'` is
/// `H(HA1:nonce:cnonce)` for `-sess` algorithms and `HA1` otherwise.
pub fn response(ha1: &str, input: &ResponseInput<'_>) -> String {
    hex_response(ha1.as_bytes(), input).as_str().to_owned()
}

/// [`response`], on the stack.
pub(crate) fn hex_response(ha1: &[u8], input: &ResponseInput<'_>) -> HexHash {
    let alg = input.algorithm;
    let cnonce = input.cnonce.unwrap_or("");
    let session_ha1;
    let ha1 = if alg.is_session() {
        session_ha1 = alg.hex_hash(&[ha1, input.nonce.as_bytes(), cnonce.as_bytes()]);
        session_ha1.as_bytes()
    } else {
        ha1
    };
    let ha2 = alg.hex_hash(&[input.method.as_bytes(), input.uri.as_bytes()]);
    match input.qop {
        Some(qop) => {
            let nc = HexHash::of(&input.nc.unwrap_or(0).to_be_bytes());
            alg.hex_hash(&[
                ha1,
                input.nonce.as_bytes(),
                nc.as_bytes(),
                cnonce.as_bytes(),
                qop.as_bytes(),
                ha2.as_bytes(),
            ])
        }
        None => alg.hex_hash(&[ha1, input.nonce.as_bytes(), ha2.as_bytes()]),
    }
}
