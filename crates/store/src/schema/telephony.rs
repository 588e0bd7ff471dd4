//! What the SIP layer keeps: where registered agents can be reached.

use crate::{Field, Resource};

/// Registered contacts of agents (the location service), kept so that
/// registrations survive a restart.
pub static REGISTRATIONS: Resource = Resource {
    table: "registrations",
    label: "registration",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("agent_id", "agents").required().cascade(),
        Field::text("aor").required(),
        Field::text("contact").required(),
        Field::text("source").required(),
        Field::one_of("transport", &["udp", "tcp"]).required(),
        Field::time("expires_at").required(),
        Field::text("call_id"),
        Field::int("cseq"),
        Field::text("user_agent"),
    ],
};
