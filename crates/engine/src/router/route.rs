//! `route`: where a call goes, decided from a snapshot, the call and the
//! time. Pure: no store, no clock, no I/O.

use jiff::Timestamp;
use store::Millis;

use super::plan::{Extension, Inbound, Plan, Reject, Ring, Routed, Source, Target};
use super::snapshot::{Dest, Route, Snapshot};

/// The most times one call may be routed (a route leading back into
/// routing); past it the call is refused with 483.
pub const MAX_HOPS: u32 = 16;

fn reject(status: u16, cause: &'static str, reason: String, route_id: Option<i64>) -> Plan {
    Plan::Reject(Reject { status, cause, reason, route_id })
}

/// Decides where `call` goes at time `now` (ms since the epoch; windows
/// are read in the snapshot's time zone):
///
/// 1. past [`MAX_HOPS`]: 483;
/// 2. an agent (or a route test) dialling an enabled feature code:
///    [`Plan::Feature`];
/// 3. a number (DID, hotline) equal to the callee with an application,
///    agent or extensions decides;
/// 4. an agent of a domain with egress policies dialling a number that is
///    not an extension: the first policy whose rule matches sends the call
///    out through its number's trunk, as that number;
/// 5. else the route of the caller's context ([`Snapshot::choose`]);
///    none: an agent's call to another agent's extension rings it, else
///    404;
/// 6. its black/white list (403), its time windows and work-time template
///    (the destination while one holds), `dnc`/`sdnc`, its params;
/// 7. the destination, resolved to a [`Target`], or 410 when the record it
///    names is gone;
/// 8. a single agent target's forwarding: always (the forward number is
///    routed instead, as that agent dialling it), do-not-disturb (486, or
///    its busy forward), else the busy and no-answer forwards in the plan.
pub fn route(snap: &Snapshot, call: &Inbound, now: Millis) -> Plan {
    decide(snap, call, now, true)
}

/// [`route`], with feature codes looked for or not (a forward number is
/// never a feature).
fn decide(snap: &Snapshot, call: &Inbound, now: Millis, features: bool) -> Plan {
    if call.hops >= MAX_HOPS {
        let reason = format!("call to {} routed {} times: a loop?", call.callee, call.hops);
        return reject(483, "EXCHANGE_ROUTING_ERROR", reason, None);
    }
    if features && matches!(call.source, Source::Agent(_) | Source::Test) {
        if let Some(feature) = snap.feature(&call.callee) {
            return Plan::Feature(feature);
        }
    }
    let plan = destination(snap, call, now);
    forward(snap, plan, now)
}

/// A plan that connects `call` to `target` as dialled, with no route.
fn plain(call: &Inbound, target: Target) -> Routed {
    Routed {
        route_id: None,
        number_id: None,
        window_id: None,
        target,
        body: String::new(),
        callee: call.callee.clone(),
        caller: call.caller.clone(),
        caller_name: call.caller_name.clone(),
        record: false,
        proxy_media: true,
        codecs: Vec::new(),
        ring_timeout: None,
        headers: Vec::new(),
        hops: call.hops + 1,
        forward_busy: None,
        forward_no_answer: None,
    }
}

/// Step 8: what a single agent target's forwarding and do-not-disturb
/// make of `plan`.
fn forward(snap: &Snapshot, plan: Plan, now: Millis) -> Plan {
    let Plan::Route(mut routed) = plan else { return plan };
    let Target::Agent { agent_id, .. } = routed.target else { return Plan::Route(routed) };
    let Some(agent) = snap.agent(agent_id) else { return Plan::Route(routed) };
    let again = |number: &str| {
        let call = Inbound {
            source: Source::Agent(agent.id),
            context: agent.context.clone(),
            caller: routed.caller.clone(),
            caller_name: routed.caller_name.clone(),
            callee: number.to_owned(),
            hops: routed.hops,
        };
        decide(snap, &call, now, false)
    };
    if let Some(number) = &agent.forward_always {
        return again(number);
    }
    if agent.dnd {
        return match &agent.forward_busy {
            Some(number) => again(number),
            None => {
                let reason = format!("agent {} ({}) is on do-not-disturb", agent.username, agent.id);
                reject(486, "USER_BUSY", reason, routed.route_id)
            }
        };
    }
    routed.forward_busy = agent.forward_busy.clone();
    routed.forward_no_answer = agent.forward_no_answer.clone();
    Plan::Route(routed)
}

/// Step 4: the egress policy an agent's call follows, if one matches.
fn egress(snap: &Snapshot, agent_id: i64, call: &Inbound) -> Option<Plan> {
    let domain = snap.agent(agent_id)?.domain_id?;
    if snap.agent_by_extension(&call.callee).is_some() {
        return None;
    }
    let policy = snap.policies(domain).iter().find(|p| p.regex.is_match(&call.callee))?;
    let what = format!("egress policy '{}' of domain {domain}", policy.rule);
    let Some(number) = &policy.number else {
        let reason = format!("{what} names number '{}', which no longer exists", policy.number_ref);
        return Some(reject(410, "NUMBER_CHANGED", reason, None));
    };
    let trunk = match number.trunk_id.map(|t| (t, snap.trunk(t))) {
        None => {
            let reason = format!("{what}: number {} has no trunk", number.line_number);
            return Some(reject(503, "NORMAL_TEMPORARY_FAILURE", reason, None));
        }
        Some((t, None)) => {
            let reason = format!("{what}: trunk {t} of number {} no longer exists", number.line_number);
            return Some(reject(410, "NUMBER_CHANGED", reason, None));
        }
        Some((_, Some(t))) if !t.enabled => {
            let reason = format!("{what}: trunk {} is disabled", t.id);
            return Some(reject(503, "NORMAL_TEMPORARY_FAILURE", reason, None));
        }
        Some((_, Some(t))) => t,
    };
    let mut routed =
        plain(call, Target::Trunk { trunk_id: trunk.id, remote_addr: trunk.remote_addr.clone() });
    routed.caller = number.line_number.clone();
    routed.codecs = trunk.codecs.clone();
    Some(Plan::Route(Box::new(routed)))
}

/// Steps 3 to 7.
fn destination(snap: &Snapshot, call: &Inbound, now: Millis) -> Plan {
    if let Some(number) = snap.number(&call.callee) {
        let target = if let Some(app) = number.application_id {
            Some(if snap.applications.contains(&app) {
                Ok(Target::Application(app))
            } else {
                Err(format!("application {app}"))
            })
        } else if let Some(agent) = number.agent_id {
            Some(match snap.agent(agent) {
                Some(a) => Ok(Target::Agent { agent_id: a.id, extension: a.username.clone() }),
                None => Err(format!("agent {agent}")),
            })
        } else {
            match number.extensions.as_slice() {
                [] => None,
                [one] => Some(extension(snap, one)),
                many => {
                    Some(Ok(Target::Extensions { ring: Ring::Together, extensions: extensions(snap, many) }))
                }
            }
        };
        match target {
            Some(Ok(target)) => {
                return Plan::Route(Box::new(Routed { number_id: Some(number.id), ..plain(call, target) }))
            }
            Some(Err(what)) => {
                let reason = format!("number {} answers to {what}, which no longer exists", call.callee);
                return reject(410, "NUMBER_CHANGED", reason, None);
            }
            None => {}
        }
    }
    if let Source::Agent(agent) = call.source {
        if let Some(plan) = egress(snap, agent, call) {
            return plan;
        }
    }
    let Some(route) = snap.choose(&call.context, &call.callee) else {
        // An agent dialling another agent's extension that no route of its
        // context takes rings that agent.
        if let (Source::Agent(_), Some(agent)) = (&call.source, snap.agent_by_extension(&call.callee)) {
            let target = Target::Agent { agent_id: agent.id, extension: agent.username.clone() };
            return Plan::Route(Box::new(plain(call, target)));
        }
        let reason = format!("no route for {} in {}", call.callee, call.context);
        return reject(404, "NO_ROUTE_DESTINATION", reason, None);
    };
    apply(snap, route, call, now)
}

/// Steps 4 and 5 for the chosen `route`.
fn apply(snap: &Snapshot, route: &Route, call: &Inbound, now: Millis) -> Plan {
    let id = Some(route.id);
    if let Some(list) = route.list.and_then(|l| snap.lists.get(&l)) {
        let checked: Vec<&str> = [(list.caller, call.caller.as_str()), (list.callee, call.callee.as_str())]
            .into_iter()
            .filter_map(|(on, n)| on.then_some(n))
            .collect();
        let blocked = if list.white {
            !checked.iter().all(|n| list.numbers.matches(n))
        } else {
            checked.iter().any(|n| list.numbers.matches(n))
        };
        if blocked {
            let kind = if list.white { "not on white list" } else { "on black list" };
            let reason = format!(
                "call from {} to {} {kind} '{}' (route {})",
                call.caller, call.callee, list.name, route.id
            );
            return reject(403, "CALL_REJECTED", reason, id);
        }
    }
    let local = Timestamp::from_millisecond(now).map(|t| t.to_zoned(snap.tz.clone()).datetime()).ok();
    let mut dest = &route.dest;
    let mut window_id = None;
    if let Some(at) = local {
        if let Some(w) = route.windows.iter().find(|w| w.recurrence.holds(at)) {
            dest = &w.dest;
            window_id = Some(w.id);
        } else if let Some((template, out)) = &route.work_time {
            let working = snap.templates.get(template).is_some_and(|ws| ws.iter().any(|r| r.holds(at)));
            if !working && !out.dest_type.is_empty() {
                dest = out;
            }
        }
    }
    let mut routed = Routed {
        route_id: id,
        number_id: None,
        window_id,
        target: Target::Uri(String::new()),
        body: dest.body.clone(),
        callee: route.dnc.apply(&call.callee),
        caller: route.sdnc.apply(&call.caller),
        caller_name: call.caller_name.clone(),
        record: route.auto_record,
        proxy_media: route.proxy_media,
        codecs: route.codecs.clone(),
        ring_timeout: None,
        headers: Vec::new(),
        hops: call.hops + 1,
        forward_busy: None,
        forward_no_answer: None,
    };
    for (k, v) in &route.params {
        set_variable(&mut routed, k, v);
    }
    routed.target = match target(snap, dest, &routed.callee) {
        Ok(t) => t,
        Err((status, cause, what)) => {
            let reason = format!("route {} ({}) for {}: {what}", route.id, route.name, call.callee);
            return reject(status, cause, reason, id);
        }
    };
    if let (Source::Agent(agent), true) = (&call.source, outbound(&routed.target)) {
        if let Some(dod) = snap.agent(*agent).and_then(|a| snap.dods.get(&a.username)).and_then(|ds| {
            let gw = match routed.target {
                Target::Gateway { gateway_id, .. } => Some(gateway_id),
                _ => None,
            };
            ds.iter()
                .find(|d| d.gateway_id.is_some() && d.gateway_id == gw)
                .or_else(|| ds.iter().find(|d| d.gateway_id.is_none()))
        }) {
            routed.caller = dod.line_number.clone();
        }
    }
    Plan::Route(Box::new(routed))
}

/// Whether a call to `target` leaves the PBX (DOD applies).
fn outbound(target: &Target) -> bool {
    matches!(
        target,
        Target::Gateway { .. } | Target::Trunk { .. } | Target::TrunkGroup { .. } | Target::Uri(_)
    )
}

/// Applies one route param: `set var=value` (also `export`), or `var`
/// with the value in `v`. Unknown variables are ignored.
fn set_variable(routed: &mut Routed, k: &str, v: &str) {
    let (name, value) = match k {
        "set" | "export" => match v.split_once('=') {
            Some((n, val)) => (n.trim(), val.trim()),
            None => return,
        },
        _ => (k, v),
    };
    match name {
        "effective_caller_id_number" | "origination_caller_id_number" => routed.caller = value.to_owned(),
        "effective_caller_id_name" | "origination_caller_id_name" => routed.caller_name = value.to_owned(),
        "call_timeout" | "originate_timeout" => routed.ring_timeout = value.parse().ok(),
        "absolute_codec_string" | "codec_string" => {
            routed.codecs =
                value.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect()
        }
        "proxy_media" => routed.proxy_media = truthy(value),
        "bypass_media" => routed.proxy_media = !truthy(value),
        "record_session" | "auto_record" => routed.record = truthy(value) || value.contains('/'),
        n if n.starts_with("sip_h_") && n.len() > 6 => {
            routed.headers.push((n[6..].to_owned(), value.to_owned()))
        }
        _ => {}
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on" | "t")
}

fn extension(snap: &Snapshot, ext: &str) -> Result<Target, String> {
    match snap.agent_by_extension(ext) {
        Some(a) => Ok(Target::Agent { agent_id: a.id, extension: a.username.clone() }),
        None => Err(format!("extension {ext}")),
    }
}

fn extensions(snap: &Snapshot, list: &[String]) -> Vec<Extension> {
    list.iter()
        .map(|e| Extension { extension: e.clone(), agent_id: snap.agent_by_extension(e).map(|a| a.id) })
        .collect()
}

fn split_list(text: &str) -> Vec<String> {
    text.split([',', '|', ' ']).map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect()
}

type Failure = (u16, &'static str, String);

fn gone(what: String) -> Failure {
    (410, "NUMBER_CHANGED", format!("{what} no longer exists"))
}

fn id(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// The typed target of `dest` for a call to `callee`.
fn target(snap: &Snapshot, dest: &Dest, callee: &str) -> Result<Target, Failure> {
    let named = || if dest.dest_uuid.is_empty() { dest.body.as_str() } else { dest.dest_uuid.as_str() };
    match dest.dest_type.as_str() {
        "FS_DEST_USER" => {
            let ext = if dest.dest_uuid.is_empty() { callee } else { dest.dest_uuid.as_str() };
            match snap.agent_by_extension(ext) {
                Some(a) => Ok(Target::Agent { agent_id: a.id, extension: a.username.clone() }),
                None => Err((404, "UNALLOCATED_NUMBER", format!("no agent has extension {ext}"))),
            }
        }
        "FS_DEST_GATEWAY" | "FS_DEST_USERGW" => match id(named()).and_then(|g| snap.gateways.get(&g)) {
            Some(g) => Ok(Target::Gateway { gateway_id: g.id, name: g.name.clone(), realm: g.realm.clone() }),
            None => Err(gone(format!("gateway '{}'", named()))),
        },
        "FS_DEST_CLUSTER_TRUNK" => match id(named()).and_then(|t| snap.trunk(t)) {
            Some(t) if t.enabled => Ok(Target::Trunk { trunk_id: t.id, remote_addr: t.remote_addr.clone() }),
            Some(t) => Err((503, "NORMAL_TEMPORARY_FAILURE", format!("trunk {} is disabled", t.id))),
            None => Err(gone(format!("trunk '{}'", named()))),
        },
        "FS_DEST_CLUSTER_TRUNK_GROUP" => {
            let group = id(named()).and_then(|g| snap.group(g)).or_else(|| snap.route_code(named()));
            match group {
                Some(g) if g.members.is_empty() => Err((
                    503,
                    "NORMAL_TEMPORARY_FAILURE",
                    format!("trunk group {} has no enabled members", g.id),
                )),
                Some(g) => Ok(Target::TrunkGroup {
                    group_id: g.id,
                    strategy: g.strategy,
                    members: g.members.clone(),
                }),
                None => Err(gone(format!("trunk group '{}'", named()))),
            }
        }
        "FS_DEST_IP" => {
            let uri = if dest.body.is_empty() { dest.dest_uuid.as_str() } else { dest.body.as_str() };
            match super::address::SipAddress::parse(uri.trim()) {
                Ok(_) => Ok(Target::Uri(uri.trim().to_owned())),
                Err(_) => Err((502, "INVALID_NUMBER_FORMAT", format!("'{uri}' is not a SIP address"))),
            }
        }
        "FS_DEST_RING_EXTNS" | "FS_DEST_SEQ_EXTNS" => {
            let list = split_list(if dest.body.is_empty() { &dest.dest_uuid } else { &dest.body });
            if list.is_empty() {
                return Err((404, "UNALLOCATED_NUMBER", "no extensions to ring".to_owned()));
            }
            let ring = if dest.dest_type == "FS_DEST_RING_EXTNS" { Ring::Together } else { Ring::Sequential };
            Ok(Target::Extensions { ring, extensions: extensions(snap, &list) })
        }
        "FS_DEST_IVR" => match id(named()).filter(|i| snap.ivrs.contains(i)) {
            Some(i) => Ok(Target::Ivr(i)),
            None => Err(gone(format!("IVR '{}'", named()))),
        },
        "FS_DEST_IVRBLOCK" => match id(named()).filter(|i| snap.blocks.contains(i)) {
            Some(i) => Ok(Target::Block(i)),
            None => Err(gone(format!("block '{}'", named()))),
        },
        "FS_DEST_SCRIPT" => match id(named()).filter(|i| snap.applications.contains(i)) {
            Some(i) => Ok(Target::Application(i)),
            None => Err(gone(format!("application '{}'", named()))),
        },
        kind @ ("FS_DEST_CONFERENCE"
        | "FS_DEST_CONFERENCE_ROOM"
        | "FS_DEST_USER_CONFERENCE"
        | "FS_DEST_MEETING"
        | "FS_DEST_MEETING_ROOM") => {
            let room = if named().is_empty() { callee } else { named() };
            Ok(Target::Conference { kind: kind.to_owned(), room: room.to_owned() })
        }
        other => Ok(Target::Other { dest_type: other.to_owned(), dest_uuid: dest.dest_uuid.clone() }),
    }
}
