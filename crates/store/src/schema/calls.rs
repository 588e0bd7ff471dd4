//! Call detail records: one per leg, written when the leg ends.

use crate::{Field, Resource};

/// Call detail records. Column names follow VoIPstudio's CDR properties;
/// the Fonoster and PBX views rename them.
pub static CDRS: Resource = Resource {
    table: "cdrs",
    label: "call record",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("call_ref").required(),
        Field::time("calldate").required(),
        Field::time("answer_date"),
        Field::time("end_date"),
        Field::text("src").required(),
        Field::text("dst").required(),
        Field::text("clid"),
        Field::int("src_id"),
        Field::int("dst_id"),
        Field::one_of("direction", &["FROM_PSTN", "TO_PSTN", "INTRA_COMPANY"]),
        Field::text("type"),
        Field::text("disposition"),
        Field::text("hangup_cause"),
        Field::int("duration"),
        Field::int("billsec"),
        Field::text("context"),
        Field::text("recording"),
        Field::int("application_id"),
        Field::int("route_id"),
        Field::text("codec"),
    ],
};
