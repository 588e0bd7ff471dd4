//! The PBX dialect's dial plan and its parts: contexts, routes and their
//! params and time windows, IVRs, feature codes, gateways, lists,
//! blocks, trunk groups, DOD numbers, the IP blacklist, number
//! translation and uploaded media.

use crate::{Field, Link, Resource};

/// Every destination type a route (or time window) may have.
pub const DEST_TYPES: &[&str] = &[
    "FS_DEST_USER",
    "FS_DEST_GATEWAY",
    "FS_DEST_USERGW",
    "FS_DEST_SYSTEM",
    "FS_DEST_IP",
    "FS_DEST_IVRBLOCK",
    "FS_DEST_CONFERENCE",
    "FS_DEST_CONFERENCE_ROOM",
    "FS_DEST_MEETING",
    "FS_DEST_MEETING_ROOM",
    "FS_DEST_USER_CONFERENCE",
    "FS_DEST_DISTRIBUTORS",
    "FS_DEST_CTI",
    "FS_DEST_NUM_QUEUE",
    "FS_DEST_SCRIPT",
    "FS_DEST_IVR",
    "FS_DEST_CLUSTER_TRUNK",
    "FS_DEST_CLUSTER_TRUNK_GROUP",
    "FS_DEST_SEQ_EXTNS",
    "FS_DEST_RING_EXTNS",
];

/// What `dest_uuid` names for each destination type that names a record.
const DEST_LINKS: &[Link] = &[
    Link::new("dest_uuid", "gateways", "dest_type", &["FS_DEST_GATEWAY"]),
    Link::new("dest_uuid", "ivrs", "dest_type", &["FS_DEST_IVR"]),
    Link::new("dest_uuid", "blocks", "dest_type", &["FS_DEST_IVRBLOCK"]),
    Link::new("dest_uuid", "trunks", "dest_type", &["FS_DEST_CLUSTER_TRUNK"]),
    Link::new("dest_uuid", "trunk_groups", "dest_type", &["FS_DEST_CLUSTER_TRUNK_GROUP"]),
    Link::new("dest_uuid", "applications", "dest_type", &["FS_DEST_SCRIPT"]),
];

/// Calling contexts (`key` such as `context-1` is what routes name).
pub static CONTEXTS: Resource = Resource {
    table: "contexts",
    label: "context",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required().unique(),
        Field::text("key").required().unique(),
        Field::text("description"),
        Field::bool("hotline_enabled"),
        Field::text("domain"),
    ],
};

/// Dial-plan routes: a called-number prefix within a context, to a
/// destination.
pub static ROUTES: Resource = Resource {
    table: "routes",
    label: "route",
    scoped: true,
    quota: None,
    links: &[
        DEST_LINKS[0],
        DEST_LINKS[1],
        DEST_LINKS[2],
        DEST_LINKS[3],
        DEST_LINKS[4],
        DEST_LINKS[5],
        Link::always("blacklist", "blacklists"),
    ],
    fields: &[
        Field::text("name").required().unique(),
        Field::text("description"),
        Field::text("prefix"),
        Field::int("max_length").required().range(1, 64),
        Field::text("context").required(),
        Field::text("dnc"),
        Field::text("sdnc"),
        Field::one_of("dest_type", DEST_TYPES).required(),
        Field::text("dest_uuid"),
        Field::bool("auto_record"),
        Field::text("bill_rate"),
        Field::text("blacklist"),
        Field::text("body"),
        Field::bool("proxy_media"),
        Field::int("route_type").range(0, 4),
        Field::text("media_codec"),
        Field::bool("disabled"),
        Field::text("cid_number"),
        Field::text("outdest_type"),
        Field::bool("did_enabled"),
    ],
};

/// Key/value parameters of routes (`ROUTE`), gateways (`GATEWAY`) and the
/// numbers of black/white lists (`BLACKLIST`), by `realm` and `ref_id`.
pub static PARAMS: Resource = Resource {
    table: "params",
    label: "param",
    scoped: true,
    quota: None,
    links: &[
        Link::new("ref_id", "routes", "realm", &["ROUTE"]).cascade(),
        Link::new("ref_id", "gateways", "realm", &["GATEWAY"]).cascade(),
        Link::new("ref_id", "blacklists", "realm", &["BLACKLIST"]).cascade(),
    ],
    fields: &[
        Field::one_of("realm", &["ROUTE", "GATEWAY", "BLACKLIST"]).required(),
        Field::int("ref_id").required(),
        Field::text("k").required(),
        Field::text("v"),
        Field::int("o"),
        Field::bool("disabled"),
    ],
};

/// Time windows of a route, each with the destination that replaces the
/// route's while it holds.
pub static TIME_RECURRENCES: Resource = Resource {
    table: "time_recurrences",
    label: "time recurrence",
    scoped: true,
    quota: None,
    links: DEST_LINKS,
    fields: &[
        Field::reference("route_id", "routes").required().cascade(),
        Field::text("time_recurrence").required(),
        Field::one_of("dest_type", DEST_TYPES).required(),
        Field::text("dest_uuid"),
        Field::text("body"),
    ],
};

/// Named sets of time windows (working days, holidays).
pub static TIME_TEMPLATES: Resource = Resource {
    table: "time_templates",
    label: "time template",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[Field::text("name").required().unique(), Field::text("description")],
};

/// The time windows of a template.
pub static TEMPLATE_RECURRENCES: Resource = Resource {
    table: "template_recurrences",
    label: "template time recurrence",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("template_id", "time_templates").required().cascade(),
        Field::text("time_recurrence").required(),
    ],
};

/// Groups of trunks used in turn (`RR`) or by weight (`WEIGHT`).
pub static TRUNK_GROUPS: Resource = Resource {
    table: "trunk_groups",
    label: "trunk group",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required().unique(),
        Field::text("description"),
        Field::one_of("strategy", &["RR", "WEIGHT"]).required(),
        Field::text("params"),
    ],
};

/// Which trunks a trunk group holds, with weight and priority.
pub static TRUNK_GROUP_MEMBERS: Resource = Resource {
    table: "trunk_group_members",
    label: "trunk group member",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("group_id", "trunk_groups").required().cascade(),
        Field::reference("trunk_id", "trunks").required().cascade(),
        Field::int("weight").range(0, 1000),
        Field::int("priority").range(0, 1000),
    ],
};

/// Short codes that select a trunk group.
pub static ROUTE_CODES: Resource = Resource {
    table: "route_codes",
    label: "route code",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("code").required().unique(),
        Field::reference("tg_id", "trunk_groups").required(),
        Field::text("description"),
    ],
};

/// Uploaded sound files (WAV), kept in the data directory.
pub static MEDIA: Resource = Resource {
    table: "media",
    label: "media file",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required(),
        Field::text("media_path").required(),
        Field::one_of("media_type", &["UPLOAD", "SYSTEM"]).required(),
        Field::text("content_type"),
        Field::int("size"),
        Field::int("duration_ms"),
    ],
};

/// IVR menus.
pub static IVRS: Resource = Resource {
    table: "ivrs",
    label: "IVR",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required(),
        Field::text("key"),
        Field::text("description"),
        Field::json("greet_long"),
        Field::json("greet_short"),
        Field::json("invalid_sound"),
        Field::json("exit_sound"),
        Field::json("transfer_sound"),
        Field::int("timeout").range(0, 600_000),
        Field::int("max_failures").range(0, 100),
        Field::int("max_timeouts").range(0, 100),
        Field::text("exec_on_max_failures"),
        Field::text("exec_on_max_timeouts"),
        Field::text("confirm_key"),
        Field::text("confirm_macro"),
        Field::text("tts_engine"),
        Field::text("tts_voice"),
        Field::int("confirm_attempts").range(0, 100),
        Field::int("digit_len").range(1, 64),
        Field::int("inter_digit_timeout").range(0, 600_000),
        Field::text("pin"),
        Field::json("pin_file"),
        Field::json("bad_pin_file"),
    ],
};

/// Every action an IVR key may run.
pub const IVR_ACTIONS_KINDS: &[&str] = &[
    "IVR_EXTENSION",
    "IVR_QUEUE",
    "IVR_MEETING_ROOM",
    "IVR_CONFERENCE_ROOM",
    "IVR_CONFERENCE",
    "IVR_SCRIPT",
    "IVR_SYSTEM",
    "IVR_ROUTE",
    "IVR_PLAY",
    "IVR_TTS",
    "IVR_SUB",
    "IVR_TOP",
    "IVR_BACK",
    "IVR_EXIT",
];

/// What an IVR does for some digits.
pub static IVR_ACTIONS: Resource = Resource {
    table: "ivr_actions",
    label: "IVR action",
    scoped: true,
    quota: None,
    links: &[Link::new("args", "ivrs", "action", &["IVR_SUB"])],
    fields: &[
        Field::reference("ivr_menu_id", "ivrs").required().cascade(),
        Field::text("digits").required(),
        Field::one_of("action", IVR_ACTIONS_KINDS).required(),
        Field::bool("match_prefix"),
        Field::text("args"),
        Field::text("body"),
    ],
};

/// Every feature a feature code may invoke.
pub const FUNC_TYPES: &[&str] = &[
    "FS_DEST_FUNC_CALL_FORWARDING",
    "FS_DEST_FUNC_CALL_FORWARDING_CANCEL",
    "FS_DEST_FUNC_CALL_FORWARD_BUSY",
    "FS_DEST_FUNC_CALL_FORWARD_BUSY_CANCEL",
    "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE",
    "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE_CANCEL",
    "FS_DEST_FUNC_CALL_DND",
    "FS_DEST_FUNC_CALL_DND_CANCEL",
    "FS_DEST_FORCE_INSERT",
    "FS_DEST_FORCE_BREAKDOWN",
    "FS_DEST_EAVESDROP",
    "FS_DEST_LAST_INTERCEPT",
    "FS_DEST_DEST_INTERCEPT",
    "FS_DEST_FUNC_CALL_VOICEMAIL",
    "FS_DEST_FUNC_CALL_FIFO_BACK",
    "FS_DEST_FUNC_CALL_RECORD",
    "FS_DEST_TIMELY_MEETING",
    "FS_DEST_MCASTS",
    // Calliope's own: speak to an agent in a call, unheard by the other party.
    "FS_DEST_WHISPER",
];

/// Feature codes (`*72` and the like).
pub static FUNC_CODES: Resource = Resource {
    table: "func_codes",
    label: "feature code",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("func_code").required().unique(),
        Field::one_of("func_type", FUNC_TYPES).required(),
        Field::text("description"),
        Field::bool("disabled"),
    ],
};

/// SIP gateways Calliope registers to and sends calls through.
pub static GATEWAYS: Resource = Resource {
    table: "gateways",
    label: "gateway",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required().unique(),
        Field::text("realm").required(),
        Field::text("username"),
        Field::text("password_enc").hidden(),
        Field::int("profile_id").range(1, 1_000_000),
        Field::one_of("register", &["yes", "no"]),
        Field::text("description"),
        Field::text("template"),
        Field::one_of("state", &["NOREG", "TRYING", "REGED", "FAILED", "STOPPED"]),
    ],
};

/// Channel variables a gateway sets, by direction.
pub static GATEWAY_VARIABLES: Resource = Resource {
    table: "gateway_variables",
    label: "gateway variable",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("gateway_id", "gateways").required().cascade(),
        Field::text("k").required(),
        Field::text("v"),
        Field::bool("disabled"),
        Field::int("direction").range(0, 2),
    ],
};

/// Black (0) and white (1) lists of numbers, for callers (0), callees (1)
/// or both (2); the numbers are `BLACKLIST` params.
pub static BLACKLISTS: Resource = Resource {
    table: "blacklists",
    label: "black/white list",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required().unique(),
        Field::text("description"),
        Field::int("list_type").required().range(0, 1),
        Field::int("limit_user_type").required().range(0, 2),
    ],
};

/// Stored call flows ("blocks"); `ivr_menu_id`, when set, names an IVR.
pub static BLOCKS: Resource = Resource {
    table: "blocks",
    label: "block",
    scoped: true,
    quota: None,
    links: &[Link::always("ivr_menu_id", "ivrs")],
    fields: &[
        Field::text("name").required(),
        Field::text("description"),
        Field::text("xml"),
        Field::text("js"),
        Field::text("lua"),
        Field::text("ver"),
        Field::text("ivr_menu_id"),
    ],
};

/// Outgoing caller numbers per extension (DOD), through a gateway or a
/// distributor.
pub static DODS: Resource = Resource {
    table: "dods",
    label: "DOD number",
    scoped: true,
    quota: None,
    links: &[Link::new("ref_id", "gateways", "type", &["GATEWAY"])],
    fields: &[
        Field::reference("extn_id", "agents"),
        Field::text("extn").required(),
        Field::text("line_number").required(),
        Field::one_of("type", &["GATEWAY", "DISTRIBUTORS"]).required(),
        Field::int("ref_id"),
        Field::text("name"),
    ],
};

/// Sources whose SIP and RTP packets are dropped unread.
pub static IP_RULES: Resource = Resource {
    table: "ip_rules",
    label: "IP rule",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("target_ip").required(),
        Field::text("target_name"),
        Field::int("target_port").range(0, 65535),
        Field::one_of("target_protocol", &["udp", "tcp", "all"]),
    ],
};

/// Number translation tables: exact or prefix rewriting.
pub static NUMBER_TRANSLATIONS: Resource = Resource {
    table: "number_translations",
    label: "number translation table",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required().unique(),
        Field::text("description"),
        Field::one_of("type", &["exact", "prefix"]).required(),
    ],
};

/// The rewrites of a number translation table.
pub static NTS_NUMBERS: Resource = Resource {
    table: "nts_numbers",
    label: "translated number",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("translation_id", "number_translations").required().cascade(),
        Field::text("original_number").required(),
        Field::text("nts_number").required(),
    ],
};
