use super::*;
use crate::method::Method;
use crate::uri::Uri;

const SECRET: &[u8] = b"server secret for tests";
const REALM: &str = "calliope.example.com";

fn rnd(n: u8) -> [u8; NONCE_RANDOM_BYTES] {
    [n; NONCE_RANDOM_BYTES]
}

/// RFC 2617 section 3.5 (MD5, qop=auth).
#[test]
fn rfc2617_example_response() {
    let ha1 = ha1(Algorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
    let r = response(
        &ha1,
        &ResponseInput {
            algorithm: Algorithm::Md5,
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            cnonce: Some("0a4f113b"),
            nc: Some(1),
            qop: Some("auth"),
            method: "GET",
            uri: "/dir/index.html",
        },
    );
    assert_eq!(r, "6629fae49393a05397450978507c4ef1");
}

/// RFC 7616 section 3.9.1, MD5 and SHA-256 with the same inputs.
#[test]
fn rfc7616_example_responses() {
    for (algorithm, expected) in [
        (Algorithm::Md5, "8ca523f5e9506fed4657c9700eebdbec"),
        (Algorithm::Sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ] {
        let ha1 = ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life");
        let input = ResponseInput {
            algorithm,
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            cnonce: Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
            nc: Some(1),
            qop: Some("auth"),
            method: "GET",
            uri: "/dir/index.html",
        };
        assert_eq!(response(&ha1, &input), expected, "{algorithm}");
    }
}

#[test]
fn rfc7616_authorization_header_parses() {
    let value = r#"Digest username="Mufasa",
        realm="http-auth@example.org",
        uri="/dir/index.html",
        algorithm=SHA-256,
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        nc=00000001,
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        qop=auth,
        response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
        .replace('\n', " ");
    let c = Credentials::parse(&value).expect("credentials");
    assert_eq!(c.username, "Mufasa");
    assert_eq!(c.algorithm, Algorithm::Sha256);
    assert_eq!(c.nc, Some(1));
    assert_eq!(c.qop.as_deref(), Some("auth"));
    assert_eq!(c.opaque.as_deref(), Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"));
    assert_eq!(Credentials::parse(&c.to_string()), Ok(c));
}

#[test]
fn bad_headers_are_errors() {
    let ok = r#"Digest username="a", realm="r", nonce="n", uri="sip:x", response="00""#;
    assert!(Credentials::parse(ok).is_ok());
    assert_eq!(Credentials::parse(&ok.replace("Digest", "Basic")), Err(DigestError::Scheme));
    assert_eq!(
        Credentials::parse(&ok.replace("username=\"a\", ", "")),
        Err(DigestError::Missing("username"))
    );
    assert_eq!(
        Credentials::parse(&format!("{ok}, realm=\"r2\"")),
        Err(DigestError::Duplicate("realm".into()))
    );
    assert_eq!(Credentials::parse(&format!("{ok}, nc=1")), Err(DigestError::NonceCount));
    assert_eq!(Credentials::parse(&format!("{ok}, algorithm=SHA-512")), Err(DigestError::Algorithm));
    assert_eq!(Credentials::parse(&format!("{ok}, qop=auth")), Err(DigestError::Missing("cnonce and nc")));
    assert_eq!(Credentials::parse(&ok.replace("\"00\"", "\"zz\"")), Err(DigestError::Syntax));
    assert_eq!(Credentials::parse(r#"Digest username="a"#), Err(DigestError::Syntax));
    assert_eq!(Credentials::parse("Digest x"), Err(DigestError::Syntax));
    assert!(Challenge::parse("Digest realm=\"r\"").is_err());
}

#[test]
fn challenges_one_per_algorithm() {
    let auth = Authenticator::new(REALM, SECRET, AuthConfig::default());
    let cs = auth.challenges(1_000, rnd(1), true);
    assert_eq!(cs.iter().map(|c| c.algorithm).collect::<Vec<_>>(), vec![Algorithm::Sha256, Algorithm::Md5]);
    for c in &cs {
        assert_eq!(c.realm, REALM);
        assert!(c.stale);
        assert!(c.offers_auth());
        assert!(c.opaque.is_some());
        assert_eq!(Challenge::parse(&c.to_string()).as_ref(), Ok(c));
    }
    assert!(cs[0].to_string().starts_with(r#"Digest realm="calliope.example.com", nonce=""#));
    assert!(cs[0].to_string().contains(r#"stale=TRUE, algorithm=SHA-256, qop="auth""#));
    // Numbered: the same inputs make another nonce.
    assert_ne!(auth.challenges(1_000, rnd(1), false)[0].nonce, cs[0].nonce);
    assert_eq!(auth.nonces().slots(), 1 << 20);
}

struct Client<'a> {
    challenge: &'a Challenge,
    password: &'a str,
    uri: &'a str,
}

impl Client<'_> {
    fn creds(&self, nc: u32) -> Credentials<'static> {
        Credentials::answer(
            self.challenge,
            &Answer {
                username: "1001",
                password: self.password,
                method: &Method::Register,
                uri: self.uri,
                cnonce: "c1ient",
                nc,
            },
        )
    }
}

fn uri() -> Uri {
    Uri::parse("sip:calliope.example.com").expect("uri")
}

/// A client with password "pw" answering each challenge.
fn clients_of(challenges: &[Challenge]) -> Vec<Client<'_>> {
    challenges
        .iter()
        .map(|c| Client { challenge: c, password: "pw", uri: "sip:calliope.example.com" })
        .collect()
}

#[test]
fn register_flow_ok_replay_stale_bad_password() {
    for algorithm in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Md5Sess, Algorithm::Sha256Sess] {
        let config =
            AuthConfig { nonce_lifetime_ms: 60_000, algorithms: vec![algorithm], ..AuthConfig::default() };
        let mut auth = Authenticator::new(REALM, SECRET, config);
        let challenge = auth.challenges(10_000, rnd(7), false).remove(0);
        let client = Client { challenge: &challenge, password: "s3cret", uri: "sip:calliope.example.com" };
        let good = Secret::Password("s3cret");
        let verify = |auth: &mut Authenticator, c: &Credentials, secret, now| {
            // The credentials travel as a header and are parsed back.
            let text = c.to_string();
            let parsed = Credentials::parse(&text).expect("parse");
            auth.verify(&parsed, &Method::Register, &uri(), secret, now)
        };

        assert_eq!(verify(&mut auth, &client.creds(1), good, 11_000), Outcome::Ok, "{algorithm}");
        assert_eq!(verify(&mut auth, &client.creds(1), good, 11_001), Outcome::Replay);
        assert_eq!(verify(&mut auth, &client.creds(2), good, 12_000), Outcome::Ok);
        assert_eq!(verify(&mut auth, &client.creds(2), good, 12_001), Outcome::Replay);
        assert_eq!(verify(&mut auth, &client.creds(5), good, 13_000), Outcome::Ok, "gaps are fine");
        assert_eq!(verify(&mut auth, &client.creds(3), good, 13_001), Outcome::Replay);

        let wrong = Client { password: "guess", ..client };
        assert_eq!(verify(&mut auth, &wrong.creds(6), good, 14_000), Outcome::BadPassword);
        assert_eq!(
            verify(&mut auth, &client.creds(6), good, 14_000),
            Outcome::Ok,
            "a wrong try burns no count"
        );

        let ha1 = ha1(algorithm, "1001", REALM, "s3cret");
        assert_eq!(verify(&mut auth, &client.creds(7), Secret::Ha1(&ha1), 15_000), Outcome::Ok);

        assert_eq!(verify(&mut auth, &client.creds(8), good, 10_000 + 60_001), Outcome::Stale);
        assert_eq!(verify(&mut auth, &wrong.creds(8), good, 10_000 + 60_001), Outcome::BadPassword);
    }
}

#[test]
fn nonces_not_issued_here_are_stale_when_the_digest_is_right() {
    let mut auth = Authenticator::new(REALM, SECRET, AuthConfig::default());
    let other = Authenticator::new(REALM, b"another secret", AuthConfig::default());
    let mut challenge = other.challenges(1_000, rnd(3), false).remove(1);
    challenge.opaque = auth.challenges(1_000, rnd(3), false).remove(0).opaque;
    let client = Client { challenge: &challenge, password: "pw", uri: "sip:calliope.example.com" };
    assert_eq!(
        auth.verify(&client.creds(1), &Method::Register, &uri(), Secret::Password("pw"), 1_500),
        Outcome::Stale
    );

    let mut forged = auth.challenges(1_000, rnd(4), false).remove(0);
    forged.nonce.replace_range(0..1, if forged.nonce.starts_with('A') { "B" } else { "A" });
    let client = Client { challenge: &forged, password: "pw", uri: "sip:calliope.example.com" };
    assert_eq!(
        auth.verify(&client.creds(1), &Method::Register, &uri(), Secret::Password("pw"), 1_500),
        Outcome::Stale
    );

    let mut garbage = forged.clone();
    garbage.nonce = "not base64 at all!".into();
    let client = Client { challenge: &garbage, password: "pw", uri: "sip:calliope.example.com" };
    assert_eq!(
        auth.verify(&client.creds(1), &Method::Register, &uri(), Secret::Password("pw"), 1_500),
        Outcome::Stale
    );

    // Issued "in the future" of this clock: not accepted either.
    let future = auth.challenges(9_000, rnd(5), false).remove(0);
    let client = Client { challenge: &future, password: "pw", uri: "sip:calliope.example.com" };
    assert_eq!(
        auth.verify(&client.creds(1), &Method::Register, &uri(), Secret::Password("pw"), 1_500),
        Outcome::Stale
    );
}

#[test]
fn credentials_that_do_not_fit_are_malformed() {
    let mut auth = Authenticator::new(REALM, SECRET, AuthConfig::default());
    let challenge = auth.challenges(1_000, rnd(1), false).remove(0);
    let client = Client { challenge: &challenge, password: "pw", uri: "sip:calliope.example.com" };
    let pw = Secret::Password("pw");
    let mut verify = |c: Credentials| auth.verify(&c, &Method::Register, &uri(), pw, 1_100);

    let mut c = client.creds(1);
    c.realm = "other.example.com".into();
    assert_eq!(verify(c), Outcome::Malformed(DigestError::Realm));

    let mut c = client.creds(1);
    c.algorithm = Algorithm::Sha256Sess;
    assert_eq!(verify(c), Outcome::Malformed(DigestError::Algorithm));

    let mut c = client.creds(1);
    c.qop = None;
    assert_eq!(verify(c), Outcome::Malformed(DigestError::Qop));

    let mut c = client.creds(1);
    c.opaque = Some("made up".into());
    assert_eq!(verify(c), Outcome::Malformed(DigestError::Opaque));

    let other_uri = Client { uri: "sip:elsewhere.example.com", ..client };
    assert_eq!(verify(other_uri.creds(1)), Outcome::Malformed(DigestError::Uri));

    // An equivalent URI written differently is the same URI.
    let same_uri = Client { uri: "SIP:CALLIOPE.example.COM", ..client };
    assert_eq!(verify(same_uri.creds(1)), Outcome::Ok);

    // Without opaque (some clients drop it) the digest still decides.
    let mut c = client.creds(2);
    c.opaque = None;
    assert_eq!(verify(c), Outcome::Ok);
}

#[test]
fn tracking_is_bounded_and_forgotten_nonces_are_stale() {
    let config = AuthConfig { nonce_slots: 2, ..AuthConfig::default() };
    let mut auth = Authenticator::new(REALM, SECRET, config);
    let pw = Secret::Password("pw");
    let challenges: Vec<_> =
        (0..3u8).map(|i| auth.challenges(1_000 + u64::from(i), rnd(i), false).remove(0)).collect();
    let clients = clients_of(&challenges);
    assert_eq!(auth.verify(&clients[1].creds(1), &Method::Register, &uri(), pw, 2_000), Outcome::Ok);
    assert_eq!(auth.verify(&clients[2].creds(1), &Method::Register, &uri(), pw, 2_000), Outcome::Ok);
    // Two slots, three nonces: the first is stale, used or not, never accepted twice.
    assert_eq!(auth.verify(&clients[0].creds(1), &Method::Register, &uri(), pw, 2_100), Outcome::Stale);
    assert_eq!(auth.verify(&clients[2].creds(2), &Method::Register, &uri(), pw, 2_100), Outcome::Ok);
    let next = auth.challenges(2_200, rnd(9), false).remove(0);
    assert_eq!(auth.verify(&clients[1].creds(2), &Method::Register, &uri(), pw, 2_200), Outcome::Stale);
    assert_eq!(auth.verify(&clients[1].creds(1), &Method::Register, &uri(), pw, 2_200), Outcome::Stale);
    let client = Client { challenge: &next, password: "pw", uri: "sip:calliope.example.com" };
    assert_eq!(auth.verify(&client.creds(1), &Method::Register, &uri(), pw, 2_201), Outcome::Ok);
    assert_eq!(auth.verify(&client.creds(1), &Method::Register, &uri(), pw, 2_201), Outcome::Replay);
}

#[test]
fn a_restart_makes_earlier_nonces_stale() {
    let before = Authenticator::new(REALM, SECRET, AuthConfig { epoch: 1, ..AuthConfig::default() });
    let mut after = Authenticator::new(REALM, SECRET, AuthConfig { epoch: 2, ..AuthConfig::default() });
    let challenge = before.challenges(1_000, rnd(1), false).remove(0);
    let _ = after.challenges(1_000, rnd(1), false);
    let client = Client { challenge: &challenge, password: "pw", uri: "sip:calliope.example.com" };
    let pw = Secret::Password("pw");
    assert_eq!(after.screen(&client.creds(1), 1_100), Some(Outcome::Stale));
    assert_eq!(after.verify(&client.creds(1), &Method::Register, &uri(), pw, 1_100), Outcome::Stale);
}

#[test]
fn nonces_used_out_of_issue_order_keep_their_own_counts() {
    let mut auth = Authenticator::new(REALM, SECRET, AuthConfig::default());
    let pw = Secret::Password("pw");
    // Issued at 1000, 1002, 1001 (and two at 1001): used newest first.
    let issued = [(1_002, 2), (1_000, 0), (1_001, 3), (1_001, 1)];
    let challenges: Vec<_> =
        issued.iter().map(|&(at, r)| auth.challenges(at, rnd(r), false).remove(0)).collect();
    let clients = clients_of(&challenges);
    for c in &clients {
        assert_eq!(auth.verify(&c.creds(1), &Method::Register, &uri(), pw, 2_000), Outcome::Ok);
    }
    for c in &clients {
        assert_eq!(auth.verify(&c.creds(1), &Method::Register, &uri(), pw, 2_000), Outcome::Replay);
        assert_eq!(auth.verify(&c.creds(2), &Method::Register, &uri(), pw, 2_000), Outcome::Ok);
    }
    // The one issued first expires first, whatever the order of use.
    let now = 1_000 + 300_001;
    assert_eq!(auth.verify(&clients[1].creds(3), &Method::Register, &uri(), pw, now), Outcome::Stale);
    assert_eq!(auth.verify(&clients[0].creds(3), &Method::Register, &uri(), pw, now), Outcome::Ok);
    let now = 1_002 + 300_001;
    for c in &clients {
        assert_eq!(auth.verify(&c.creds(4), &Method::Register, &uri(), pw, now), Outcome::Stale);
    }
}

#[test]
fn counts_are_kept_until_the_nonce_expires() {
    let mut auth = Authenticator::new(REALM, SECRET, AuthConfig::default());
    let pw = Secret::Password("pw");
    let challenge = auth.challenges(1_000, rnd(1), false).remove(0);
    let client = Client { challenge: &challenge, password: "pw", uri: "sip:calliope.example.com" };
    assert_eq!(auth.verify(&client.creds(1), &Method::Register, &uri(), pw, 2_000), Outcome::Ok);
    let now = 1_000 + 300_000;
    assert_eq!(auth.verify(&client.creds(1), &Method::Register, &uri(), pw, now), Outcome::Replay);
    assert_eq!(auth.verify(&client.creds(2), &Method::Register, &uri(), pw, now + 1), Outcome::Stale);
}

#[test]
fn head_picks_credentials_for_the_realm() {
    let bytes = b"REGISTER sip:calliope.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr\r\n\
From: <sip:1001@calliope.example.com>;tag=1\r\n\
To: <sip:1001@calliope.example.com>\r\n\
Call-ID: reg1\r\n\
CSeq: 2 REGISTER\r\n\
Authorization: Digest username=\"x\", realm=\"other\", nonce=\"n\", uri=\"sip:calliope.example.com\", response=\"01\"\r\n\
Authorization: Digest username=\"1001\", realm=\"calliope.example.com\", nonce=\"n\", uri=\"sip:calliope.example.com\", response=\"02\", qop=auth, nc=00000001, cnonce=\"c\"\r\n\
WWW-Authenticate: Digest realm=\"calliope.example.com\", nonce=\"n\", algorithm=MD5, qop=\"auth,auth-int\"\r\n\
\r\n";
    let crate::Message::Request(r) = crate::parse_message(bytes).expect("parse") else { panic!("request") };
    let c = r.head.authorization(Some(REALM)).expect("present").expect("valid");
    assert_eq!(c.username, "1001");
    assert_eq!(r.head.authorization(None).expect("present").expect("valid").realm, "other");
    assert!(r.head.authorization(Some("nowhere")).is_none());
    assert!(r.head.proxy_authorization(None).is_none());
    let challenges = r.head.www_authenticate();
    assert_eq!(challenges.len(), 1);
    assert_eq!(
        challenges[0].as_ref().map(|c| c.qop.clone()),
        Ok(vec!["auth".to_owned(), "auth-int".to_owned()])
    );
}

#[test]
fn screening_needs_no_secret_and_stops_forged_and_stale_nonces() {
    let auth =
        Authenticator::new(REALM, SECRET, AuthConfig { nonce_lifetime_ms: 60_000, ..AuthConfig::default() });
    let challenge = auth.challenges(1_000, rnd(1), false).remove(0);
    let client = Client { challenge: &challenge, password: "any guess", uri: "sip:calliope.example.com" };
    assert_eq!(auth.screen(&client.creds(1), 2_000), None, "ours and fresh: check the password");
    assert_eq!(auth.screen(&client.creds(1), 62_000), Some(Outcome::Stale));

    let other = Authenticator::new(REALM, b"another secret", AuthConfig::default());
    let mut foreign = other.challenges(1_000, rnd(2), false).remove(0);
    foreign.opaque = challenge.opaque.clone();
    let client = Client { challenge: &foreign, password: "pw", uri: "sip:calliope.example.com" };
    assert_eq!(auth.screen(&client.creds(1), 2_000), Some(Outcome::Malformed(DigestError::Nonce)));

    let mut c = Client { challenge: &challenge, password: "pw", uri: "sip:calliope.example.com" }.creds(1);
    c.realm = "elsewhere".into();
    assert_eq!(auth.screen(&c, 2_000), Some(Outcome::Malformed(DigestError::Realm)));
}

#[test]
fn admitted_credentials_are_verified_without_their_nonce_checked_again() {
    let mut auth =
        Authenticator::new(REALM, SECRET, AuthConfig { nonce_lifetime_ms: 60_000, ..AuthConfig::default() });
    let challenge = auth.challenges(1_000, rnd(1), false).remove(0);
    let good = Secret::Password("pw");
    let client = Client { challenge: &challenge, password: "pw", uri: "sip:calliope.example.com" };
    let verify = |auth: &mut Authenticator, c: &Credentials, now| match auth.admit(c, now) {
        Ok(admitted) => auth.verify_admitted(admitted, c, &Method::Register, &uri(), good, now),
        Err(outcome) => outcome,
    };
    assert_eq!(verify(&mut auth, &client.creds(1), 2_000), Outcome::Ok);
    assert_eq!(verify(&mut auth, &client.creds(1), 2_001), Outcome::Replay);
    let wrong = Client { password: "guess", ..client };
    assert_eq!(verify(&mut auth, &wrong.creds(2), 2_002), Outcome::BadPassword);
    let elsewhere = Client { uri: "sip:other.example.com", ..client };
    assert_eq!(verify(&mut auth, &elsewhere.creds(3), 2_003), Outcome::Malformed(DigestError::Uri));
    assert_eq!(verify(&mut auth, &client.creds(4), 62_000), Outcome::Stale, "expired before admission");

    // Expired between admission and verification (the account lookup).
    let admitted = auth.admit(&client.creds(5), 60_999).expect("fresh");
    let late = auth.verify_admitted(admitted, &client.creds(5), &Method::Register, &uri(), good, 61_001);
    assert_eq!(late, Outcome::Stale);
    // Verified as `verify` does.
    assert_eq!(auth.verify(&client.creds(5), &Method::Register, &uri(), good, 3_000), Outcome::Ok);
}

#[test]
fn admitted_credentials_are_admitted_again_as_admit_would() {
    let auth =
        Authenticator::new(REALM, SECRET, AuthConfig { nonce_lifetime_ms: 60_000, ..AuthConfig::default() });
    let challenge = auth.challenges(1_000, rnd(1), false).remove(0);
    let client = Client { challenge: &challenge, password: "pw", uri: "sip:calliope.example.com" };
    let creds = client.creds(1);
    let admitted = auth.admit(&creds, 2_000).expect("fresh");
    for now in [2_000, 30_000, 61_000, 61_001, 999] {
        assert_eq!(auth.readmit(admitted, now), auth.admit(&creds, now), "at {now}");
    }
}

#[test]
fn credentials_borrow_from_the_header_unless_unescaped() {
    use std::borrow::Cow;
    let text = r#"Digest username="a\"b", realm="r", nonce="n", uri="sip:x", response="0a", qop=auth, nc=00000001, cnonce="c""#;
    let c = Credentials::parse(text).expect("parses");
    assert!(matches!(c.username, Cow::Owned(_)), "unescaped");
    assert_eq!(c.username, "a\"b");
    assert!(matches!(c.realm, Cow::Borrowed("r")));
    assert!(matches!(c.qop, Some(Cow::Borrowed("auth"))), "a token");
    let owned: Credentials<'static> = c.clone().into_owned();
    assert_eq!(owned, c);
    for bad in [r#"Digest username="open"#, r#"Digest username="a" x, realm="r""#, r#"Digest username="\"#] {
        assert!(Credentials::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_challenge_header_value_is_what_it_displays() {
    let mut c = Challenge::parse(r#"Digest realm="a\"b", nonce="n", opaque="o", qop="auth,auth-int", algorithm=SHA-256-sess, stale=TRUE"#)
        .expect("parses");
    assert_eq!(c.header_value(), c.to_string());
    c.realm = "\"".repeat(300);
    assert_eq!(c.header_value(), c.to_string(), "past its first size");
}
