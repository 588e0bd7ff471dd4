//! What the router decides: the input (`Inbound`) and the answer (`Plan`).

use super::snapshot::{Member, Strategy};

/// Who places a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An agent (authenticated by digest).
    Agent(i64),
    /// A trunk (matched by source address, ACL or credentials).
    Trunk(i64),
    /// A route test (`GET /api/routes?destNumber=..&context=..`).
    Test,
}

/// A call to route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Who calls.
    pub source: Source,
    /// The context its routes are looked up in (the agent's context or the
    /// trunk's `source`).
    pub context: String,
    /// The caller's number (From user).
    pub caller: String,
    /// The caller's display name.
    pub caller_name: String,
    /// The called number (Request-URI user).
    pub callee: String,
    /// How many times this call has been routed already (loop guard).
    pub hops: u32,
}

impl Inbound {
    /// A call to `callee` from `caller` in `context`, not yet routed.
    pub fn new(source: Source, context: &str, caller: &str, callee: &str) -> Inbound {
        Inbound {
            source,
            context: context.to_owned(),
            caller: caller.to_owned(),
            caller_name: String::new(),
            callee: callee.to_owned(),
            hops: 0,
        }
    }
}

/// How extensions are rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ring {
    /// All at once; the first to answer takes the call.
    Together,
    /// One after another.
    Sequential,
}

/// One extension to ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension as configured.
    pub extension: String,
    /// Its agent, when one has it.
    pub agent_id: Option<i64>,
}

/// Where a call is connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An agent (`FS_DEST_USER`, a number's agent).
    Agent {
        /// The agent.
        agent_id: i64,
        /// Its extension.
        extension: String,
    },
    /// Extensions rung together or in turn (`FS_DEST_RING_EXTNS`,
    /// `FS_DEST_SEQ_EXTNS`, a hotline with several extensions).
    Extensions {
        /// How.
        ring: Ring,
        /// Which.
        extensions: Vec<Extension>,
    },
    /// Out through a gateway (`FS_DEST_GATEWAY`, `FS_DEST_USERGW`).
    Gateway {
        /// The gateway.
        gateway_id: i64,
        /// Its name.
        name: String,
        /// Its realm (where it is).
        realm: String,
    },
    /// Out through one trunk (`FS_DEST_CLUSTER_TRUNK`).
    Trunk {
        /// The trunk.
        trunk_id: i64,
        /// Where it sends calls.
        remote_addr: String,
    },
    /// Out through a trunk group (`FS_DEST_CLUSTER_TRUNK_GROUP`): pick the
    /// first member with [`super::pick_members`], fail over to the rest.
    TrunkGroup {
        /// The group.
        group_id: i64,
        /// How it picks.
        strategy: Strategy,
        /// Its enabled members, by priority.
        members: Vec<Member>,
    },
    /// A SIP URI (`FS_DEST_IP`).
    Uri(String),
    /// An IVR menu (`FS_DEST_IVR`).
    Ivr(i64),
    /// A stored call flow (`FS_DEST_IVRBLOCK`).
    Block(i64),
    /// A voice application's webhook (`FS_DEST_SCRIPT`, a number's
    /// application).
    Application(i64),
    /// A conference room (`FS_DEST_CONFERENCE*`, `FS_DEST_USER_CONFERENCE`,
    /// `FS_DEST_MEETING*`).
    Conference {
        /// The destination type.
        kind: String,
        /// The room (`dest_uuid` or `body`).
        room: String,
    },
    /// Any other type (queues, CTI, distributors, system): the call engine
    /// refuses it until its issue lands.
    Other {
        /// The destination type.
        dest_type: String,
        /// What it names.
        dest_uuid: String,
    },
}

/// A decided route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The route taken, if a route (not a number) decided.
    pub route_id: Option<i64>,
    /// The number (DID, hotline) that decided, if one did.
    pub number_id: Option<i64>,
    /// The time window that replaced the destination, if one held.
    pub window_id: Option<i64>,
    /// Where the call goes.
    pub target: Target,
    /// The destination's free text (`body`).
    pub body: String,
    /// The called number after rewriting.
    pub callee: String,
    /// The caller number after rewriting, params and DOD.
    pub caller: String,
    /// The caller name after params.
    pub caller_name: String,
    /// Record the call (`auto_record`, `record_session` param).
    pub record: bool,
    /// Anchor the media (`proxy_media`); false lets the SDP pass end to end.
    pub proxy_media: bool,
    /// Codec preference, most preferred first (empty: no preference).
    pub codecs: Vec<String>,
    /// Seconds to ring before giving up (`call_timeout` param).
    pub ring_timeout: Option<u32>,
    /// Extra headers for the outgoing INVITE (`sip_h_X-Name` params).
    pub headers: Vec<(String, String)>,
    /// The hop count the next leg carries.
    pub hops: u32,
    /// The number an agent target forwards to when busy (call forwarding
    /// on busy; also do-not-disturb with forwarding set): the call engine
    /// routes it again, as the agent dialling it.
    pub forward_busy: Option<String>,
    /// The number an agent target forwards to when it does not answer in
    /// time (call forwarding on no answer).
    pub forward_no_answer: Option<String>,
}

/// A feature code dialled from a phone (`*72...`): what it does and what
/// followed the code (a forwarding number, an extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// The feature (`FS_DEST_FUNC_*` and the like, as `func_codes` names it).
    pub func_type: String,
    /// The digits dialled after the code.
    pub arg: String,
}

/// A refusal: the SIP status, a hangup cause and a line for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The SIP status to answer.
    pub status: u16,
    /// The hangup cause (Q.850 name) for the CDR.
    pub cause: &'static str,
    /// What happened, for the log.
    pub reason: String,
    /// The route that was taken before the refusal, if any.
    pub route_id: Option<i64>,
}

/// The router's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Connect the call.
    Route(Box<Routed>),
    /// Refuse it.
    Reject(Reject),
    /// Carry out a feature code for the calling agent.
    Feature(Feature),
}

impl Plan {
    /// The route the call took, refused or not.
    pub fn route_id(&self) -> Option<i64> {
        match self {
            Plan::Route(r) => r.route_id,
            Plan::Reject(r) => r.route_id,
            Plan::Feature(_) => None,
        }
    }
}
