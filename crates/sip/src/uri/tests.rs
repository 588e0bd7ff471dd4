use super::*;

fn sip(s: &str) -> SipUri {
    match Uri::parse(s) {
        Ok(Uri::Sip(u)) => u,
        other => panic!("{s}: {other:?}"),
    }
}

#[test]
fn rfc3261_examples_parse_and_round_trip() {
    for s in [
        "sip:alice@atlanta.com",
        "sip:alice:secretword@atlanta.com;transport=tcp",
        "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone",
        "sips:1212@gateway.com",
        "sip:alice@192.0.2.4",
        "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
        "sip:alice;day=tuesday@atlanta.com",
        "sip:[2001:db8::10]:5070;transport=udp;lr",
        "sip:biloxi.com;lr",
    ] {
        assert_eq!(Uri::parse(s).expect(s).to_string(), s);
    }
}

#[test]
fn parts_are_typed() {
    let u = sip("sip:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=x");
    assert_eq!(u.scheme, Scheme::Sip);
    assert_eq!(u.user.as_deref(), Some("alice"));
    assert_eq!(u.password.as_deref(), Some("secretword"));
    assert_eq!(u.host, Host::Domain("atlanta.com".into()));
    assert_eq!(u.port, Some(5061));
    assert_eq!(u.transport(), Some("tcp"));
    assert!(u.lr());
    assert_eq!(u.headers, vec![("subject".to_owned(), "x".to_owned())]);

    let telephone = sip("sip:+1-212-555-1212:1234@gateway.com;user=phone");
    assert_eq!(telephone.user.as_deref(), Some("+1-212-555-1212"));
    assert_eq!(telephone.password.as_deref(), Some("1234"));
    assert_eq!(telephone.params.get("user"), Some("phone"));

    let v6 = sip("sip:[2001:db8::10]");
    assert_eq!(v6.host.ip().map(|ip| ip.to_string()).as_deref(), Some("2001:db8::10"));
    assert_eq!(v6.port, None);
}

#[test]
fn scheme_is_case_insensitive_and_escapes_decode() {
    let u = sip("SIP:%61lice@ATLANTA.com");
    assert_eq!(u.user_unescaped().as_deref(), Some("alice"));
    assert!(u.equivalent(&sip("sip:alice@atlanta.com")));
}

#[test]
fn rfc3261_equivalence_examples() {
    let same = [
        ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
        ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"),
        (
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
        ),
        (
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
        ),
    ];
    for (a, b) in same {
        assert!(sip(a).equivalent(&sip(b)), "{a} == {b}");
    }
    let different = [
        ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
        ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ];
    for (a, b) in different {
        assert!(!sip(a).equivalent(&sip(b)), "{a} != {b}");
    }
}

#[test]
fn tel_uris() {
    let Ok(Uri::Tel(t)) = Uri::parse("tel:+1-201-555-0123;ext=1234") else { panic!("tel") };
    assert!(t.is_global());
    assert_eq!(t.digits(), "+12015550123");
    assert_eq!(t.params.get("ext"), Some("1234"));
    assert_eq!(t.to_string(), "tel:+1-201-555-0123;ext=1234");
    let Ok(Uri::Tel(local)) = Uri::parse("tel:7042;phone-context=example.com") else { panic!("local") };
    assert!(!local.is_global());
    assert!(Uri::parse("tel:").is_err());
    assert!(Uri::parse("tel:+").is_err());
    assert!(Uri::parse("tel:12 34").is_err());
}

#[test]
fn other_schemes_are_kept() {
    let u = Uri::parse("urn:service:sos").expect("urn");
    assert_eq!(u, Uri::Other("urn:service:sos".into()));
    assert_eq!(u.to_string(), "urn:service:sos");
}

#[test]
fn bad_uris_are_errors() {
    for s in [
        "",
        "sip:",
        "sip",
        "sip:@host",
        "sip:user@",
        "sip:user@host:99999",
        "sip:user@host:port",
        "sip:user@[::1",
        "sip:user@host;=x",
        "sip:user@host?noequals",
        "sip:us er@host",
        "sip:user@host;a=%zz",
        "sip:%G0@host",
        "1sip:x",
        "sip:<x>",
        ":x",
    ] {
        assert!(Uri::parse(s).is_err(), "{s:?} should not parse");
    }
    assert!(Uri::parse(&format!("sip:{}@h", "a".repeat(MAX_URI_LEN))).is_err());
}

#[test]
fn escape_helpers() {
    assert!(escapes_ok("a%20b"));
    assert!(!escapes_ok("a%2"));
    assert!(!escapes_ok("%+1"));
    assert_eq!(unescape("a%20b%"), "a b%");
    assert_eq!(unescape("%+1"), "%+1");
}

#[test]
fn forbidden_characters_are_found_by_bytes_as_by_characters() {
    let by_chars =
        |s: &str| s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'));
    for b in 0u8..0x80 {
        let s = format!("sip:a{}b@h", char::from(b));
        assert_eq!(super::has_forbidden(&s), by_chars(&s), "{b:#x}");
    }
    for s in ["sip:é@h", "sip:a\u{a0}b@h", "sip:a\u{85}@h", "sip:ü\"@h"] {
        assert_eq!(super::has_forbidden(s), by_chars(s), "{s}");
    }
}
