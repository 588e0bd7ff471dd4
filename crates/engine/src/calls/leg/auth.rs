//! Answering an upstream digest challenge (401 or 407) to one of our
//! requests with the credentials of the account it leaves through (a
//! gateway's or trunk's): the same request again, with the next CSeq, a
//! fresh branch and an Authorization or Proxy-Authorization header.

use sip::digest::{Answer, Challenge, Credentials};
use sip::{HeaderName, Request, Response, Via};

/// A user name and password for an upstream server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The digest user name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// `request` again, answering the challenge in `challenged` (a 401 or
/// 407 to it) with `account`; `None` when the response carries no
/// challenge we can answer.
pub fn authorize(
    request: &Request,
    challenged: &Response,
    account: &Account,
    via: Via,
    cnonce: &str,
) -> Option<Request> {
    let (challenges, header) = match challenged.status.code() {
        401 => (challenged.head.www_authenticate(), HeaderName::Authorization),
        407 => (challenged.head.proxy_authenticate(), HeaderName::ProxyAuthorization),
        _ => return None,
    };
    let challenge: Challenge = challenges.into_iter().find_map(Result::ok)?;
    let uri = request.uri.to_string();
    let answer = Answer {
        username: &account.username,
        password: &account.password,
        method: &request.method,
        uri: &uri,
        cnonce,
        nc: 1,
    };
    let credentials = Credentials::answer(&challenge, &answer);
    let mut again = request.clone();
    again.head.cseq.seq = again.head.cseq.seq.saturating_add(1);
    again.head.via = vec![via];
    again.head.headers.remove(&header);
    again.head.headers.push(header, credentials.to_string());
    Some(again)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip::digest::{AuthConfig, Authenticator, Outcome, Secret};
    use sip::{HeaderName as H, HostPort, Method, NameAddr, StatusCode, Uri};

    fn via(branch: &str) -> Via {
        let host = HostPort { host: sip::Host::V4([127, 0, 0, 1].into()), port: Some(5060) };
        Via::new(sip::header::Transport::Udp, host, branch)
    }

    #[test]
    fn a_challenged_invite_is_sent_again_with_credentials_the_server_accepts() {
        let uri = Uri::parse("sip:5551234@127.0.0.1:5090").expect("uri");
        let from = NameAddr::parse("<sip:calliope@127.0.0.1>;tag=a").expect("from");
        let to = NameAddr::new(uri.clone());
        let invite = Request::new(Method::Invite, uri, from, to, "c1", 1).with_via(via("z9hG4bK1"));
        let mut server = Authenticator::new("upstream", b"key", AuthConfig::default());
        let mut challenge = Response::for_request(&invite, StatusCode::PROXY_AUTHENTICATION_REQUIRED, None);
        for c in server.challenges(1_000, [7; sip::digest::NONCE_RANDOM_BYTES], false) {
            challenge.head.headers.push(H::ProxyAuthenticate, c.to_string());
        }
        let account = Account { username: "trunk".into(), password: "s3cret".into() };
        let again = authorize(&invite, &challenge, &account, via("z9hG4bK2"), "cn").expect("answered");
        assert_eq!(again.head.cseq.seq, 2);
        assert_eq!(again.head.branch(), Some("z9hG4bK2"));
        assert_eq!(again.head.call_id, "c1");
        let creds = again.head.proxy_authorization(Some("upstream")).expect("header").expect("parses");
        let outcome = server.verify(&creds, &Method::Invite, &again.uri, Secret::Password("s3cret"), 1_001);
        assert_eq!(outcome, Outcome::Ok);

        let busy = Response::for_request(&invite, StatusCode::BUSY_HERE, None);
        assert!(authorize(&invite, &busy, &account, via("z9hG4bK3"), "cn").is_none());
        let bare = Response::for_request(&invite, StatusCode::UNAUTHORIZED, None);
        assert!(authorize(&invite, &bare, &account, via("z9hG4bK4"), "cn").is_none(), "no challenge");
    }
}
