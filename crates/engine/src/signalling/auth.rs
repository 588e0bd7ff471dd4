//! Digest authentication of requests from agents (RFC 8760: MD5 and
//! SHA-256, qop=auth), for REGISTER (401, WWW-Authenticate) and for calls
//! (407, Proxy-Authenticate).

use std::sync::Arc;

use sip::digest::{Outcome, Secret, NONCE_RANDOM_BYTES};
use sip::{HeaderName, Request, Response, StatusCode, Uri};

use super::Switch;
use crate::accounts::Account;

/// Which challenge a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// 401 with WWW-Authenticate (registrars).
    Www,
    /// 407 with Proxy-Authenticate (calls).
    Proxy,
}

/// The result: the account, or the response to send instead.
pub type Verdict = Result<Account, Box<Response>>;

/// A response to `req` challenging it afresh (`stale` when its nonce
/// only expired).
pub fn challenge(sw: &Switch, req: &Request, kind: Challenge, stale: bool) -> Response {
    let (status, header) = match kind {
        Challenge::Www => (StatusCode::UNAUTHORIZED, HeaderName::WwwAuthenticate),
        Challenge::Proxy => (StatusCode::PROXY_AUTHENTICATION_REQUIRED, HeaderName::ProxyAuthenticate),
    };
    let random: [u8; NONCE_RANDOM_BYTES] = rand::random();
    let challenges = match sw.auth.lock() {
        Ok(a) => a.challenges(sw.now_ms(), random, stale),
        Err(_) => Vec::new(),
    };
    let mut resp = Response::for_request(req, status, Some(&sw.tag()));
    for c in challenges {
        resp.head.headers.push(header.clone(), c.to_string());
    }
    resp
}

/// Authenticates `req` as an agent whose extension is `extension` (the
/// address of record's user for REGISTER; any of the digest user's agents
/// for calls when `None`).
pub async fn authenticate(
    sw: &Arc<Switch>,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
) -> Verdict {
    let realm = sw.config.realm.as_str();
    let creds = match kind {
        Challenge::Www => req.head.authorization(Some(realm)),
        Challenge::Proxy => req.head.proxy_authorization(Some(realm)),
    };
    let creds = match creds {
        Some(Ok(c)) => c,
        None | Some(Err(_)) => return Err(Box::new(challenge(sw, req, kind, false))),
    };
    let accounts = match sw.accounts.by_auth_username(&creds.username).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "account lookup failed");
            return Err(Box::new(Response::for_request(
                req,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&sw.tag()),
            )));
        }
    };
    let forbidden = || Box::new(Response::for_request(req, StatusCode::FORBIDDEN, Some(&sw.tag())));
    let candidates: Vec<&Account> =
        accounts.iter().filter(|a| extension.is_none_or(|e| a.extension == e)).collect();
    if candidates.is_empty() {
        return Err(forbidden());
    }
    let now = sw.now_ms();
    let uri = digest_uri(&creds.uri, &req.uri);
    for account in candidates {
        let outcome = match sw.auth.lock() {
            Ok(mut a) => a.verify(&creds, &req.method, &uri, Secret::Password(&account.password), now),
            Err(_) => return Err(forbidden()),
        };
        match outcome {
            Outcome::Ok if account.enabled => return Ok(account.clone()),
            Outcome::Ok => return Err(forbidden()),
            Outcome::Stale => return Err(Box::new(challenge(sw, req, kind, true))),
            Outcome::Replay | Outcome::Malformed(_) => return Err(Box::new(challenge(sw, req, kind, false))),
            Outcome::BadPassword => continue,
        }
    }
    Err(forbidden())
}

/// The URI the digest is checked against: the Request-URI, or the one the
/// credentials name when it is the same server without the user part
/// (SIPp and some phones hash `sip:host:port`). The hash covers it either
/// way, and nonce-counts stop replays.
fn digest_uri(named: &str, request_uri: &Uri) -> Uri {
    match (Uri::parse(named), request_uri) {
        (Ok(Uri::Sip(n)), Uri::Sip(r)) if n.host.same(&r.host) && n.port == r.port => Uri::Sip(n),
        _ => request_uri.clone(),
    }
}
