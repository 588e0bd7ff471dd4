//! Router tests of feature codes, call forwarding, do-not-disturb and
//! egress policies, on plain tables with a fixed time.

use super::features::*;
use super::tests::{base, call, i, rec, rejected, route_rec, routed, snap, t, MONDAY_10H};
use super::*;

fn code(id: i64, code: &str, kind: &str, disabled: bool) -> store::Record {
    rec(id, &[("func_code", t(code)), ("func_type", t(kind)), ("disabled", i(disabled.into()))])
}

fn feature(plan: Plan) -> Feature {
    match plan {
        Plan::Feature(f) => f,
        other => panic!("not a feature: {other:?}"),
    }
}

fn is_feature(s: &Snapshot, dialled: &str) -> Option<(String, String)> {
    match route(s, &call(dialled), MONDAY_10H) {
        Plan::Feature(f) => Some((f.func_type, f.arg)),
        _ => None,
    }
}

#[test]
fn default_codes_apply_until_the_workspace_has_its_own() {
    let s = snap(&base());
    let f = feature(route(&s, &call("*721003"), MONDAY_10H));
    assert_eq!((f.func_type.as_str(), f.arg.as_str()), (CFU_SET, "1003"));
    assert_eq!(is_feature(&s, "*72"), Some((CFU_SET.into(), String::new())), "the argument is checked later");
    assert_eq!(is_feature(&s, "*73"), Some((CFU_CANCEL.into(), String::new())));
    assert_eq!(is_feature(&s, "*901003"), Some((BUSY_SET.into(), "1003".into())));
    assert_eq!(is_feature(&s, "*91"), Some((BUSY_CANCEL.into(), String::new())));
    assert_eq!(is_feature(&s, "*52+15551234"), Some((NO_ANSWER_SET.into(), "+15551234".into())));
    assert_eq!(is_feature(&s, "*53"), Some((NO_ANSWER_CANCEL.into(), String::new())));
    assert_eq!(is_feature(&s, "*78"), Some((DND_ON.into(), String::new())));
    assert_eq!(is_feature(&s, "*79"), Some((DND_OFF.into(), String::new())));
    assert_eq!(is_feature(&s, "*7812"), None, "features without an argument are dialled alone");
    assert_eq!(is_feature(&s, "1002"), None);
    assert_eq!(is_feature(&s, "*7"), None);
}

#[test]
fn workspace_codes_replace_defaults_and_disabled_codes_route_as_dialled() {
    let mut tb = base();
    tb.func_codes = vec![
        code(1, "*123", CFU_SET, false),
        code(2, "*90", BUSY_SET, true),
        code(3, "*79", "FS_DEST_MCASTS", false),
    ];
    tb.routes = vec![route_rec(1, "*", 12, "FS_DEST_GATEWAY", "5")];
    let s = snap(&tb);
    assert_eq!(is_feature(&s, "*1231003"), Some((CFU_SET.into(), "1003".into())));
    assert_eq!(is_feature(&s, "*721003"), None, "the workspace has its own CFU code");
    let through = routed(route(&s, &call("*901003"), MONDAY_10H));
    assert_eq!(
        (through.route_id, through.callee.as_str()),
        (Some(1), "*901003"),
        "disabled: routed as dialled"
    );
    assert_eq!(
        is_feature(&s, "*79"),
        Some(("FS_DEST_MCASTS".into(), String::new())),
        "its row wins the digits"
    );
    assert_eq!(is_feature(&s, "*73"), Some((CFU_CANCEL.into(), String::new())), "other defaults stay");
    // Trunk callers never invoke features.
    let from_trunk = Inbound::new(Source::Trunk(7), "context-1", "+4420", "*1231003");
    assert_eq!(route(&s, &from_trunk, MONDAY_10H).route_id(), Some(1));
    // The route test sees a feature code as no route.
    let test = Inbound::new(Source::Test, "context-1", "", "*1231003");
    assert!(matches!(route(&s, &test, MONDAY_10H), Plan::Feature(_)));
    assert_eq!(route(&s, &test, MONDAY_10H).route_id(), None);
}

/// Agents 1001 and 1002 of the base, 1003, a route of `1` to the dialled
/// extension, a route of `0` out through gateway 5, and agent 1002's
/// forwarding set by `set`.
fn forwarding(set: &[(&'static str, store::Value)]) -> Snapshot {
    let mut tb = base();
    tb.agents.push(rec(3, &[("username", t("1003")), ("name", t("Carol"))]));
    for (k, v) in set {
        tb.agents[1].values.insert(k, v.clone());
    }
    tb.routes = vec![route_rec(1, "1", 4, "FS_DEST_USER", ""), route_rec(2, "0", 20, "FS_DEST_GATEWAY", "5")];
    tb.dods = vec![rec(1, &[("extn", t("1002")), ("line_number", t("+15552222"))])];
    tb.numbers = vec![rec(9, &[("line_number", t("88002")), ("agent_id", i(2))])];
    snap(&tb)
}

fn agent(n: i64, ext: &str) -> Target {
    Target::Agent { agent_id: n, extension: ext.into() }
}

#[test]
fn forwarding_always_routes_the_forward_number_as_the_agent() {
    let s = forwarding(&[("forward_always", t("1003")), ("forward_busy", t("0999"))]);
    let r = routed(route(&s, &call("1002"), MONDAY_10H));
    assert_eq!((r.target, r.caller.as_str(), r.hops), (agent(3, "1003"), "1001", 2));
    let from_did = Inbound::new(Source::Trunk(7), "context-2", "+4420", "88002");
    assert_eq!(routed(route(&s, &from_did, MONDAY_10H)).target, agent(3, "1003"), "a DID's agent too");
    // Out through a gateway: the forwarding agent's DOD shows.
    let s = forwarding(&[("forward_always", t("0123"))]);
    let r = routed(route(&s, &call("1002"), MONDAY_10H));
    assert_eq!((r.route_id, r.callee.as_str(), r.caller.as_str()), (Some(2), "0123", "+15552222"));
    // A forward number is never a feature code.
    let s = forwarding(&[("forward_always", t("*78"))]);
    assert_eq!(rejected(route(&s, &call("1002"), MONDAY_10H)).status, 404);
    // Without forwarding the plan carries the busy and no-answer numbers.
    let s = forwarding(&[("forward_busy", t("1003")), ("forward_no_answer", t("0777"))]);
    let r = routed(route(&s, &call("1002"), MONDAY_10H));
    assert_eq!(r.target, agent(2, "1002"));
    assert_eq!((r.forward_busy.as_deref(), r.forward_no_answer.as_deref()), (Some("1003"), Some("0777")));
    let other = routed(route(&s, &call("1003"), MONDAY_10H));
    assert_eq!((other.forward_busy, other.forward_no_answer), (None, None));
}

#[test]
fn do_not_disturb_is_busy_or_the_busy_forward() {
    let s = forwarding(&[("dnd", i(1))]);
    let busy = rejected(route(&s, &call("1002"), MONDAY_10H));
    assert_eq!((busy.status, busy.cause, busy.route_id), (486, "USER_BUSY", Some(1)));
    assert!(busy.reason.contains("do-not-disturb"), "{}", busy.reason);
    let s = forwarding(&[("dnd", i(1)), ("forward_busy", t("1003"))]);
    assert_eq!(routed(route(&s, &call("1002"), MONDAY_10H)).target, agent(3, "1003"));
    let s = forwarding(&[("dnd", i(1)), ("forward_always", t("1001"))]);
    assert_eq!(routed(route(&s, &call("1002"), MONDAY_10H)).target, agent(1, "1001"), "always wins");
    let s = forwarding(&[("dnd", i(0))]);
    assert_eq!(routed(route(&s, &call("1002"), MONDAY_10H)).target, agent(2, "1002"));
}

#[test]
fn forwarding_loops_stop_at_the_hop_limit() {
    let mut tb = base();
    tb.agents[0].values.insert("forward_always", t("1002"));
    tb.agents[1].values.insert("forward_always", t("1001"));
    tb.routes = vec![route_rec(1, "1", 4, "FS_DEST_USER", "")];
    let s = snap(&tb);
    let r = rejected(route(&s, &call("1002"), MONDAY_10H));
    assert_eq!((r.status, r.cause), (483, "EXCHANGE_ROUTING_ERROR"));
}

/// Agent 1001 in domain 1 whose policies are `policies` (JSON), numbers
/// `+15550001` (trunk 7), `+15550002` (no trunk), `+15550003` (disabled
/// trunk 10), a route of `+` and one of `1`.
fn domain(policies: &str) -> Snapshot {
    let mut tb = base();
    tb.agents[0].values.insert("domain_id", i(1));
    tb.domains = vec![rec(1, &[("name", t("d")), ("egress_policies", t(policies))])];
    tb.numbers = vec![
        rec(20, &[("line_number", t("+15550001")), ("trunk_id", i(7))]),
        rec(21, &[("line_number", t("+15550002"))]),
        rec(22, &[("line_number", t("+15550003")), ("trunk_id", i(10))]),
    ];
    tb.routes = vec![route_rec(1, "+", 20, "FS_DEST_GATEWAY", "5"), route_rec(2, "1", 4, "FS_DEST_USER", "")];
    snap(&tb)
}

#[test]
fn egress_policies_send_agents_calls_out_through_the_numbers_trunk() {
    let s = domain(
        r#"[{"rule":"(","numberRef":"ref-20"},{"rule":"^\\+1","numberRef":"ref-20"},
            {"rule":"^\\+44","numberRef":"ref-21"},{"rule":"^\\+33","numberRef":"ref-22"},
            {"rule":"^\\+49","numberRef":"ref-99"},{"rule":".*","numberRef":"ref-20"}]"#,
    );
    assert!(s.skipped.iter().any(|l| l.contains("does not compile")), "{:?}", s.skipped);
    let r = routed(route(&s, &call("+14155550100"), MONDAY_10H));
    assert_eq!(r.target, Target::Trunk { trunk_id: 7, remote_addr: "10.0.0.7".into() });
    assert_eq!((r.caller.as_str(), r.callee.as_str(), r.route_id), ("+15550001", "+14155550100", None));
    let none = rejected(route(&s, &call("+442071234567"), MONDAY_10H));
    assert_eq!(none.status, 503, "a number without a trunk: {}", none.reason);
    assert_eq!(rejected(route(&s, &call("+33123"), MONDAY_10H)).status, 503, "a disabled trunk");
    assert_eq!(rejected(route(&s, &call("+49123"), MONDAY_10H)).status, 410, "a number gone");
    assert_eq!(
        routed(route(&s, &call("5551234"), MONDAY_10H)).target,
        Target::Trunk { trunk_id: 7, remote_addr: "10.0.0.7".into() },
        "the catch-all rule"
    );
    // Extensions first: an agent's extension never goes out.
    assert_eq!(routed(route(&s, &call("1002"), MONDAY_10H)).target, agent(2, "1002"));
    // Agents outside the domain, trunks and the route test use the routes.
    let bob = Inbound::new(Source::Agent(2), "context-1", "1002", "+14155550100");
    assert_eq!(route(&s, &bob, MONDAY_10H).route_id(), Some(1));
    let test = Inbound::new(Source::Test, "context-1", "", "+14155550100");
    assert_eq!(route(&s, &test, MONDAY_10H).route_id(), Some(1));
}

#[test]
fn a_domain_without_a_matching_policy_uses_the_routes() {
    let s = domain(r#"[{"rule":"^00","numberRef":"ref-20"}]"#);
    assert_eq!(route(&s, &call("+14155550100"), MONDAY_10H).route_id(), Some(1));
    assert_eq!(routed(route(&s, &call("00123"), MONDAY_10H)).caller, "+15550001");
    let s = domain("[]");
    assert_eq!(route(&s, &call("+14155550100"), MONDAY_10H).route_id(), Some(1));
}
