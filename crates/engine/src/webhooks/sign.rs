//! The `X-Calliope-Signature` scheme: `t=<unix seconds>,v1=<hex>` where the
//! hex is HMAC-SHA256, under the application's secret, of `"<t>.<payload>"`.
//! The payload is the request body as sent; a request without a body (GET)
//! signs its query string (what follows `?`, empty when none).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secret::Secret;

/// The header that carries the signature.
pub const HEADER: &str = "X-Calliope-Signature";

type HmacSha256 = Hmac<Sha256>;

/// Why a signature header does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<digits>,v1=<hex>`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is further from now than the tolerance.
    #[error("signature timestamp outside the tolerance")]
    Stale,
    /// No `v1` value matches.
    #[error("signature does not match")]
    Mismatch,
}

fn mac(secret: &Secret, t: i64, payload: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length, so this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(payload);
    m
}

/// The header value for `payload` signed at unix time `t`.
pub fn sign(secret: &Secret, t: i64, payload: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, payload).finalize().into_bytes()))
}

/// Checks a header value against `payload`: a `v1` entry must match (in
/// constant time) and `t` be within `tolerance_s` seconds of `now`.
pub fn verify(
    secret: &Secret,
    header: &str,
    payload: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", v)) => sigs.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > tolerance_s {
        return Err(SignatureError::Stale);
    }
    if sigs.iter().any(|s| mac(secret, t, payload).verify_slice(s).is_ok()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_text("whsec_test")
    }

    #[test]
    fn a_signature_verifies_and_names_its_time() {
        let h = sign(&secret(), 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
        assert_eq!(verify(&secret(), &h, b"{\"a\":1}", 1_700_000_100, 300), Ok(()));
    }

    #[test]
    fn a_known_vector_matches() {
        // printf '%s' '1700000000.hello' | openssl dgst -sha256 -hmac whsec_test
        let h = sign(&secret(), 1_700_000_000, b"hello");
        let expect = {
            let mut m = <HmacSha256 as Mac>::new_from_slice(b"whsec_test").unwrap();
            m.update(b"1700000000.hello");
            hex::encode(m.finalize().into_bytes())
        };
        assert_eq!(h, format!("t=1700000000,v1={expect}"));
    }

    #[test]
    fn altered_body_other_secret_old_time_and_garbage_are_refused() {
        let h = sign(&secret(), 1_700_000_000, b"body");
        assert_eq!(verify(&secret(), &h, b"bodY", 1_700_000_000, 300), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(&Secret::from_text("other"), &h, b"body", 1_700_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&secret(), &h, b"body", 1_700_000_301, 300), Err(SignatureError::Stale));
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "garbage"] {
            assert_eq!(verify(&secret(), bad, b"body", 1, 300), Err(SignatureError::Malformed), "{bad}");
        }
    }
}
