//! The programmable-voice resources that Fonoster and Vonage describe, and
//! that the PBX dialect shares (numbers are its hotlines, trunks its trunks).

use crate::{Field, Link, Resource};

/// Voice applications: a webhook endpoint (Fonoster) or capabilities with
/// webhooks and a public key (Vonage); one record seen by both. `endpoint`
/// is the voice answer URL of both; the intelligence credentials are kept
/// sealed apart from the rest of `intelligence`.
pub static APPLICATIONS: Resource = Resource {
    table: "applications",
    label: "application",
    scoped: true,
    quota: Some("applications"),
    links: &[],
    fields: &[
        Field::text("name").required(),
        Field::one_of("type", &["EXTERNAL", "AUTOPILOT"]),
        Field::text("endpoint"),
        Field::json("text_to_speech"),
        Field::json("speech_to_text"),
        Field::json("intelligence"),
        Field::text("intelligence_credentials_enc").hidden(),
        Field::json("capabilities"),
        Field::text("public_key"),
    ],
};

/// SIP credentials; the password is kept encrypted so digests can be
/// computed for any realm and algorithm.
pub static CREDENTIALS: Resource = Resource {
    table: "credentials",
    label: "credentials",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required(),
        Field::text("username").required(),
        Field::text("password_enc").required().hidden(),
    ],
};

/// Access control lists of CIDR blocks.
pub static ACLS: Resource = Resource {
    table: "acls",
    label: "ACL",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[Field::text("name").required(), Field::json("allow"), Field::json("deny")],
};

/// SIP domains that agents belong to; a domain routes calls to one
/// workspace, so its URI is held by one only. Its egress policies name
/// numbers by ref, which cannot be deleted while named.
pub static DOMAINS: Resource = Resource {
    table: "domains",
    label: "domain",
    scoped: true,
    quota: None,
    links: &[Link::refs_in_json("egress_policies", "numbers")],
    fields: &[
        Field::text("name").required(),
        Field::text("domain_uri").required().unique_everywhere(),
        Field::reference("acl_id", "acls"),
        Field::json("egress_policies"),
    ],
};

/// Agents: SIP users and extensions (`username` is the extension), with
/// the call forwarding and do-not-disturb their phones set by feature
/// codes (`forward_*` a number or empty; `dnd`), and whether they may act
/// on others' calls (`supervisor`).
pub static AGENTS: Resource = Resource {
    table: "agents",
    label: "agent",
    scoped: true,
    quota: Some("agents"),
    links: &[],
    fields: &[
        Field::text("name").required(),
        Field::text("username").required().unique(),
        // The Fonoster SDK's `maxContacts` and `expires` (seconds); 0 or
        // none is the registrar's default.
        Field::int("max_contacts").range(0, 100),
        Field::int("expires").range(0, 86_400),
        Field::reference("domain_id", "domains"),
        Field::reference("credentials_id", "credentials"),
        Field::one_of("privacy", &["PRIVATE", "NONE"]),
        Field::bool("enabled"),
        Field::text("context"),
        Field::text("forward_always"),
        Field::text("forward_busy"),
        Field::text("forward_no_answer"),
        Field::bool("dnd"),
        // Voicemail: on or off, the PIN of the mailbox, the greeting (a
        // media file, else this text spoken, else the standard text).
        Field::bool("voicemail_enabled"),
        Field::text("voicemail_pin"),
        Field::reference("voicemail_greeting_id", "media"),
        Field::text("voicemail_greeting_text"),
        // Whether its phone may eavesdrop on, whisper to, barge into and
        // break down other agents' calls of its workspace (`*33`..`*36`).
        Field::bool("supervisor"),
    ],
};

/// Voicemail messages left in an agent's mailbox: the caller, the length,
/// the WAV file (under the data dir's `voicemail/` folder) and whether it
/// was heard (`NEW`, `SAVED`).
pub static VOICEMAIL_MESSAGES: Resource = Resource {
    table: "voicemail_messages",
    label: "voicemail message",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("agent_id", "agents").required(),
        Field::text("caller"),
        Field::text("caller_name"),
        Field::text("call_ref"),
        Field::int("duration_ms"),
        Field::int("size"),
        Field::text("file").required(),
        Field::one_of("status", &["NEW", "SAVED"]),
    ],
};

/// What a hotline's `ref_id` names, by its `type`: the destination types
/// of routes that name a record.
pub const HOTLINE_TYPES: &[&str] = &[
    "FS_DEST_IVR",
    "FS_DEST_IVRBLOCK",
    "FS_DEST_GATEWAY",
    "FS_DEST_CLUSTER_TRUNK",
    "FS_DEST_CLUSTER_TRUNK_GROUP",
    "FS_DEST_SCRIPT",
];

/// Numbers (DIDs): Fonoster numbers and PBX hotlines. `line_number` is the
/// number itself, held by one workspace only; an ingress handler
/// (application or agent) or the PBX's target extensions (`numbers`) say
/// where its calls go. A hotline's `ref_id` names the record of its `type`.
/// `trunk_id` is the trunk calls sent out as this number leave through
/// (Fonoster `trunkRef`, used by domains' egress policies).
pub static NUMBERS: Resource = Resource {
    table: "numbers",
    label: "number",
    scoped: true,
    quota: Some("numbers"),
    links: &[
        Link::new("ref_id", "ivrs", "type", &["FS_DEST_IVR"]),
        Link::new("ref_id", "blocks", "type", &["FS_DEST_IVRBLOCK"]),
        Link::new("ref_id", "gateways", "type", &["FS_DEST_GATEWAY"]),
        Link::new("ref_id", "trunks", "type", &["FS_DEST_CLUSTER_TRUNK"]),
        Link::new("ref_id", "trunk_groups", "type", &["FS_DEST_CLUSTER_TRUNK_GROUP"]),
        Link::new("ref_id", "applications", "type", &["FS_DEST_SCRIPT"]),
    ],
    fields: &[
        Field::text("line_number").required().unique_everywhere(),
        Field::text("name"),
        Field::text("city"),
        Field::text("country"),
        Field::text("country_iso_code"),
        Field::reference("application_id", "applications"),
        Field::reference("agent_id", "agents"),
        Field::text("numbers"),
        Field::reference("trunk_id", "trunks"),
        Field::text("description"),
        Field::one_of("type", HOTLINE_TYPES),
        Field::text("ref_id"),
    ],
};

/// SIP trunks to carriers: Fonoster trunks and PBX trunks. Fonoster's
/// `outboundUri` is the PBX's `remote_addr`.
pub static TRUNKS: Resource = Resource {
    table: "trunks",
    label: "trunk",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("name").required().unique(),
        Field::text("description"),
        Field::text("type"),
        Field::one_of("protocol", &["UDP", "TCP", "TLS", "WS", "WSS"]),
        Field::text("remote_addr"),
        Field::text("local_addr"),
        Field::text("inbound_uri"),
        Field::bool("register"),
        Field::bool("enabled"),
        Field::text("source"),
        Field::text("media_codec"),
        Field::text("params"),
        Field::reference("acl_id", "acls"),
        Field::reference("inbound_credentials_id", "credentials"),
        Field::reference("outbound_credentials_id", "credentials"),
        // The Fonoster SDK's outbound URIs, a JSON array.
        Field::json("uris"),
    ],
};

/// Named secrets; the value is encrypted at rest and never shown.
pub static SECRETS: Resource = Resource {
    table: "secrets",
    label: "secret",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[Field::text("name").required().unique(), Field::text("secret_enc").required().hidden()],
};
