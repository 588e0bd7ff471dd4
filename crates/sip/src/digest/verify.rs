//! The server side: challenges and the verification of credentials.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::algorithm::{hex_response, ResponseInput};
use super::nonce::{CountStatus, Issued, NonceStatus, NonceStore, NONCE_RANDOM_BYTES};
use super::{Algorithm, Challenge, Credentials, DigestError};
use crate::method::Method;
use crate::uri::Uri;

/// Settings of an [`Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// How long a nonce stays fresh, in milliseconds.
    pub nonce_lifetime_ms: u64,
    /// How many of the nonces issued last have their nonce-counts checked:
    /// the slots of the table (a power of two, four bytes each), allocated
    /// once. An older nonce is stale (a new challenge with `stale=true`).
    pub nonce_slots: usize,
    /// Tells this process's nonces from those of another with the same
    /// secret (or of this one before a restart), which are stale: a new
    /// value for each process (random, say).
    pub epoch: u32,
    /// The algorithms offered, preferred first (one challenge each).
    pub algorithms: Vec<Algorithm>,
}

impl Default for AuthConfig {
    /// Five-minute nonces, the last 2^20 tracked (4 MiB), epoch 0, SHA-256
    /// then MD5 (RFC 8760 8.1).
    fn default() -> AuthConfig {
        AuthConfig {
            nonce_lifetime_ms: 300_000,
            nonce_slots: 1 << 20,
            epoch: 0,
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
        }
    }
}

/// What the server knows of a user's password.
#[derive(Debug, Clone, Copy)]
pub enum Secret<'a> {
    /// The password itself.
    Password(&'a str),
    /// `H(username:realm:password)` in hex, for the hash function of the
    /// algorithm in the credentials (see [`super::ha1`]).
    Ha1(&'a str),
}

/// The verdict on credentials, so that a registrar or proxy can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Authenticated.
    Ok,
    /// The digest is right but the nonce expired (or is not ours any more):
    /// challenge again with `stale=true` (401/407).
    Stale,
    /// The digest is wrong: a wrong password, or a forged response (403, or a
    /// new challenge).
    BadPassword,
    /// The nonce-count did not increase: a replayed request (403).
    Replay,
    /// The credentials do not fit this server or request: wrong realm, an
    /// algorithm or qop not offered, another URI, another opaque (400, or a
    /// new challenge).
    Malformed(DigestError),
}

/// Credentials that passed [`Authenticator::admit`]: their nonce is this
/// server's, read once. Only `admit` (and `readmit`) makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    issued: Issued,
}

/// Whether the URI the credentials name, `named`, is `request_uri`.
fn same_uri(named: &str, request_uri: &Uri) -> bool {
    writes_as(request_uri, named) || Uri::parse(named).is_ok_and(|u| u.equivalent(request_uri))
}

/// Whether `value` written out is exactly `text`: compared piece by piece
/// as it is written, with no string made.
fn writes_as(value: &dyn std::fmt::Display, text: &str) -> bool {
    struct Prefix<'a>(&'a str);
    impl std::fmt::Write for Prefix<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 = self.0.strip_prefix(s).ok_or(std::fmt::Error)?;
            Ok(())
        }
    }
    let mut rest = Prefix(text);
    std::fmt::write(&mut rest, format_args!("{value}")).is_ok() && rest.0.is_empty()
}

/// Issues challenges for one realm and verifies the answers.
#[derive(Debug)]
pub struct Authenticator {
    realm: String,
    opaque: String,
    algorithms: Vec<Algorithm>,
    nonces: NonceStore,
}

impl Authenticator {
    /// An authenticator for `realm` whose nonces and opaque value are keyed
    /// by `secret` (keep it across restarts to keep the opaque value; the
    /// nonces of another epoch are stale either way).
    pub fn new(realm: &str, secret: &[u8], config: AuthConfig) -> Authenticator {
        let opaque = Hmac::<Sha256>::new_from_slice(secret)
            .map(|mut m| {
                m.update(b"opaque:");
                m.update(realm.as_bytes());
                hex::encode(m.finalize().into_bytes().get(..12).unwrap_or_default())
            })
            .unwrap_or_default();
        let algorithms = if config.algorithms.is_empty() { vec![Algorithm::Md5] } else { config.algorithms };
        Authenticator {
            realm: realm.to_owned(),
            opaque,
            algorithms,
            nonces: NonceStore::new(secret, config.nonce_lifetime_ms, config.nonce_slots, config.epoch),
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The nonce store (for inspection).
    pub fn nonces(&self) -> &NonceStore {
        &self.nonces
    }

    /// One challenge per configured algorithm, preferred first, sharing a
    /// nonce made from `random` at `now_ms`: the values of
    /// WWW-Authenticate (401) or Proxy-Authenticate (407) headers.
    pub fn challenges(&self, now_ms: u64, random: [u8; NONCE_RANDOM_BYTES], stale: bool) -> Vec<Challenge> {
        let nonce = self.nonces.issue(now_ms, random);
        self.algorithms
            .iter()
            .map(|&algorithm| Challenge {
                realm: self.realm.clone(),
                nonce: nonce.clone(),
                opaque: Some(self.opaque.clone()),
                stale,
                algorithm,
                qop: vec!["auth".to_owned()],
            })
            .collect()
    }

    /// What can be said of `creds` at `now_ms` without the user's secret:
    /// `None` when they may be checked against it, else the verdict to
    /// answer at once. A nonce this server did not issue (forged, or
    /// corrupted) is [`Outcome::Malformed`], an expired one
    /// [`Outcome::Stale`]; so are credentials for another realm, an
    /// algorithm or qop not offered, or another opaque. Cheap (one HMAC),
    /// so a server can screen credentials before it looks the user up; the
    /// `uri` is left to [`Authenticator::verify`].
    pub fn screen(&self, creds: &Credentials, now_ms: u64) -> Option<Outcome> {
        self.admit(creds, now_ms).err()
    }

    /// [`Authenticator::screen`], keeping what it learnt for
    /// [`Authenticator::verify_admitted`]: `Ok` when `creds` may be checked
    /// against the user's secret, else the verdict to answer at once.
    pub fn admit(&self, creds: &Credentials, now_ms: u64) -> Result<Admitted, Outcome> {
        self.fits_server(creds).map_err(Outcome::Malformed)?;
        match self.nonces.status(&creds.nonce, now_ms) {
            NonceStatus::Fresh(issued) => Ok(Admitted { issued }),
            NonceStatus::Stale => Err(Outcome::Stale),
            NonceStatus::Unknown => Err(Outcome::Malformed(DigestError::Nonce)),
        }
    }

    /// [`Authenticator::admit`] again at `now_ms`, for credentials it
    /// admitted: the same answer, from their nonce's freshness alone (its
    /// MAC and epoch were checked, and do not change).
    pub fn readmit(&self, admitted: Admitted, now_ms: u64) -> Result<Admitted, Outcome> {
        match self.nonces.freshness(admitted.issued, now_ms) {
            NonceStatus::Fresh(issued) => Ok(Admitted { issued }),
            NonceStatus::Stale => Err(Outcome::Stale),
            NonceStatus::Unknown => Err(Outcome::Malformed(DigestError::Nonce)),
        }
    }

    /// Verifies `creds` sent with a `method` request to `request_uri` at
    /// `now_ms`, against the user's `secret`. Only qop=auth is accepted.
    /// On [`Outcome::Ok`] the nonce-count is recorded.
    pub fn verify(
        &mut self,
        creds: &Credentials,
        method: &Method,
        request_uri: &Uri,
        secret: Secret<'_>,
        now_ms: u64,
    ) -> Outcome {
        if let Err(e) = self.fits(creds, request_uri) {
            return Outcome::Malformed(e);
        }
        if !self.digest_matches(creds, method, secret) {
            return Outcome::BadPassword;
        }
        let issued = match self.nonces.status(&creds.nonce, now_ms) {
            NonceStatus::Fresh(issued) => issued,
            NonceStatus::Stale | NonceStatus::Unknown => return Outcome::Stale,
        };
        self.count(creds, issued)
    }

    /// [`Authenticator::verify`] of the credentials `admitted` came from
    /// (by [`Authenticator::admit`], with the same `creds`), without
    /// decoding their nonce or checking its HMAC again: the realm,
    /// algorithm, qop and opaque were checked too, so only the URI, the
    /// digest, the nonce's age and window (it may have left either since)
    /// and its count are left.
    pub fn verify_admitted(
        &mut self,
        admitted: Admitted,
        creds: &Credentials,
        method: &Method,
        request_uri: &Uri,
        secret: Secret<'_>,
        now_ms: u64,
    ) -> Outcome {
        if !same_uri(&creds.uri, request_uri) {
            return Outcome::Malformed(DigestError::Uri);
        }
        if !self.digest_matches(creds, method, secret) {
            return Outcome::BadPassword;
        }
        match self.nonces.freshness(admitted.issued, now_ms) {
            NonceStatus::Fresh(issued) => self.count(creds, issued),
            NonceStatus::Stale | NonceStatus::Unknown => Outcome::Stale,
        }
    }

    /// Records the nonce-count of `creds`, whose nonce `issued` is fresh.
    fn count(&mut self, creds: &Credentials, issued: Issued) -> Outcome {
        match self.nonces.use_count(issued, creds.nc.unwrap_or(0)) {
            CountStatus::Accepted => Outcome::Ok,
            CountStatus::Replay => Outcome::Replay,
            CountStatus::Forgotten => Outcome::Stale,
        }
    }

    /// Whether the response of `creds` is the one `secret` gives: its
    /// hashes made and compared on the stack.
    fn digest_matches(&self, creds: &Credentials, method: &Method, secret: Secret<'_>) -> bool {
        let (computed, lowered);
        let ha1 = match secret {
            Secret::Password(p) => {
                let parts = [creds.username.as_bytes(), creds.realm.as_bytes(), p.as_bytes()];
                computed = creds.algorithm.hex_hash(&parts);
                computed.as_bytes()
            }
            Secret::Ha1(h) if h.bytes().any(|b| b.is_ascii_uppercase()) => {
                lowered = h.to_ascii_lowercase();
                lowered.as_bytes()
            }
            Secret::Ha1(h) => h.as_bytes(),
        };
        let expected = hex_response(
            ha1,
            &ResponseInput {
                algorithm: creds.algorithm,
                nonce: &creds.nonce,
                cnonce: creds.cnonce.as_deref(),
                nc: creds.nc,
                qop: creds.qop.as_deref(),
                method: method.as_str(),
                uri: &creds.uri,
            },
        );
        let expected = expected.as_bytes();
        let given = creds.response.as_bytes();
        if given.len() != expected.len() {
            return false;
        }
        let mut lowered = [0u8; 64];
        for (l, g) in lowered.iter_mut().zip(given) {
            *l = g.to_ascii_lowercase();
        }
        bool::from(expected.ct_eq(lowered.get(..given.len()).unwrap_or_default()))
    }

    fn fits(&self, creds: &Credentials, request_uri: &Uri) -> Result<(), DigestError> {
        self.fits_server(creds)?;
        if !same_uri(&creds.uri, request_uri) {
            return Err(DigestError::Uri);
        }
        Ok(())
    }

    /// The checks of [`Authenticator::fits`] that need no request.
    fn fits_server(&self, creds: &Credentials) -> Result<(), DigestError> {
        if creds.realm != self.realm {
            return Err(DigestError::Realm);
        }
        if !self.algorithms.contains(&creds.algorithm) {
            return Err(DigestError::Algorithm);
        }
        if !creds.qop.as_deref().is_some_and(|q| q.eq_ignore_ascii_case("auth")) {
            return Err(DigestError::Qop);
        }
        if creds.opaque.as_ref().is_some_and(|o| *o != self.opaque) {
            return Err(DigestError::Opaque);
        }
        Ok(())
    }
}

#[cfg(test)]
mod writes_as_tests {
    use super::{same_uri, writes_as};
    use crate::Uri;

    #[test]
    fn compares_what_would_be_written() {
        let uri = Uri::parse("sip:bob@example.com:5060;transport=udp").expect("uri");
        assert!(writes_as(&uri, "sip:bob@example.com:5060;transport=udp"));
        assert!(!writes_as(&uri, "sip:bob@example.com:5060"));
        assert!(!writes_as(&uri, "sip:bob@example.com:5060;transport=udpx"));
        assert!(!writes_as(&uri, ""));
        assert!(same_uri("sip:bob@EXAMPLE.com:5060;transport=udp", &uri));
        assert!(!same_uri("sip:alice@example.com", &uri));
    }
}
