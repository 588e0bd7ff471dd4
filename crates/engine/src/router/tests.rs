//! Router tests on plain tables with a fixed time.

use jiff::tz::TimeZone;
use store::{Record, Value};

use super::*;

pub(super) fn rec(id: i64, fields: &[(&'static str, Value)]) -> Record {
    let mut r = Record {
        id,
        r#ref: format!("ref-{id}"),
        workspace_id: Some(1),
        created_at: 0,
        updated_at: 0,
        values: Default::default(),
    };
    for (k, v) in fields {
        r.values.insert(k, v.clone());
    }
    r
}

pub(super) fn t(v: &str) -> Value {
    Value::from(v)
}

pub(super) fn i(v: i64) -> Value {
    Value::Int(v)
}

pub(super) fn route_rec(id: i64, prefix: &str, max: i64, dest_type: &str, dest_uuid: &str) -> Record {
    rec(
        id,
        &[
            ("name", t(&format!("r{id}"))),
            ("prefix", t(prefix)),
            ("max_length", i(max)),
            ("context", t("context-1")),
            ("dest_type", t(dest_type)),
            ("dest_uuid", t(dest_uuid)),
        ],
    )
}

/// Monday 2024-01-01 10:00:00 UTC.
pub(super) const MONDAY_10H: i64 = 1_704_103_200_000;
/// Monday 2024-01-01 20:00:00 UTC.
const MONDAY_20H: i64 = MONDAY_10H + 10 * 3_600_000;

pub(super) fn base() -> Tables {
    Tables {
        contexts: vec![rec(1, &[("key", t("context-1"))]), rec(2, &[("key", t("context-2"))])],
        agents: vec![
            rec(1, &[("username", t("1001")), ("name", t("Alice")), ("context", t("context-1"))]),
            rec(2, &[("username", t("1002")), ("name", t("Bob"))]),
        ],
        gateways: vec![rec(5, &[("name", t("gw")), ("realm", t("gw.example.com"))])],
        trunks: vec![
            rec(7, &[("name", t("t7")), ("remote_addr", t("10.0.0.7")), ("source", t("context-2"))]),
            rec(8, &[("name", t("t8")), ("remote_addr", t("sip:10.0.0.8:5070")), ("source", t("context-9"))]),
            rec(9, &[("name", t("t9")), ("remote_addr", t("10.0.0.8")), ("enabled", i(1))]),
            rec(10, &[("name", t("off")), ("remote_addr", t("10.0.0.10")), ("enabled", i(0))]),
        ],
        ..Tables::default()
    }
}

pub(super) fn snap(tables: &Tables) -> Snapshot {
    Snapshot::build(1, tables, TimeZone::UTC)
}

pub(super) fn call(callee: &str) -> Inbound {
    Inbound::new(Source::Agent(1), "context-1", "1001", callee)
}

pub(super) fn routed(plan: Plan) -> Routed {
    match plan {
        Plan::Route(r) => *r,
        other => panic!("not routed: {other:?}"),
    }
}

pub(super) fn rejected(plan: Plan) -> Reject {
    match plan {
        Plan::Reject(r) => r,
        other => panic!("not rejected: {other:?}"),
    }
}

#[test]
fn longest_prefix_within_max_length_and_disabled_never_match() {
    let mut tb = base();
    tb.routes = vec![
        route_rec(1, "1", 12, "FS_DEST_USER", ""),
        route_rec(2, "100", 4, "FS_DEST_GATEWAY", "5"),
        route_rec(3, "", 20, "FS_DEST_GATEWAY", "5"),
        route_rec(4, "9", 5, "FS_DEST_GATEWAY", "5"),
        route_rec(5, "9", 12, "FS_DEST_GATEWAY", "5"),
        route_rec(6, "90", 12, "FS_DEST_GATEWAY", "5"),
    ];
    tb.routes[5].values.insert("disabled", i(1));
    let s = snap(&tb);
    let took = |n: &str| route(&s, &call(n), MONDAY_10H).route_id();
    assert_eq!(took("1001"), Some(2), "longest prefix");
    assert_eq!(took("10012"), Some(1), "too long for 100, back to 1");
    assert_eq!(took("2001"), Some(3), "empty prefix catches the rest");
    assert_eq!(took("9012"), Some(4), "disabled 90 never matches; narrower 9 wins");
    assert_eq!(took("901234"), Some(5));
    assert_eq!(took(&"1".repeat(21)), None);
    let no = rejected(route(&s, &call(&"1".repeat(21)), MONDAY_10H));
    assert_eq!((no.status, no.cause), (404, "NO_ROUTE_DESTINATION"));
    let other = rejected(route(&s, &Inbound::new(Source::Test, "context-2", "", "1001"), MONDAY_10H));
    assert_eq!(other.status, 404, "routes belong to their context");
    // Same prefix and length: the older route.
    let mut twins = base();
    twins.routes = vec![route_rec(7, "5", 8, "FS_DEST_IP", ""), route_rec(4, "5", 8, "FS_DEST_IP", "")];
    assert_eq!(snap(&twins).choose("context-1", "55").map(|r| r.id), Some(4));
}

#[test]
fn index_agrees_with_the_plain_rule_on_generated_tables() {
    // A small xorshift so the test is the same every run.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..20 {
        let mut tb = base();
        for id in 1..=200 {
            let len = next(5) as usize;
            let prefix: String = (0..len).map(|_| char::from(b'0' + next(3) as u8)).collect();
            let mut r = route_rec(id, &prefix, (len as i64 + next(6) as i64).max(1), "FS_DEST_IP", "");
            if next(10) == 0 {
                r.values.insert("disabled", i(1));
            }
            tb.routes.push(r);
        }
        let s = snap(&tb);
        for _ in 0..300 {
            let len = 1 + next(9) as usize;
            let number: String = (0..len).map(|_| char::from(b'0' + next(3) as u8)).collect();
            let plain = select::choose(&tb.routes, &number).map(|r| r.id);
            assert_eq!(s.choose("context-1", &number).map(|r| r.id), plain, "round {round}, {number}");
        }
    }
}

#[test]
fn numbers_and_hotlines_come_first() {
    let mut tb = base();
    tb.routes = vec![route_rec(1, "", 20, "FS_DEST_GATEWAY", "5")];
    tb.applications = vec![rec(3, &[("name", t("app"))])];
    tb.numbers = vec![
        rec(1, &[("line_number", t("+15550001")), ("agent_id", i(2))]),
        rec(2, &[("line_number", t("+15550002")), ("application_id", i(3))]),
        rec(3, &[("line_number", t("88001")), ("numbers", t("1001"))]),
        rec(4, &[("line_number", t("88002")), ("numbers", t("1001,1002,1999"))]),
        rec(5, &[("line_number", t("88003"))]),
        rec(6, &[("line_number", t("88004")), ("application_id", i(99))]),
    ];
    let s = snap(&tb);
    let at = |n: &str| route(&s, &Inbound::new(Source::Trunk(7), "context-2", "+4420", n), MONDAY_10H);
    let r = routed(at("+15550001"));
    assert_eq!(
        (r.target, r.number_id, r.route_id),
        (Target::Agent { agent_id: 2, extension: "1002".into() }, Some(1), None)
    );
    assert_eq!(routed(at("+15550002")).target, Target::Application(3));
    assert_eq!(routed(at("15550002")).number_id, Some(2), "the same digits without +");
    assert_eq!(routed(at("88001")).target, Target::Agent { agent_id: 1, extension: "1001".into() });
    let Target::Extensions { ring, extensions } = routed(at("88002")).target else { panic!("extensions") };
    assert_eq!(ring, Ring::Together);
    assert_eq!(extensions.iter().map(|e| e.agent_id).collect::<Vec<_>>(), [Some(1), Some(2), None]);
    // A number with no handler falls through to the routes (none in context-2).
    assert_eq!(rejected(at("88003")).status, 404);
    let r = routed(route(&s, &call("88003"), MONDAY_10H));
    assert_eq!(r.route_id, Some(1));
    // A number whose handler is gone: 410, never a silent drop.
    let gone = rejected(at("88004"));
    assert_eq!((gone.status, gone.cause), (410, "NUMBER_CHANGED"));
    assert!(gone.reason.contains("application 99"), "{}", gone.reason);
}

fn with_list(list_type: i64, who: i64, numbers: &[&str]) -> Snapshot {
    let mut tb = base();
    let mut r = route_rec(1, "", 20, "FS_DEST_GATEWAY", "5");
    r.values.insert("blacklist", t("4"));
    tb.routes = vec![r];
    tb.blacklists =
        vec![rec(4, &[("name", t("l")), ("list_type", i(list_type)), ("limit_user_type", i(who))])];
    tb.params = numbers
        .iter()
        .enumerate()
        .map(|(n, v)| {
            rec(100 + n as i64, &[("realm", t("BLACKLIST")), ("ref_id", i(4)), ("k", t("n")), ("v", t(v))])
        })
        .collect();
    snap(&tb)
}

fn passes(s: &Snapshot, caller: &str, callee: &str) -> bool {
    match route(s, &Inbound::new(Source::Test, "context-1", caller, callee), MONDAY_10H) {
        Plan::Route(_) => true,
        Plan::Reject(r) => {
            assert_eq!((r.status, r.cause, r.route_id), (403, "CALL_REJECTED", Some(1)));
            false
        }
        Plan::Feature(f) => panic!("a feature: {f:?}"),
    }
}

#[test]
fn black_and_white_lists_each_type() {
    let black_caller = with_list(0, 0, &["139"]);
    assert!(!passes(&black_caller, "13900001111", "2000"), "prefix match on the caller");
    assert!(passes(&black_caller, "13800001111", "2000"));
    assert!(passes(&black_caller, "2000", "13900001111"), "callee not checked");
    let black_callee = with_list(0, 1, &["900"]);
    assert!(!passes(&black_callee, "1", "9001"));
    assert!(passes(&black_callee, "9001", "1"));
    let black_both = with_list(0, 2, &["666"]);
    assert!(!passes(&black_both, "6661", "1") && !passes(&black_both, "1", "6661"));
    assert!(passes(&black_both, "1", "2"));
    let white_caller = with_list(1, 0, &["1001"]);
    assert!(passes(&white_caller, "1001", "5"));
    assert!(!passes(&white_caller, "1002", "5"));
    let white_callee = with_list(1, 1, &["5"]);
    assert!(passes(&white_callee, "x", "55") && !passes(&white_callee, "5", "66"));
    let white_both = with_list(1, 2, &["1", "2"]);
    assert!(passes(&white_both, "10", "20"));
    assert!(!passes(&white_both, "10", "30"), "both must be on a white list");
}

#[test]
fn time_windows_replace_the_destination_while_they_hold() {
    let mut tb = base();
    tb.routes = vec![route_rec(1, "", 20, "FS_DEST_GATEWAY", "5")];
    tb.ivrs = vec![rec(2, &[("name", t("night"))])];
    tb.time_recurrences = vec![
        // Weekdays 18:00 for 14 hours: the night IVR.
        rec(
            11,
            &[
                ("route_id", i(1)),
                ("time_recurrence", t("20230102T180000|PT14H|daily||1|MO,TU,WE,TH,FR")),
                ("dest_type", t("FS_DEST_IVR")),
                ("dest_uuid", t("2")),
                ("body", t("night")),
            ],
        ),
        rec(12, &[("route_id", i(1)), ("time_recurrence", t("garbage")), ("dest_type", t("FS_DEST_IP"))]),
    ];
    let s = snap(&tb);
    assert_eq!(s.skipped.len(), 1, "{:?}", s.skipped);
    let day = routed(route(&s, &call("5"), MONDAY_10H));
    assert_eq!(
        (day.window_id, &day.target),
        (None, &Target::Gateway { gateway_id: 5, name: "gw".into(), realm: "gw.example.com".into() })
    );
    let night = routed(route(&s, &call("5"), MONDAY_20H));
    assert_eq!((night.window_id, night.target, night.body.as_str()), (Some(11), Target::Ivr(2), "night"));
    // The same instant read in another zone: 20:00 UTC is 10:00 in Honolulu.
    if let Ok(hnl) = TimeZone::get("Pacific/Honolulu") {
        let s = Snapshot::build(1, &tb, hnl);
        assert_eq!(routed(route(&s, &call("5"), MONDAY_20H)).window_id, None);
    }
}

#[test]
fn work_time_templates_send_elsewhere_outside_working_hours() {
    let mut tb = base();
    let mut r = route_rec(1, "", 20, "FS_DEST_USER", "1001");
    r.values.insert("outdest_type", t("FS_DEST_IP"));
    tb.routes = vec![r];
    tb.time_templates = vec![rec(3, &[("name", t("office"))])];
    tb.template_recurrences = vec![rec(
        1,
        &[("template_id", i(3)), ("time_recurrence", t("20230102T090000|PT8H|daily||1|MO,TU,WE,TH,FR"))],
    )];
    tb.params = vec![
        rec(1, &[("realm", t("ROUTE")), ("ref_id", i(1)), ("k", t("time_template")), ("v", t("office"))]),
        rec(
            2,
            &[
                ("realm", t("ROUTE")),
                ("ref_id", i(1)),
                ("k", t("outbody")),
                ("v", t("sip:voicemail@10.1.1.1")),
            ],
        ),
    ];
    let s = snap(&tb);
    assert!(matches!(routed(route(&s, &call("5"), MONDAY_10H)).target, Target::Agent { agent_id: 1, .. }));
    assert_eq!(
        routed(route(&s, &call("5"), MONDAY_20H)).target,
        Target::Uri("sip:voicemail@10.1.1.1".into())
    );
}

#[test]
fn translation_rewrites_callee_and_caller() {
    let mut tb = base();
    let mut r = route_rec(1, "0", 20, "FS_DEST_GATEWAY", "5");
    r.values.insert("dnc", t("intl"));
    r.values.insert("sdnc", t("1:+861"));
    let mut exact = route_rec(2, "7", 20, "FS_DEST_GATEWAY", "5");
    exact.values.insert("dnc", t("6"));
    tb.routes = vec![r, exact];
    tb.number_translations = vec![
        rec(5, &[("name", t("intl")), ("type", t("prefix"))]),
        rec(6, &[("name", t("short")), ("type", t("exact"))]),
    ];
    tb.nts_numbers = vec![
        rec(1, &[("translation_id", i(5)), ("original_number", t("00")), ("nts_number", t("+"))]),
        rec(2, &[("translation_id", i(5)), ("original_number", t("0")), ("nts_number", t("+86"))]),
        rec(3, &[("translation_id", i(6)), ("original_number", t("7000")), ("nts_number", t("+15551234"))]),
    ];
    let s = snap(&tb);
    let a = routed(route(&s, &Inbound::new(Source::Test, "context-1", "1001", "004420"), MONDAY_10H));
    assert_eq!((a.callee.as_str(), a.caller.as_str()), ("+4420", "+861001"));
    let b = routed(route(&s, &call("013800"), MONDAY_10H));
    assert_eq!(b.callee, "+8613800");
    assert_eq!(routed(route(&s, &call("7000"), MONDAY_10H)).callee, "+15551234", "exact table by id");
    assert_eq!(routed(route(&s, &call("7001"), MONDAY_10H)).callee, "7001", "exact: no partial match");
}

fn param(id: i64, route: i64, o: i64, k: &str, v: &str) -> Record {
    rec(id, &[("realm", t("ROUTE")), ("ref_id", i(route)), ("o", i(o)), ("k", t(k)), ("v", t(v))])
}

#[test]
fn params_codecs_recording_and_media_are_carried() {
    let mut tb = base();
    let mut r = route_rec(1, "", 20, "FS_DEST_GATEWAY", "5");
    r.values.insert("auto_record", i(1));
    r.values.insert("proxy_media", i(0));
    r.values.insert("media_codec", t("PCMA,PCMU"));
    tb.routes = vec![r, route_rec(2, "9", 20, "FS_DEST_GATEWAY", "5")];
    tb.params = vec![
        param(1, 1, 2, "set", "effective_caller_id_name=Sales"),
        param(2, 1, 1, "set", "effective_caller_id_number=+15550000"),
        param(3, 1, 3, "call_timeout", "25"),
        param(4, 1, 4, "set", "sip_h_X-Account=42"),
        param(5, 1, 5, "set", "unknown_thing=1"),
        {
            let mut p = param(6, 1, 6, "set", "effective_caller_id_name=Disabled");
            p.values.insert("disabled", i(1));
            p
        },
    ];
    let s = snap(&tb);
    let r = routed(route(&s, &call("5"), MONDAY_10H));
    assert_eq!((r.caller.as_str(), r.caller_name.as_str()), ("+15550000", "Sales"));
    assert_eq!((r.ring_timeout, r.record, r.proxy_media), (Some(25), true, false));
    assert_eq!(r.codecs, ["PCMA", "PCMU"]);
    assert_eq!(r.headers, [("X-Account".to_owned(), "42".to_owned())]);
    let plain = routed(route(&s, &call("95"), MONDAY_10H));
    assert_eq!(
        (plain.record, plain.proxy_media, plain.codecs.len(), plain.caller.as_str()),
        (false, true, 0, "1001")
    );
}

#[test]
fn missing_destinations_are_refused_clearly() {
    let mut tb = base();
    tb.routes = vec![
        route_rec(1, "1", 20, "FS_DEST_GATEWAY", "77"),
        route_rec(2, "2", 20, "FS_DEST_CLUSTER_TRUNK_GROUP", "3"),
        route_rec(3, "3", 20, "FS_DEST_CLUSTER_TRUNK_GROUP", "4"),
        route_rec(4, "4", 20, "FS_DEST_USER", ""),
        route_rec(5, "5", 20, "FS_DEST_IVR", "1"),
        route_rec(6, "6", 20, "FS_DEST_IP", ""),
    ];
    tb.trunk_groups = vec![rec(4, &[("name", t("empty")), ("strategy", t("RR"))])];
    let s = snap(&tb);
    let no = |n: &str| rejected(route(&s, &call(n), MONDAY_10H));
    let gw = no("1");
    assert_eq!((gw.status, gw.cause, gw.route_id), (410, "NUMBER_CHANGED", Some(1)));
    assert!(gw.reason.contains("gateway '77' no longer exists"), "{}", gw.reason);
    assert_eq!(no("2").status, 410);
    assert_eq!((no("3").status, no("3").cause), (503, "NORMAL_TEMPORARY_FAILURE"));
    assert_eq!((no("4999").status, no("4999").cause), (404, "UNALLOCATED_NUMBER"));
    assert_eq!(no("5").status, 410);
    assert_eq!(no("6").status, 502);
}

#[test]
fn loop_guard_stops_at_the_hop_limit() {
    let mut tb = base();
    tb.routes = vec![route_rec(1, "", 20, "FS_DEST_GATEWAY", "5")];
    let s = snap(&tb);
    let mut c = call("5");
    c.hops = MAX_HOPS - 1;
    assert_eq!(routed(route(&s, &c, MONDAY_10H)).hops, MAX_HOPS);
    c.hops = MAX_HOPS;
    let r = rejected(route(&s, &c, MONDAY_10H));
    assert_eq!((r.status, r.cause), (483, "EXCHANGE_ROUTING_ERROR"));
}

#[test]
fn destinations_resolve_to_typed_targets() {
    let mut tb = base();
    tb.routes = vec![
        route_rec(1, "1", 20, "FS_DEST_USER", ""),
        route_rec(2, "2", 20, "FS_DEST_CLUSTER_TRUNK", "7"),
        route_rec(3, "3", 20, "FS_DEST_CLUSTER_TRUNK_GROUP", "4"),
        route_rec(4, "4", 20, "FS_DEST_SEQ_EXTNS", ""),
        route_rec(5, "5", 20, "FS_DEST_IP", ""),
        route_rec(6, "6", 20, "FS_DEST_CONFERENCE_ROOM", ""),
        route_rec(7, "7", 20, "FS_DEST_CLUSTER_TRUNK_GROUP", "*9"),
        route_rec(8, "8", 20, "FS_DEST_CLUSTER_TRUNK", "10"),
    ];
    tb.routes[3].values.insert("body", t("1002,1001"));
    tb.routes[4].values.insert("body", t("sip:{}@carrier.example.com"));
    tb.routes[4].values.insert("body", t("sip:carrier.example.com:5080"));
    tb.trunk_groups = vec![rec(4, &[("name", t("g")), ("strategy", t("WEIGHT"))])];
    tb.trunk_group_members = vec![
        rec(1, &[("group_id", i(4)), ("trunk_id", i(9)), ("weight", i(1)), ("priority", i(2))]),
        rec(2, &[("group_id", i(4)), ("trunk_id", i(7)), ("weight", i(3)), ("priority", i(1))]),
        rec(3, &[("group_id", i(4)), ("trunk_id", i(10)), ("weight", i(5)), ("priority", i(0))]),
    ];
    tb.route_codes = vec![rec(1, &[("code", t("*9")), ("tg_id", i(4))])];
    let s = snap(&tb);
    let to = |n: &str| routed(route(&s, &call(n), MONDAY_10H)).target;
    assert_eq!(to("1002"), Target::Agent { agent_id: 2, extension: "1002".into() });
    assert_eq!(to("2"), Target::Trunk { trunk_id: 7, remote_addr: "10.0.0.7".into() });
    let group = Target::TrunkGroup {
        group_id: 4,
        strategy: Strategy::Weight,
        members: vec![
            Member { trunk_id: 7, weight: 3, priority: 1 },
            Member { trunk_id: 9, weight: 1, priority: 2 },
        ],
    };
    assert_eq!(to("3"), group, "disabled trunk 10 left out, by priority");
    assert_eq!(to("7"), group, "a route code names the group");
    let Target::Extensions { ring, extensions } = to("4") else { panic!("extensions") };
    assert_eq!((ring, extensions[0].agent_id, extensions[1].agent_id), (Ring::Sequential, Some(2), Some(1)));
    assert_eq!(to("5"), Target::Uri("sip:carrier.example.com:5080".into()));
    assert_eq!(to("6"), Target::Conference { kind: "FS_DEST_CONFERENCE_ROOM".into(), room: "6".into() });
    assert_eq!(rejected(route(&s, &call("8"), MONDAY_10H)).status, 503, "disabled trunk");
}

#[test]
fn dod_sets_the_caller_of_outbound_calls() {
    let mut tb = base();
    tb.routes =
        vec![route_rec(1, "0", 20, "FS_DEST_GATEWAY", "5"), route_rec(2, "1", 20, "FS_DEST_USER", "")];
    tb.dods = vec![rec(
        1,
        &[("extn", t("1001")), ("line_number", t("+15557777")), ("type", t("GATEWAY")), ("ref_id", i(5))],
    )];
    let s = snap(&tb);
    assert_eq!(routed(route(&s, &call("0123"), MONDAY_10H)).caller, "+15557777");
    assert_eq!(
        routed(route(&s, &call("1002"), MONDAY_10H)).caller,
        "1001",
        "internal calls keep the extension"
    );
    let from_trunk = Inbound::new(Source::Trunk(7), "context-1", "+4420", "0123");
    assert_eq!(routed(route(&s, &from_trunk, MONDAY_10H)).caller, "+4420");
}

#[test]
fn sources_classify_by_address_port_and_acl() {
    let mut tb = base();
    tb.acls = vec![rec(
        1,
        &[("name", t("office")), ("allow", t("[\"192.168.0.0/16\"]")), ("deny", t("[\"192.168.9.0/24\"]"))],
    )];
    tb.trunks.push(rec(11, &[("name", t("acl")), ("acl_id", i(1)), ("source", t("context-3"))]));
    let s = snap(&tb);
    let at = |a: &str| s.trunk_for(a.parse().unwrap_or_else(|_| panic!("{a}")));
    let t7 = at("10.0.0.7:5099").unwrap_or_else(|| panic!("t7"));
    assert_eq!((t7.trunk_id, t7.context.as_str(), t7.matched), (7, "context-2", Matched::Address));
    let t8 = at("10.0.0.8:5070").unwrap_or_else(|| panic!("t8"));
    assert_eq!((t8.trunk_id, t8.context.as_str(), t8.matched), (8, "context-9", Matched::AddressAndPort));
    assert_eq!(at("10.0.0.8:5060").map(|m| m.trunk_id), Some(9), "other ports: the portless trunk");
    assert_eq!(at("10.0.0.10:5060"), None, "disabled trunks never match");
    assert_eq!(at("192.168.1.5:5060").map(|m| (m.trunk_id, m.matched)), Some((11, Matched::Acl)));
    assert_eq!(at("192.168.9.5:5060"), None, "denied");
    assert_eq!(at("[::ffff:10.0.0.7]:5060").map(|m| m.trunk_id), Some(7), "mapped IPv4");
    assert_eq!(at("10.9.9.9:5060"), None);
}
