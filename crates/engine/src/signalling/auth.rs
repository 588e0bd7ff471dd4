//! Digest authentication of requests from agents (RFC 8760: MD5 and
//! SHA-256, qop=auth), for REGISTER (401, WWW-Authenticate) and for calls
//! (407, Proxy-Authenticate), and who a call comes from ([`classify_call`]:
//! an agent, a trunk by its address, ACL or inbound credentials).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use sip::digest::{Outcome, Secret, NONCE_RANDOM_BYTES};
use sip::{HeaderName, Host, Request, Response, SipUri, StatusCode, Uri};

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
        resp.head.headers.push(header.clone(), c.header_value());
    }
    resp
}

/// Authenticates `req` as an agent whose extension is `extension` (the
/// address of record's user for REGISTER; any of the digest user's agents
/// for calls when `None`).
///
/// Credentials are screened before any account is looked up: a nonce this
/// server did not issue, or one that expired, or credentials for another
/// realm, algorithm or opaque, are challenged again at the cost of one
/// HMAC, so forged credentials cost no query.
pub async fn authenticate(
    sw: &Arc<Switch>,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
) -> Verdict {
    check(sw, req, kind, extension).await.map_err(|f| f.response)
}

/// [`authenticate`] for a request from `source`, whose failures (wrong
/// password, unknown user: the 403s) count towards banning the address
/// (see [`super::bans`]).
pub async fn authenticate_from(
    sw: &Arc<Switch>,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
    source: IpAddr,
) -> Verdict {
    counting_guesses(sw, source, check(sw, req, kind, extension).await)
}

/// The verdict of a check of a request from `source`; a wrong guess (a
/// 403) counts towards banning the address.
fn counting_guesses(sw: &Switch, source: IpAddr, checked: Result<Account, Failure>) -> Verdict {
    match checked {
        Ok(account) => Ok(account),
        Err(Failure { response, guess: true }) => {
            sw.blacklist.bans.fail(source, Instant::now());
            Err(response)
        }
        Err(Failure { response, guess: false }) => Err(response),
    }
}

/// [`authenticate_from`] for credentials [`authenticate_cached`] admitted
/// but could not check without a lookup: goes on from them, without
/// parsing the header or checking the nonce's MAC again.
pub async fn authenticate_pending(
    sw: &Arc<Switch>,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
    source: IpAddr,
    pending: Pending,
) -> Verdict {
    let Admission { creds, admitted, .. } = *pending.0;
    // Admitted again now, as a fresh check would: the nonce may have
    // expired meanwhile.
    let now = sw.now_ms();
    let readmitted = match sw.auth.lock() {
        Ok(a) => a.readmit(admitted, now),
        Err(_) => Err(Outcome::Malformed(sip::digest::DigestError::Nonce)),
    };
    let checked = match readmitted {
        Ok(admitted) => {
            look_up_and_choose(sw, req, kind, extension, Admission { creds, admitted, now }).await
        }
        Err(outcome) => Err(Failure::answer(challenge(sw, req, kind, outcome == Outcome::Stale))),
    };
    counting_guesses(sw, source, checked)
}

/// Who a call comes from.
#[derive(Debug, Clone)]
pub enum Calling {
    /// An agent, authenticated by digest.
    Agent(Account),
    /// A trunk, by its source address or ACL (`matched`), or by its
    /// inbound credentials (`matched` is `None`).
    Trunk {
        /// The trunk's workspace.
        workspace_id: i64,
        /// The trunk.
        trunk_id: i64,
        /// How its address matched, when it did.
        matched: Option<crate::router::Matched>,
    },
}

impl Calling {
    /// The caller's workspace.
    pub fn workspace_id(&self) -> i64 {
        match self {
            Calling::Agent(a) => a.workspace_id,
            Calling::Trunk { workspace_id, .. } => *workspace_id,
        }
    }
}

/// Who the INVITE `req` from `source` comes from, in this order: digest
/// credentials of an agent whose extension is the From user; a trunk whose
/// address (and port) or ACL names `source`; digest credentials matching a
/// trunk's inbound credentials. Nobody: a 407 challenge when the INVITE
/// carried no credentials, else 403 (counted towards banning the address,
/// like a wrong password). Nothing here takes a call slot.
pub async fn classify_call(
    sw: &Arc<Switch>,
    req: &Request,
    source: SocketAddr,
) -> Result<Calling, Box<Response>> {
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "cannot read the trunks to classify a call");
        Box::new(Response::for_request(req, StatusCode::SERVICE_UNAVAILABLE, Some(&sw.tag())))
    };
    let sources = sw.routing.sources(&sw.db).await.map_err(|e| unavailable(&e))?;
    let callee = req.uri.user().unwrap_or_default();
    let by_address = || {
        sources.lookup(source, callee).map(|m| Calling::Trunk {
            workspace_id: m.workspace_id,
            trunk_id: m.trunk_id,
            matched: Some(m.matched),
        })
    };
    let realm = sw.config.realm.as_str();
    // Parsed once here, for the check below too.
    let Some(credentials) = req.head.proxy_authorization(Some(realm)) else {
        return by_address().ok_or_else(|| Box::new(challenge(sw, req, Challenge::Proxy, false)));
    };
    let from_user = req.head.from.uri.user().map(str::to_owned);
    let failure = match check_parsed(sw, req, Challenge::Proxy, from_user.as_deref(), Some(credentials)).await
    {
        Ok(account) => return Ok(Calling::Agent(account)),
        Err(f) => f,
    };
    if let Some(trunk) = by_address() {
        return Ok(trunk);
    }
    if !failure.guess {
        return Err(failure.response);
    }
    // Not an agent's: perhaps a trunk's inbound credentials.
    if let Some(Ok(creds)) = req.head.proxy_authorization(Some(realm)) {
        for t in sources.by_username(&creds.username) {
            let Ok(password) = sw.sealer.open(&t.password_enc) else {
                tracing::warn!(
                    trunk = t.trunk_id,
                    "a trunk's inbound credentials do not open with the secrets key"
                );
                continue;
            };
            let uri = digest_uri(sw, &creds.uri, &req.uri, None);
            let outcome = match sw.auth.lock() {
                Ok(mut a) => a.verify(&creds, &req.method, &uri, Secret::Password(&password), sw.now_ms()),
                Err(_) => break,
            };
            match outcome {
                Outcome::Ok => {
                    return Ok(Calling::Trunk {
                        workspace_id: t.workspace_id,
                        trunk_id: t.trunk_id,
                        matched: None,
                    })
                }
                Outcome::Stale => return Err(Box::new(challenge(sw, req, Challenge::Proxy, true))),
                Outcome::Replay | Outcome::Malformed(_) => {
                    return Err(Box::new(challenge(sw, req, Challenge::Proxy, false)))
                }
                Outcome::BadPassword => continue,
            }
        }
    }
    sw.blacklist.bans.fail(source.ip(), Instant::now());
    Err(failure.response)
}

/// The 407 of [`classify_call`] for an INVITE without credentials from
/// an address no trunk claims, when that can be said without waiting (the
/// trunks' index is built): `None` otherwise, and then the call's task
/// classifies it. Saves a first INVITE the call task and its channel.
pub fn challenge_now(sw: &Switch, req: &Request, source: SocketAddr) -> Option<Response> {
    // Any Proxy-Authorization: the call task parses and checks it (one
    // for another realm only is challenged there as it would be here).
    if req.head.headers.get(&HeaderName::ProxyAuthorization).is_some() {
        return None;
    }
    let sources = sw.routing.cached_sources()?;
    let callee = req.uri.user().unwrap_or_default();
    if sources.lookup(source, callee).is_some() {
        return None;
    }
    Some(challenge(sw, req, Challenge::Proxy, false))
}

/// Why a request was not authenticated.
struct Failure {
    /// What to answer.
    response: Box<Response>,
    /// Whether it was a wrong guess (a 403), which counts towards a ban.
    guess: bool,
}

async fn check(
    sw: &Arc<Switch>,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
) -> Result<Account, Failure> {
    check_parsed(sw, req, kind, extension, credentials_of(sw, req, kind)).await
}

/// [`check`] with the request's credentials already parsed
/// ([`credentials_of`]).
async fn check_parsed(
    sw: &Arc<Switch>,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
    credentials: Option<Result<sip::digest::Credentials<'_>, sip::digest::DigestError>>,
) -> Result<Account, Failure> {
    let (creds, admitted, now) = admit(sw, req, kind, credentials)?;
    look_up_and_choose(sw, req, kind, extension, Admission { creds, admitted, now }).await
}

/// The account of admitted credentials, its digest user's accounts
/// looked up (see [`choose`]).
async fn look_up_and_choose(
    sw: &Arc<Switch>,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
    admission: Admission<'_>,
) -> Result<Account, Failure> {
    let accounts = match sw.accounts.by_auth_username(&admission.creds.username).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "account lookup failed");
            return Err(Failure::answer(Response::for_request(
                req,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&sw.tag()),
            )));
        }
    };
    choose(sw, req, kind, extension, &admission, &accounts)
}

/// [`check`] when it needs no wait: [`Pending`] when the digest user's
/// accounts are not cached (then [`authenticate_pending`] looks them up).
fn check_cached(
    sw: &Switch,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
) -> Result<Result<Account, Failure>, Pending> {
    let (creds, admitted, now) = match admit(sw, req, kind, credentials_of(sw, req, kind)) {
        Ok(admission) => admission,
        Err(f) => return Ok(Err(f)),
    };
    let admission = Admission { creds, admitted, now };
    match sw.accounts.cached_by_auth_username(&admission.creds.username) {
        Some(accounts) => Ok(choose(sw, req, kind, extension, &admission, &accounts)),
        // Owned: the lookup's task outlives the request's borrow here.
        None => {
            let Admission { creds, admitted, now } = admission;
            Err(Pending(Box::new(Admission { creds: creds.into_owned(), admitted, now })))
        }
    }
}

/// Credentials [`authenticate_cached`] admitted whose digest user's
/// accounts are not cached: what [`authenticate_pending`] goes on from.
pub struct Pending(Box<Admission<'static>>);

/// What [`authenticate_cached`] found.
pub enum Cached {
    /// The verdict, reached without waiting.
    Verdict(Verdict),
    /// The digest user's accounts are to be looked up first.
    Lookup(Pending),
}

/// [`authenticate_from`] when it needs no wait: [`Cached::Lookup`] when
/// the accounts of the request's digest user are not cached, and only
/// then. A request without credentials, or with credentials screened out,
/// is answered here at once.
pub fn authenticate_cached(
    sw: &Switch,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
    source: IpAddr,
) -> Cached {
    match check_cached(sw, req, kind, extension) {
        Ok(checked) => Cached::Verdict(counting_guesses(sw, source, checked)),
        Err(pending) => Cached::Lookup(pending),
    }
}

impl Failure {
    /// Answer `response`, which is no wrong guess.
    fn answer(response: Response) -> Failure {
        Failure { response: Box::new(response), guess: false }
    }
}

/// Credentials that passed the checks needing no account, at `now`.
struct Admission<'a> {
    creds: sip::digest::Credentials<'a>,
    admitted: sip::digest::Admitted,
    now: u64,
}

/// The request's credentials, when they may be checked against an
/// account's password (see [`Authenticator::admit`]), else the answer: a
/// challenge, `stale` when only the nonce expired.
///
/// [`Authenticator::admit`]: sip::digest::Authenticator::admit
fn admit<'a>(
    sw: &Switch,
    req: &Request,
    kind: Challenge,
    credentials: Option<Result<sip::digest::Credentials<'a>, sip::digest::DigestError>>,
) -> Result<(sip::digest::Credentials<'a>, sip::digest::Admitted, u64), Failure> {
    let creds = match credentials {
        Some(Ok(c)) => c,
        None | Some(Err(_)) => return Err(Failure::answer(challenge(sw, req, kind, false))),
    };
    let now = sw.now_ms();
    let admitted = match sw.auth.lock() {
        Ok(a) => a.admit(&creds, now),
        Err(_) => return Err(Failure::answer(challenge(sw, req, kind, false))),
    };
    match admitted {
        Ok(admitted) => Ok((creds, admitted, now)),
        Err(Outcome::Stale) => Err(Failure::answer(challenge(sw, req, kind, true))),
        Err(_) => Err(Failure::answer(challenge(sw, req, kind, false))),
    }
}

/// The request's credentials for our realm, in the header `kind` answers.
fn credentials_of<'r>(
    sw: &Switch,
    req: &'r Request,
    kind: Challenge,
) -> Option<Result<sip::digest::Credentials<'r>, sip::digest::DigestError>> {
    let realm = sw.config.realm.as_str();
    match kind {
        Challenge::Www => req.head.authorization(Some(realm)),
        Challenge::Proxy => req.head.proxy_authorization(Some(realm)),
    }
}

/// The account among `accounts` (the digest user's) whose extension is
/// `extension` (any when `None`) and whose password the credentials were
/// made with.
fn choose(
    sw: &Switch,
    req: &Request,
    kind: Challenge,
    extension: Option<&str>,
    admission: &Admission<'_>,
    accounts: &[Account],
) -> Result<Account, Failure> {
    let Admission { creds, admitted, now } = admission;
    let forbidden = || Failure {
        response: Box::new(Response::for_request(req, StatusCode::FORBIDDEN, Some(&sw.tag()))),
        guess: true,
    };
    let candidates = accounts.iter().filter(|a| extension.is_none_or(|e| a.extension == e));
    for account in candidates {
        let uri = digest_uri(sw, &creds.uri, &req.uri, account.domain.as_deref());
        let outcome = match sw.auth.lock() {
            Ok(mut a) => a.verify_admitted(
                *admitted,
                creds,
                &req.method,
                &uri,
                Secret::Password(&account.password),
                *now,
            ),
            Err(_) => return Err(Failure::answer(challenge(sw, req, kind, false))),
        };
        match outcome {
            Outcome::Ok if account.enabled => return Ok(account.clone()),
            Outcome::Ok => return Err(Failure { guess: false, ..forbidden() }),
            Outcome::Stale => return Err(Failure::answer(challenge(sw, req, kind, true))),
            Outcome::Replay | Outcome::Malformed(_) => {
                return Err(Failure::answer(challenge(sw, req, kind, false)))
            }
            Outcome::BadPassword => continue,
        }
    }
    Err(forbidden())
}

/// The URI the digest is checked against: the one the credentials name when
/// it names this server (by the Request-URI's host and port, by any of its
/// addresses, the realm, a configured domain or the agent's domain, with
/// our port or none), else the Request-URI. SIPp and some phones hash
/// `sip:<server ip:port>` while the Request-URI names a domain. The hash
/// covers the URI either way, and nonce-counts stop replays.
fn digest_uri(sw: &Switch, named: &str, request_uri: &Uri, domain: Option<&str>) -> Uri {
    match (Uri::parse(named), request_uri) {
        (Ok(Uri::Sip(n)), Uri::Sip(r)) if n.host.same(&r.host) && n.port == r.port => Uri::Sip(n),
        (Ok(Uri::Sip(n)), _) if names_us(sw, &n, request_uri, domain) => Uri::Sip(n),
        _ => request_uri.clone(),
    }
}

/// Whether `uri` names this server.
fn names_us(sw: &Switch, uri: &SipUri, request_uri: &Uri, domain: Option<&str>) -> bool {
    let local = sw.transports.local_addr();
    let advertised = sw.advertised();
    if uri.port.is_some_and(|p| p != local.port() && p != advertised.port()) {
        return false;
    }
    match &uri.host {
        Host::Domain(name) => {
            let bare = |d: &str| {
                let d = d.strip_prefix("sips:").or_else(|| d.strip_prefix("sip:")).unwrap_or(d);
                d.split(':').next().unwrap_or(d).to_owned()
            };
            std::iter::once(sw.config.realm.as_str())
                .chain(sw.config.domains.iter().map(String::as_str))
                .chain(domain)
                .any(|d| bare(d).eq_ignore_ascii_case(name))
        }
        host => host.ip().is_some_and(|ip| {
            ip == local.ip()
                || ip == advertised.ip()
                || sw.config.public_ip == Some(ip)
                // Bound to every interface: the address the request was sent to.
                || (local.ip().is_unspecified()
                    && (ip.is_loopback() || matches!(request_uri, Uri::Sip(r) if r.host.ip() == Some(ip))))
        }),
    }
}
