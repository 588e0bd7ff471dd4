//! Digest authentication (RFC 8760, RFC 7616, RFC 2617), server side first.
//!
//! - [`Authenticator`] issues challenges ([`Challenge`], one per algorithm)
//!   and verifies [`Credentials`] into an [`Outcome`].
//! - [`NonceStore`] makes self-validating, numbered nonces from
//!   caller-given random bytes and time, expires them, and checks
//!   nonce-counts against replay in a table of fixed size.
//! - [`ha1`] and [`response`] are the hash computations; [`Answer`] makes
//!   client credentials.

mod algorithm;
mod client;
mod header;
mod nonce;
mod params;
mod verify;

pub use algorithm::{ha1, response, Algorithm, ResponseInput};
pub use client::Answer;
pub use header::{Challenge, Credentials};
pub use nonce::{CountStatus, Issued, NonceStatus, NonceStore, NONCE_RANDOM_BYTES};
pub use verify::{Admitted, AuthConfig, Authenticator, Outcome, Secret};

use thiserror::Error;

/// Why a digest header or a set of credentials is unusable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestError {
    /// The scheme is not `Digest`.
    #[error("authentication scheme is not Digest")]
    Scheme,
    /// The parameter list does not parse.
    #[error("malformed digest parameters")]
    Syntax,
    /// A parameter appears twice.
    #[error("digest parameter {0} appears twice")]
    Duplicate(String),
    /// A required parameter is missing.
    #[error("digest parameter {0} is missing")]
    Missing(&'static str),
    /// The algorithm is unknown, or not one this server offers.
    #[error("unsupported digest algorithm")]
    Algorithm,
    /// `nc` is not 8 hex digits.
    #[error("malformed nonce count")]
    NonceCount,
    /// The realm is not this server's.
    #[error("credentials are for another realm")]
    Realm,
    /// The qop is missing or not `auth`.
    #[error("qop must be auth")]
    Qop,
    /// The `uri` parameter is not the Request-URI.
    #[error("digest uri does not match the Request-URI")]
    Uri,
    /// The opaque value is not the one this server sent.
    #[error("opaque does not match")]
    Opaque,
    /// The nonce is not one this server issued.
    #[error("unknown nonce")]
    Nonce,
}

#[cfg(test)]
mod tests;
