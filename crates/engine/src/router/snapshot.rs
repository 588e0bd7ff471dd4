//! A workspace's routing configuration in memory, built once from the
//! store's records and then only read: routes per context in a prefix
//! index, numbers, agents, lists, time windows, translations, trunks,
//! groups and gateways in hash maps.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use jiff::tz::TimeZone;
use store::schema::*;
use store::{Db, Query, Record, Resource, Scope, StoreError};

use super::address::SipAddress;
use super::features::Features;
use super::plan::Feature;
use super::policies::Policy;
use super::prefix::{PrefixMap, PrefixSet};
use super::translate::{Rewrite, Table};
use crate::recurrence::Recurrence;

/// The records a snapshot is built from, one vector per table.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// `contexts`.
    pub contexts: Vec<Record>,
    /// `routes`.
    pub routes: Vec<Record>,
    /// `params` (routes' and lists' rows are used).
    pub params: Vec<Record>,
    /// `time_recurrences`.
    pub time_recurrences: Vec<Record>,
    /// `time_templates`.
    pub time_templates: Vec<Record>,
    /// `template_recurrences`.
    pub template_recurrences: Vec<Record>,
    /// `numbers` (DIDs and hotlines).
    pub numbers: Vec<Record>,
    /// `agents`.
    pub agents: Vec<Record>,
    /// `blacklists`.
    pub blacklists: Vec<Record>,
    /// `number_translations`.
    pub number_translations: Vec<Record>,
    /// `nts_numbers`.
    pub nts_numbers: Vec<Record>,
    /// `gateways`.
    pub gateways: Vec<Record>,
    /// `trunks`.
    pub trunks: Vec<Record>,
    /// `trunk_groups`.
    pub trunk_groups: Vec<Record>,
    /// `trunk_group_members`.
    pub trunk_group_members: Vec<Record>,
    /// `route_codes`.
    pub route_codes: Vec<Record>,
    /// `dods`.
    pub dods: Vec<Record>,
    /// `acls`.
    pub acls: Vec<Record>,
    /// `applications`.
    pub applications: Vec<Record>,
    /// `ivrs`.
    pub ivrs: Vec<Record>,
    /// `blocks`.
    pub blocks: Vec<Record>,
    /// `func_codes` (feature codes).
    pub func_codes: Vec<Record>,
    /// `domains` (their egress policies).
    pub domains: Vec<Record>,
}

impl Tables {
    /// Reads every table of workspace `workspace_id`.
    pub async fn load(db: &Db, workspace_id: i64) -> Result<Tables, StoreError> {
        let scope = Scope::Workspace(workspace_id);
        let all = |res: &'static Resource| async move {
            Ok::<_, StoreError>(db.list(res, scope, &Query::default()).await?.records)
        };
        Ok(Tables {
            contexts: all(&CONTEXTS).await?,
            routes: all(&ROUTES).await?,
            params: all(&PARAMS).await?,
            time_recurrences: all(&TIME_RECURRENCES).await?,
            time_templates: all(&TIME_TEMPLATES).await?,
            template_recurrences: all(&TEMPLATE_RECURRENCES).await?,
            numbers: all(&NUMBERS).await?,
            agents: all(&AGENTS).await?,
            blacklists: all(&BLACKLISTS).await?,
            number_translations: all(&NUMBER_TRANSLATIONS).await?,
            nts_numbers: all(&NTS_NUMBERS).await?,
            gateways: all(&GATEWAYS).await?,
            trunks: all(&TRUNKS).await?,
            trunk_groups: all(&TRUNK_GROUPS).await?,
            trunk_group_members: all(&TRUNK_GROUP_MEMBERS).await?,
            route_codes: all(&ROUTE_CODES).await?,
            dods: all(&DODS).await?,
            acls: all(&ACLS).await?,
            applications: all(&APPLICATIONS).await?,
            ivrs: all(&IVRS).await?,
            blocks: all(&BLOCKS).await?,
            func_codes: all(&FUNC_CODES).await?,
            domains: all(&DOMAINS).await?,
        })
    }
}

/// Where a route (or a time window) sends a call, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dest {
    /// `FS_DEST_*`.
    pub dest_type: String,
    /// The record or extension it names, if any.
    pub dest_uuid: String,
    /// Its free text (a SIP URI, extensions, a conference room).
    pub body: String,
}

impl Dest {
    fn of(rec: &Record) -> Dest {
        Dest {
            dest_type: rec.text("dest_type").to_owned(),
            dest_uuid: rec.text("dest_uuid").trim().to_owned(),
            body: rec.text("body").trim().to_owned(),
        }
    }
}

/// A time window of a route and the destination it puts in place.
#[derive(Debug, Clone)]
pub struct Window {
    /// The `time_recurrences` row.
    pub id: i64,
    /// When it holds.
    pub recurrence: Recurrence,
    /// The destination while it holds.
    pub dest: Dest,
}

/// One route, ready to be applied.
#[derive(Debug, Clone)]
pub struct Route {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The context key it belongs to.
    pub context: String,
    /// The called-number prefix.
    pub prefix: String,
    /// The longest called number it admits, in characters.
    pub max_length: usize,
    /// Its own destination.
    pub dest: Dest,
    /// Its time windows, in id order.
    pub windows: Vec<Window>,
    /// The black/white list it checks.
    pub list: Option<i64>,
    /// The callee rewrite (`dnc`).
    pub dnc: Rewrite,
    /// The caller rewrite (`sdnc`).
    pub sdnc: Rewrite,
    /// Its enabled params, in order (`k`, `v`).
    pub params: Vec<(String, String)>,
    /// Whether calls are recorded.
    pub auto_record: bool,
    /// Whether media is anchored (`proxy_media` 1, the default).
    pub proxy_media: bool,
    /// Codec preference, most preferred first.
    pub codecs: Vec<String>,
    /// A time template that limits the route to working time, and the
    /// destination outside it (`time_template`, `outdest_*` params).
    pub work_time: Option<(i64, Dest)>,
}

/// A DID or hotline.
#[derive(Debug, Clone)]
pub struct Number {
    /// Its id.
    pub id: i64,
    /// The application that answers it.
    pub application_id: Option<i64>,
    /// The agent that answers it.
    pub agent_id: Option<i64>,
    /// The extensions it rings (PBX hotlines).
    pub extensions: Vec<String>,
}

/// An agent.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Its id.
    pub id: i64,
    /// Its extension (SIP user name).
    pub username: String,
    /// Its display name.
    pub name: String,
    /// Its context key.
    pub context: String,
    /// Whether it may take calls (`enabled` not 0).
    pub enabled: bool,
    /// Its domain (Fonoster), whose egress policies its calls follow.
    pub domain_id: Option<i64>,
    /// Call forwarding unconditional: where every call to it goes.
    pub forward_always: Option<String>,
    /// Where calls go when it is busy (or on do-not-disturb).
    pub forward_busy: Option<String>,
    /// Where calls go when it does not answer in time.
    pub forward_no_answer: Option<String>,
    /// Do-not-disturb: calls to it are refused busy (or forwarded on busy).
    pub dnd: bool,
}

/// A black (0) or white (1) list.
#[derive(Debug, Clone)]
pub struct List {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether it is a white list.
    pub white: bool,
    /// Whether the caller's number is checked.
    pub caller: bool,
    /// Whether the callee's number is checked.
    pub callee: bool,
    /// Its numbers, matched by prefix.
    pub numbers: PrefixSet,
}

/// A gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where it is (`realm`).
    pub realm: String,
}

/// A trunk.
#[derive(Debug, Clone)]
pub struct Trunk {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where calls through it go (`remote_addr`, Fonoster `outboundUri`).
    pub remote_addr: String,
    /// The context its calls in are routed in (`source`).
    pub context: String,
    /// Whether it is enabled (`enabled` not 0).
    pub enabled: bool,
    /// Its codec preference.
    pub codecs: Vec<String>,
}

/// How a trunk group picks its first member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// In turn.
    RoundRobin,
    /// At random, in proportion to the weights.
    Weight,
}

/// A member of a trunk group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The trunk.
    pub trunk_id: i64,
    /// Its weight (for `WEIGHT`).
    pub weight: u32,
    /// Its priority (lower first, for failover order).
    pub priority: i64,
}

/// A trunk group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// How it picks.
    pub strategy: Strategy,
    /// Its enabled members, by priority then id.
    pub members: Vec<Member>,
}

/// A DOD number: the caller number an extension's outbound calls show.
#[derive(Debug, Clone)]
pub struct Dod {
    /// The number shown.
    pub line_number: String,
    /// The gateway it applies to, when limited to one.
    pub gateway_id: Option<i64>,
}

/// An ACL: networks allowed and denied.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    /// Allowed networks.
    pub allow: Vec<ipnet::IpNet>,
    /// Denied networks (win over allowed ones).
    pub deny: Vec<ipnet::IpNet>,
}

impl Acl {
    /// Whether `ip` is allowed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|n| n.contains(&ip)) && !self.deny.iter().any(|n| n.contains(&ip))
    }
}

/// A workspace's routing configuration, read-only once built.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The workspace.
    pub workspace_id: i64,
    /// The time zone time windows are read in.
    pub tz: TimeZone,
    pub(crate) contexts: HashMap<String, PrefixMap<Vec<i64>>>,
    pub(crate) routes: HashMap<i64, Route>,
    pub(crate) numbers: HashMap<String, Number>,
    pub(crate) agents: HashMap<i64, Agent>,
    pub(crate) agents_by_ext: HashMap<String, i64>,
    pub(crate) lists: HashMap<i64, List>,
    pub(crate) templates: HashMap<i64, Vec<Recurrence>>,
    pub(crate) gateways: HashMap<i64, Gateway>,
    pub(crate) trunks: HashMap<i64, Trunk>,
    pub(crate) groups: HashMap<i64, Group>,
    pub(crate) route_codes: HashMap<String, i64>,
    pub(crate) dods: HashMap<String, Vec<Dod>>,
    pub(crate) applications: HashSet<i64>,
    pub(crate) ivrs: HashSet<i64>,
    pub(crate) blocks: HashSet<i64>,
    /// The feature codes in effect.
    pub(crate) features: Features,
    /// Egress policies by domain.
    pub(crate) policies: HashMap<i64, Vec<Policy>>,
    /// Trunks by source address: the port, when their address names one.
    pub(crate) trunk_addrs: HashMap<IpAddr, Vec<(Option<u16>, i64)>>,
    /// Trunks that accept sources by ACL.
    pub(crate) acl_trunks: Vec<(i64, Acl)>,
    /// Rows left out because they could not be read (bad recurrence,
    /// unknown list), for the log.
    pub skipped: Vec<String>,
}

/// A 0/1 column read as a flag, `default` when empty.
pub(crate) fn flag(rec: &Record, name: &str, default: bool) -> bool {
    match rec.get(name) {
        store::Value::Int(v) => *v != 0,
        store::Value::Text(t) => matches!(t.trim(), "1" | "true" | "t" | "yes"),
        _ => default,
    }
}

/// A forwarding number column: trimmed, `None` when empty.
fn forward(rec: &Record, name: &str) -> Option<String> {
    Some(rec.text(name).trim()).filter(|n| !n.is_empty()).map(str::to_owned)
}

fn id_of(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok().filter(|i| *i > 0)
}

fn codecs(text: &str) -> Vec<String> {
    text.split(',')
        .map(|c| c.trim().trim_matches(|c| c == '"' || c == '[' || c == ']').to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

pub(super) fn networks(rec: &Record, name: &str) -> Vec<ipnet::IpNet> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(rec.text(name))
    else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| v.as_str())
        .filter_map(|t| {
            t.parse::<ipnet::IpNet>().ok().or_else(|| t.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
        })
        .collect()
}

impl Snapshot {
    /// Builds the snapshot of workspace `workspace_id` from its `tables`,
    /// reading time windows in `tz`.
    pub fn build(workspace_id: i64, tables: &Tables, tz: TimeZone) -> Snapshot {
        let mut skipped = Vec::new();
        // Route params and list numbers, by owner.
        let mut route_params: HashMap<i64, Vec<&Record>> = HashMap::new();
        let mut list_numbers: HashMap<i64, Vec<&Record>> = HashMap::new();
        for p in &tables.params {
            if flag(p, "disabled", false) {
                continue;
            }
            let Some(owner) = p.int("ref_id") else { continue };
            match p.text("realm") {
                "ROUTE" => route_params.entry(owner).or_default().push(p),
                "BLACKLIST" => list_numbers.entry(owner).or_default().push(p),
                _ => {}
            }
        }
        let lists: HashMap<i64, List> = tables
            .blacklists
            .iter()
            .map(|l| {
                let mut numbers = PrefixSet::default();
                for n in list_numbers.get(&l.id).into_iter().flatten() {
                    let v = n.text("v").trim();
                    if !v.is_empty() {
                        numbers.insert(v);
                    }
                }
                let who = l.int("limit_user_type").unwrap_or(0);
                let list = List {
                    id: l.id,
                    name: l.text("name").to_owned(),
                    white: l.int("list_type") == Some(1),
                    caller: who == 0 || who == 2,
                    callee: who == 1 || who == 2,
                    numbers,
                };
                (l.id, list)
            })
            .collect();

        // Translation tables, by id and by name.
        let mut tables_by_id: HashMap<i64, Table> = tables
            .number_translations
            .iter()
            .map(|t| (t.id, Table::new(t.id, t.text("name"), t.text("type") == "prefix")))
            .collect();
        for n in &tables.nts_numbers {
            if let Some(t) = n.int("translation_id").and_then(|id| tables_by_id.get_mut(&id)) {
                t.add(n.text("original_number").trim(), n.text("nts_number").trim());
            }
        }
        let tables_by_name: HashMap<String, i64> =
            tables_by_id.values().map(|t| (t.name.clone(), t.id)).collect();
        let rewrite = |text: &str, what: &str, route: i64, skipped: &mut Vec<String>| -> Rewrite {
            let text = text.trim();
            if text.is_empty() {
                return Rewrite::None;
            }
            let table = tables_by_name
                .get(text)
                .copied()
                .or_else(|| id_of(text).filter(|id| tables_by_id.contains_key(id)));
            match table.and_then(|id| tables_by_id.get(&id)) {
                Some(t) => Rewrite::Table(std::sync::Arc::new(t.clone())),
                None => Rewrite::parse(text).unwrap_or_else(|| {
                    skipped.push(format!(
                        "route {route}: {what} '{text}' names no translation table and is not STRIP:PREPEND"
                    ));
                    Rewrite::None
                }),
            }
        };

        // Time windows by route; templates by id.
        let mut windows: HashMap<i64, Vec<Window>> = HashMap::new();
        for w in &tables.time_recurrences {
            let Some(route) = w.int("route_id") else { continue };
            match Recurrence::parse(w.text("time_recurrence")) {
                Ok(recurrence) => {
                    windows.entry(route).or_default().push(Window { id: w.id, recurrence, dest: Dest::of(w) })
                }
                Err(e) => skipped.push(format!("time window {}: {e}", w.id)),
            }
        }
        for ws in windows.values_mut() {
            ws.sort_by_key(|w| w.id);
        }
        let mut templates: HashMap<i64, Vec<Recurrence>> =
            tables.time_templates.iter().map(|t| (t.id, Vec::new())).collect();
        for w in &tables.template_recurrences {
            let Some(list) = w.int("template_id").and_then(|t| templates.get_mut(&t)) else { continue };
            match Recurrence::parse(w.text("time_recurrence")) {
                Ok(r) => list.push(r),
                Err(e) => skipped.push(format!("template window {}: {e}", w.id)),
            }
        }
        let template_names: HashMap<&str, i64> =
            tables.time_templates.iter().map(|t| (t.text("name"), t.id)).collect();

        // Routes and the per-context prefix index.
        let mut routes = HashMap::with_capacity(tables.routes.len());
        let mut contexts: HashMap<String, PrefixMap<Vec<i64>>> =
            tables.contexts.iter().map(|c| (c.text("key").to_owned(), PrefixMap::default())).collect();
        for r in &tables.routes {
            if flag(r, "disabled", false) {
                continue;
            }
            let Some(max_length) = r.int("max_length").and_then(|m| usize::try_from(m).ok()) else {
                continue;
            };
            let mut params = route_params.remove(&r.id).unwrap_or_default();
            params.sort_by_key(|p| (p.int("o").unwrap_or(0), p.id));
            let params: Vec<(String, String)> = params
                .iter()
                .map(|p| (p.text("k").trim().to_owned(), p.text("v").trim().to_owned()))
                .collect();
            let param = |k: &str| params.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.as_str());
            let work_time = param("time_template").and_then(|t| {
                let id = template_names
                    .get(t)
                    .copied()
                    .or_else(|| id_of(t))
                    .filter(|id| templates.contains_key(id));
                if id.is_none() {
                    skipped.push(format!("route {}: time_template '{t}' names no template", r.id));
                }
                let out = Dest {
                    dest_type: r.text("outdest_type").to_owned(),
                    dest_uuid: param("outdest_uuid").unwrap_or("").to_owned(),
                    body: param("outbody").unwrap_or("").to_owned(),
                };
                id.map(|id| (id, out))
            });
            let list = id_of(r.text("blacklist"));
            if let Some(l) = list.filter(|l| !lists.contains_key(l)) {
                skipped.push(format!("route {}: list {l} does not exist", r.id));
            }
            let route = Route {
                id: r.id,
                name: r.text("name").to_owned(),
                context: r.text("context").to_owned(),
                prefix: r.text("prefix").to_owned(),
                max_length,
                dest: Dest::of(r),
                windows: windows.remove(&r.id).unwrap_or_default(),
                list,
                dnc: rewrite(r.text("dnc"), "dnc", r.id, &mut skipped),
                sdnc: rewrite(r.text("sdnc"), "sdnc", r.id, &mut skipped),
                auto_record: flag(r, "auto_record", false),
                proxy_media: flag(r, "proxy_media", true),
                codecs: codecs(r.text("media_codec")),
                params,
                work_time,
            };
            contexts.entry(route.context.clone()).or_default().entry(&route.prefix, Vec::new).push(route.id);
            routes.insert(r.id, route);
        }
        for index in contexts.values_mut() {
            for ids in index.values_mut() {
                ids.sort_by_key(|id| {
                    routes.get(id).map_or((usize::MAX, *id), |r: &Route| (r.max_length, *id))
                });
            }
        }

        let agents: HashMap<i64, Agent> = tables
            .agents
            .iter()
            .map(|a| {
                let context = match a.text("context") {
                    "" => "context-1",
                    c => c,
                };
                let agent = Agent {
                    id: a.id,
                    username: a.text("username").to_owned(),
                    name: a.text("name").to_owned(),
                    context: context.to_owned(),
                    enabled: flag(a, "enabled", true),
                    domain_id: a.int("domain_id"),
                    forward_always: forward(a, "forward_always"),
                    forward_busy: forward(a, "forward_busy"),
                    forward_no_answer: forward(a, "forward_no_answer"),
                    dnd: flag(a, "dnd", false),
                };
                (a.id, agent)
            })
            .collect();
        let agents_by_ext = agents.values().map(|a| (a.username.clone(), a.id)).collect();

        let numbers = tables
            .numbers
            .iter()
            .map(|n| {
                let number = Number {
                    id: n.id,
                    application_id: n.int("application_id"),
                    agent_id: n.int("agent_id"),
                    extensions: n
                        .text("numbers")
                        .split(',')
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned)
                        .collect(),
                };
                (n.text("line_number").trim().to_owned(), number)
            })
            .collect();

        let gateways = tables
            .gateways
            .iter()
            .map(|g| {
                (
                    g.id,
                    Gateway { id: g.id, name: g.text("name").to_owned(), realm: g.text("realm").to_owned() },
                )
            })
            .collect();
        let acls: HashMap<i64, Acl> = tables
            .acls
            .iter()
            .map(|a| (a.id, Acl { allow: networks(a, "allow"), deny: networks(a, "deny") }))
            .collect();
        let mut trunks = HashMap::new();
        let mut trunk_addrs: HashMap<IpAddr, Vec<(Option<u16>, i64)>> = HashMap::new();
        let mut acl_trunks = Vec::new();
        for t in &tables.trunks {
            let trunk = Trunk {
                id: t.id,
                name: t.text("name").to_owned(),
                remote_addr: t.text("remote_addr").trim().to_owned(),
                context: match t.text("source") {
                    "" => "context-2".to_owned(),
                    s => s.to_owned(),
                },
                enabled: flag(t, "enabled", true),
                codecs: codecs(t.text("media_codec")),
            };
            if trunk.enabled {
                for field in ["remote_addr", "inbound_uri"] {
                    let Ok(addr) = SipAddress::parse(t.text(field).trim()) else { continue };
                    if let Some(ip) = addr.ip() {
                        let at = trunk_addrs.entry(ip).or_default();
                        if !at.contains(&(addr.port, t.id)) {
                            at.push((addr.port, t.id));
                        }
                    }
                }
                if let Some(acl) = t.int("acl_id").and_then(|a| acls.get(&a)) {
                    acl_trunks.push((t.id, acl.clone()));
                }
            }
            trunks.insert(t.id, trunk);
        }
        for at in trunk_addrs.values_mut() {
            at.sort_by_key(|(port, id)| (port.is_none(), *id));
        }

        let mut groups: HashMap<i64, Group> = tables
            .trunk_groups
            .iter()
            .map(|g| {
                let strategy =
                    if g.text("strategy") == "WEIGHT" { Strategy::Weight } else { Strategy::RoundRobin };
                (g.id, Group { id: g.id, name: g.text("name").to_owned(), strategy, members: Vec::new() })
            })
            .collect();
        let mut members: Vec<(i64, i64, Member)> = Vec::new();
        for m in &tables.trunk_group_members {
            let (Some(group), Some(trunk_id)) = (m.int("group_id"), m.int("trunk_id")) else { continue };
            if trunks.get(&trunk_id).is_some_and(|t: &Trunk| t.enabled) {
                let weight = u32::try_from(m.int("weight").unwrap_or(1).max(0)).unwrap_or(0);
                members.push((
                    group,
                    m.id,
                    Member { trunk_id, weight, priority: m.int("priority").unwrap_or(0) },
                ));
            }
        }
        members.sort_by_key(|(_, id, m)| (m.priority, *id));
        for (group, _, member) in members {
            if let Some(g) = groups.get_mut(&group) {
                g.members.push(member);
            }
        }

        let route_codes = tables
            .route_codes
            .iter()
            .filter_map(|c| Some((c.text("code").to_owned(), c.int("tg_id")?)))
            .collect();
        let mut dods: HashMap<String, Vec<Dod>> = HashMap::new();
        for d in &tables.dods {
            let gateway_id = (d.text("type") == "GATEWAY").then(|| d.int("ref_id")).flatten();
            dods.entry(d.text("extn").to_owned())
                .or_default()
                .push(Dod { line_number: d.text("line_number").to_owned(), gateway_id });
        }
        let policies = super::policies::build(&tables.domains, &tables.numbers, &mut skipped);
        let ids = |recs: &[Record]| recs.iter().map(|r| r.id).collect::<HashSet<i64>>();

        Snapshot {
            workspace_id,
            tz,
            contexts,
            routes,
            numbers,
            agents,
            agents_by_ext,
            lists,
            templates,
            gateways,
            trunks,
            groups,
            route_codes,
            dods,
            applications: ids(&tables.applications),
            ivrs: ids(&tables.ivrs),
            blocks: ids(&tables.blocks),
            features: Features::build(&tables.func_codes),
            policies,
            trunk_addrs,
            acl_trunks,
            skipped,
        }
    }

    /// The route a call to `number` takes in `context`: among the enabled
    /// routes whose prefix starts the number and whose `max_length` admits
    /// its length, the longest prefix, then the smallest `max_length`,
    /// then the oldest.
    pub fn choose(&self, context: &str, number: &str) -> Option<&Route> {
        let index = self.contexts.get(context)?;
        let len = number.chars().count();
        index.matches(number).find_map(|(_, ids)| {
            ids.iter().filter_map(|id| self.routes.get(id)).find(|r| r.max_length >= len)
        })
    }

    /// The number (DID, hotline) `callee` dials: its exact text first,
    /// then the same digits with the leading `+` added or removed.
    pub fn number(&self, callee: &str) -> Option<&Number> {
        if let Some(n) = self.numbers.get(callee) {
            return Some(n);
        }
        match callee.strip_prefix('+') {
            Some(bare) => self.numbers.get(bare),
            None if !callee.is_empty() => self.numbers.get(&format!("+{callee}")),
            None => None,
        }
    }

    /// A route by id.
    pub fn route(&self, id: i64) -> Option<&Route> {
        self.routes.get(&id)
    }

    /// An agent by id.
    pub fn agent(&self, id: i64) -> Option<&Agent> {
        self.agents.get(&id)
    }

    /// An agent by extension (user name).
    pub fn agent_by_extension(&self, extension: &str) -> Option<&Agent> {
        self.agents_by_ext.get(extension).and_then(|id| self.agents.get(id))
    }

    /// A trunk by id.
    pub fn trunk(&self, id: i64) -> Option<&Trunk> {
        self.trunks.get(&id)
    }

    /// A trunk group by id.
    pub fn group(&self, id: i64) -> Option<&Group> {
        self.groups.get(&id)
    }

    /// The trunk group a route code selects.
    pub fn route_code(&self, code: &str) -> Option<&Group> {
        self.route_codes.get(code).and_then(|id| self.groups.get(id))
    }

    /// The feature a dialled number invokes, if it starts with (or is) an
    /// enabled feature code.
    pub fn feature(&self, dialled: &str) -> Option<Feature> {
        self.features.feature(dialled)
    }

    /// The egress policies of domain `domain_id`, in order.
    pub fn policies(&self, domain_id: i64) -> &[Policy] {
        self.policies.get(&domain_id).map_or(&[], Vec::as_slice)
    }

    /// How many routes it holds (enabled ones).
    pub fn route_count(&self) -> usize {
        self.routes.len()
    }
}
