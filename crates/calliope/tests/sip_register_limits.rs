//! Registration as phones do it and as registrars bound it: SIPp
//! registering to a domain Request-URI (its digest `uri` names the server's
//! address), and the cap on contacts per address of record.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use support::calliope::{assert_passed, free_port, Calliope, Sipp};

#[test]
fn register_to_the_realm_or_a_configured_domain() {
    let c = Calliope::start(&["--sip-domains", "pbx.example.com"]);
    c.agent("1101", "pw-1101");
    for domain in ["calliope", "pbx.example.com", "PBX.Example.com"] {
        let out = Sipp::new("register_domain.xml", c.sip)
            .args(&["-s", "1101", "-au", "1101", "-ap", "pw-1101", "-key", "domain", domain])
            .run();
        assert_passed(&out, &format!("register to {domain}"));
    }
}

#[test]
fn register_to_a_domain_over_tcp() {
    let c = Calliope::start(&[]);
    c.agent("1102", "pw-1102");
    let out = Sipp::new("register_domain.xml", c.sip)
        .args(&["-t", "t1", "-s", "1102", "-au", "1102", "-ap", "pw-1102", "-key", "domain", "calliope"])
        .run();
    assert_passed(&out, "register to the realm over TCP");
}

#[test]
fn contacts_per_address_of_record_are_capped() {
    let c = Calliope::start(&["--sip-max-contacts", "2"]);
    c.agent("1103", "pw-1103");
    let creds = ["-s", "1103", "-au", "1103", "-ap", "pw-1103"];
    let (first, second, third) = (free_port(), free_port(), free_port());
    for port in [first, second] {
        let out = Sipp::new("register.xml", c.sip).args(&creds).contact_port(port).run();
        assert_passed(&out, "a contact within the cap");
    }
    let out = Sipp::new("register_refused.xml", c.sip).args(&creds).contact_port(third).run();
    assert_passed(&out, "a third contact is refused with 503");
    // Refreshing a contact already there is fine.
    let out = Sipp::new("register.xml", c.sip).args(&creds).contact_port(first).run();
    assert_passed(&out, "a refresh within the cap");
    let (_, body) = c.call("GET", "/v1beta2/agents", serde_json::Value::Null);
    assert!(body.is_object(), "the API still answers: {body}");
}
