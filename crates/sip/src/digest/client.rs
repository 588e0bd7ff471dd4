//! The client side: answering a challenge (for outgoing registrations to
//! trunks, and for tests of the server side).

use super::algorithm::{ha1, response, ResponseInput};
use super::{Challenge, Credentials};
use crate::method::Method;

/// What a client adds to answer a challenge.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The user name.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// The request method.
    pub method: &'a Method,
    /// The Request-URI, as text.
    pub uri: &'a str,
    /// A client nonce (caller-chosen randomness).
    pub cnonce: &'a str,
    /// The nonce count: 1 for the first request with this nonce.
    pub nc: u32,
}

impl Credentials<'static> {
    /// Credentials answering `challenge` (qop=auth when offered).
    pub fn answer(challenge: &Challenge, a: &Answer<'_>) -> Credentials<'static> {
        let qop = challenge.offers_auth().then(|| "auth".to_owned());
        let uses_cnonce = qop.is_some() || challenge.algorithm.is_session();
        let cnonce = uses_cnonce.then(|| a.cnonce.to_owned());
        let nc = qop.is_some().then_some(a.nc);
        let h1 = ha1(challenge.algorithm, a.username, &challenge.realm, a.password);
        let resp = response(
            &h1,
            &ResponseInput {
                algorithm: challenge.algorithm,
                nonce: &challenge.nonce,
                cnonce: cnonce.as_deref(),
                nc,
                qop: qop.as_deref(),
                method: a.method.as_str(),
                uri: a.uri,
            },
        );
        Credentials {
            username: a.username.to_owned().into(),
            realm: challenge.realm.clone().into(),
            nonce: challenge.nonce.clone().into(),
            uri: a.uri.to_owned().into(),
            response: resp.into(),
            algorithm: challenge.algorithm,
            cnonce: cnonce.map(Into::into),
            opaque: challenge.opaque.clone().map(Into::into),
            qop: qop.map(Into::into),
            nc,
        }
    }
}
