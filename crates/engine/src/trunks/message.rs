//! The requests a gateway or trunk supervisor sends (REGISTER, OPTIONS)
//! and what it reads from their answers: pure functions over `sip` types.

use std::net::{IpAddr, SocketAddr};

use sip::header::Transport as ViaTransport;
use sip::{HeaderName, HostPort, Method, NameAddr, Request, Response, Uri, Via};

use super::spec::{Setup, Target, Transport};

/// What stays the same across one gateway's REGISTERs (RFC 3261 10.2:
/// one Call-ID, a From tag, CSeq going up).
#[derive(Debug, Clone)]
pub struct Binding {
    /// The Call-ID of every REGISTER.
    pub call_id: String,
    /// The From tag.
    pub tag: String,
    /// The last CSeq used.
    pub cseq: u32,
}

/// Our Via for `transport`, sent by `local`, with `branch`.
pub fn via(local: SocketAddr, transport: Transport, branch: &str) -> Via {
    let transport = match transport {
        Transport::Udp => ViaTransport::Udp,
        Transport::Tcp => ViaTransport::Tcp,
    };
    let host = match local.ip() {
        IpAddr::V4(ip) => sip::Host::V4(ip),
        IpAddr::V6(ip) => sip::Host::V6(ip),
    };
    let mut via = Via::new(transport, HostPort { host, port: Some(local.port()) }, branch);
    via.params.set("rport", None);
    via
}

fn uri(s: &str) -> Result<Uri, String> {
    Uri::parse(s).map_err(|e| format!("cannot make a SIP URI of '{s}': {e}"))
}

fn host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Our Contact URI for a gateway reached from `local`.
pub fn contact(setup: &Setup, local: SocketAddr) -> Result<Uri, String> {
    let transport = match setup.transport {
        Transport::Udp => "",
        Transport::Tcp => ";transport=tcp",
    };
    uri(&format!(
        "sip:{}@{}{transport}",
        setup.contact_user,
        Target { host: local.ip().to_string(), port: local.port() }
    ))
}

/// A REGISTER of `setup`'s binding asking for `expires` seconds (0
/// removes it), with the next CSeq of `binding`, from `local`.
pub fn register(
    setup: &Setup,
    binding: &mut Binding,
    expires: u32,
    local: SocketAddr,
    branch: &str,
) -> Result<Request, String> {
    let request_uri = uri(&format!("sip:{}", setup.realm))?;
    let aor = uri(&format!("sip:{}@{}", setup.from_user, host(&setup.from_domain)))?;
    let mut from = NameAddr::new(aor.clone());
    from.set_tag(&binding.tag);
    binding.cseq = binding.cseq.wrapping_add(1).max(1);
    let mut contact = NameAddr::new(contact(setup, local)?);
    if expires == 0 {
        contact.params.set("expires", Some("0"));
    }
    Ok(Request::new(
        Method::Register,
        request_uri,
        from,
        NameAddr::new(aor),
        binding.call_id.clone(),
        binding.cseq,
    )
    .with_via(via(local, setup.transport, branch))
    .with_header(HeaderName::Contact, contact.to_string())
    .with_header(HeaderName::Expires, expires.to_string())
    .with_header(HeaderName::UserAgent, "Calliope"))
}

/// An OPTIONS to `target` from `local` (a new Call-ID each time).
pub fn options(
    target: &Target,
    transport: Transport,
    local: SocketAddr,
    call_id: &str,
    tag: &str,
    branch: &str,
) -> Result<Request, String> {
    let to = uri(&format!("sip:{target}"))?;
    let mut from = NameAddr::new(uri(&format!(
        "sip:calliope@{}",
        Target { host: local.ip().to_string(), port: local.port() }
    ))?);
    from.set_tag(tag);
    Ok(Request::new(Method::Options, to.clone(), from, NameAddr::new(to), call_id, 1)
        .with_via(via(local, transport, branch))
        .with_header(HeaderName::Accept, "application/sdp")
        .with_header(HeaderName::UserAgent, "Calliope"))
}

/// The lifetime a 2xx to our REGISTER grants (RFC 3261 10.2.4): the
/// `expires` of our Contact in it, else its Expires header, else what we
/// asked for.
pub fn granted(response: &Response, ours: &Uri, asked: u32) -> u32 {
    let contacts = response.head.contacts().unwrap_or_default();
    let mine = contacts.iter().filter_map(|c| c.addr()).find(|a| a.uri.equivalent(ours));
    if let Some(e) = mine.and_then(NameAddr::expires) {
        return e;
    }
    response.head.expires().ok().flatten().unwrap_or(asked)
}

/// `code reason` of a response, for a status line.
pub fn describe(response: &Response) -> String {
    format!("{} {}", response.status.code(), response.reason).trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trunks::register::Timers;
    use sip::StatusCode;

    fn setup() -> Setup {
        let realm = Target { host: "127.0.0.1".into(), port: 5090 };
        Setup {
            register: true,
            proxy: realm.clone(),
            realm,
            transport: Transport::Udp,
            from_user: "1001".into(),
            from_domain: "example.com".into(),
            auth_username: "1001".into(),
            password: Some("pw".into()),
            contact_user: "gw1".into(),
            timers: Timers::default(),
            ping: None,
        }
    }

    fn local() -> SocketAddr {
        "127.0.0.1:5060".parse().expect("addr")
    }

    #[test]
    fn registers_share_a_call_id_and_count_up_and_unregister_asks_for_zero() {
        let mut b = Binding { call_id: "reg-1".into(), tag: "t1".into(), cseq: 0 };
        let first = register(&setup(), &mut b, 60, local(), "z9hG4bKa").expect("request");
        let text = String::from_utf8(first.to_bytes()).expect("utf8");
        assert!(text.starts_with("REGISTER sip:127.0.0.1:5090 SIP/2.0\r\n"), "{text}");
        assert!(text.contains("From: <sip:1001@example.com>;tag=t1"), "{text}");
        assert!(text.contains("To: <sip:1001@example.com>\r\n"), "{text}");
        assert!(text.contains("Contact: <sip:gw1@127.0.0.1:5060>\r\n"), "{text}");
        assert!(text.contains("Expires: 60\r\n"), "{text}");
        assert_eq!(first.head.cseq.seq, 1);
        let bye = register(&setup(), &mut b, 0, local(), "z9hG4bKb").expect("request");
        let text = String::from_utf8(bye.to_bytes()).expect("utf8");
        assert_eq!((bye.head.cseq.seq, bye.head.call_id.as_str()), (2, "reg-1"));
        assert!(text.contains("Expires: 0\r\n"), "{text}");
        assert!(text.contains("Contact: <sip:gw1@127.0.0.1:5060>;expires=0"), "{text}");
    }

    #[test]
    fn the_granted_lifetime_comes_from_our_contact_then_expires_then_the_ask() {
        let mut b = Binding { call_id: "reg-1".into(), tag: "t1".into(), cseq: 0 };
        let req = register(&setup(), &mut b, 60, local(), "z9hG4bKa").expect("request");
        let ours = contact(&setup(), local()).expect("contact");
        let ok = Response::for_request(&req, StatusCode::OK, Some("x"));
        assert_eq!(granted(&ok, &ours, 60), 60);
        let ok = ok.with_header(HeaderName::Expires, "30");
        assert_eq!(granted(&ok, &ours, 60), 30);
        let ok = ok
            .with_header(HeaderName::Contact, "<sip:other@10.0.0.1>;expires=900")
            .with_header(HeaderName::Contact, "<sip:gw1@127.0.0.1:5060>;expires=20");
        assert_eq!(granted(&ok, &ours, 60), 20);
    }

    #[test]
    fn options_go_to_the_target() {
        let target = Target { host: "::1".into(), port: 5070 };
        let req = options(&target, Transport::Tcp, "[::1]:5060".parse().expect("addr"), "c", "t", "z9hG4bKc")
            .expect("request");
        let text = String::from_utf8(req.to_bytes()).expect("utf8");
        assert!(text.starts_with("OPTIONS sip:[::1]:5070 SIP/2.0\r\n"), "{text}");
        assert!(text.contains("Via: SIP/2.0/TCP [::1]:5060;branch=z9hG4bKc;rport"), "{text}");
    }
}
