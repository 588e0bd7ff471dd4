//! Call detail records: one per leg, written when the leg ends.
//!
//! `call_ref` is the call's id, shared by its legs (the caller's leg's
//! id); `leg_ref` the leg's own; `leg` says which side (`A` the caller's,
//! `B` the callee's). `src`/`dst` are the numbers as translated (sent on),
//! `src_dialled`/`dst_dialled` as they came.

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
        Field::text("leg_ref"),
        Field::one_of("leg", &["A", "B"]),
        Field::time("calldate").required(),
        Field::time("answer_date"),
        Field::time("end_date"),
        Field::text("src").required(),
        Field::text("dst").required(),
        Field::text("src_dialled"),
        Field::text("dst_dialled"),
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
        Field::text("application_ref"),
        Field::int("route_id"),
        Field::text("codec"),
    ],
};
