//! Call detail records: one per leg, handed to the [`Writer`] when the
//! call ends, which writes them in batches. A call's legs share its
//! `call_ref` (the caller's leg's id); each has its own `leg_ref` and says
//! which side it is ([`CALLER_SIDE`] the caller's, [`CALLEE_SIDE`] the callee's).

pub mod writer;

pub use writer::{Writer, WriterError};

use store::schema::CDRS;
use store::{Db, Millis, Scope, Value};

/// The caller's side of a call (the call's first leg).
pub const CALLER_SIDE: &str = "A";
/// The callee's side of a call (a leg the call placed).
pub const CALLEE_SIDE: &str = "B";

/// What one leg did.
#[derive(Debug, Clone, Default)]
pub struct Cdr {
    /// The workspace.
    pub workspace_id: i64,
    /// The call's id, shared by its legs (the A leg's id); the leg's own
    /// when empty.
    pub call_ref: String,
    /// The leg's id.
    pub leg_ref: String,
    /// [`CALLER_SIDE`] or [`CALLEE_SIDE`] ([`CALLER_SIDE`] when empty).
    pub leg: &'static str,
    /// Caller number as sent on (after translation).
    pub src: String,
    /// Called number as sent on (after translation).
    pub dst: String,
    /// Caller number as it came (before translation); `src` when empty.
    pub src_dialled: String,
    /// Called number as dialled (before translation); `dst` when empty.
    pub dst_dialled: String,
    /// Caller name and number as shown.
    pub clid: String,
    /// The calling agent's id.
    pub src_id: Option<i64>,
    /// The called agent's id.
    pub dst_id: Option<i64>,
    /// `FROM_PSTN`, `TO_PSTN` or `INTRA_COMPANY`.
    pub direction: &'static str,
    /// `AGENT`, `SIP_TRUNK`, `API_ORIGINATED`...
    pub kind: &'static str,
    /// `ANSWERED`, `NO ANSWER`, `BUSY`, `FAILED`.
    pub disposition: &'static str,
    /// The hangup cause (`NORMAL_CLEARING`, `USER_BUSY`...).
    pub hangup_cause: String,
    /// When it started.
    pub start: Millis,
    /// When it was answered.
    pub answer: Option<Millis>,
    /// When it ended.
    pub end: Millis,
    /// The calling context.
    pub context: String,
    /// The codec.
    pub codec: String,
    /// The route the call took, if a route decided.
    pub route_id: Option<i64>,
    /// The voice application that ran the call, if one.
    pub application_id: Option<i64>,
    /// That application's ref (kept when the application goes).
    pub application_ref: String,
    /// The recording's file name, when the call was recorded.
    pub recording: Option<String>,
}

impl Cdr {
    /// Writes the record on its own (the writer's fallback when a batch
    /// fails).
    pub async fn write(&self, db: &Db) -> Result<(), store::StoreError> {
        db.insert(&CDRS, Scope::Workspace(self.workspace_id), self.values(), self.end).await?;
        Ok(())
    }

    /// The record's columns.
    pub fn values(&self) -> store::Values {
        let secs = |from: Millis| ((self.end - from).max(0) + 500) / 1000;
        let or = |given: &str, other: &str| Value::from(if given.is_empty() { other } else { given });
        let values = [
            ("call_ref", or(&self.call_ref, &self.leg_ref)),
            ("leg_ref", Value::from(self.leg_ref.as_str())),
            ("leg", Value::from(if self.leg.is_empty() { CALLER_SIDE } else { self.leg })),
            ("src_dialled", or(&self.src_dialled, &self.src)),
            ("dst_dialled", or(&self.dst_dialled, &self.dst)),
            ("calldate", Value::Int(self.start)),
            ("answer_date", self.answer.map_or(Value::Null, Value::Int)),
            ("end_date", Value::Int(self.end)),
            ("src", self.src.as_str().into()),
            ("dst", self.dst.as_str().into()),
            ("clid", self.clid.as_str().into()),
            ("src_id", self.src_id.map_or(Value::Null, Value::Int)),
            ("dst_id", self.dst_id.map_or(Value::Null, Value::Int)),
            ("direction", self.direction.into()),
            ("type", self.kind.into()),
            ("disposition", self.disposition.into()),
            ("hangup_cause", self.hangup_cause.as_str().into()),
            ("duration", Value::Int(secs(self.start))),
            ("billsec", Value::Int(self.answer.map_or(0, secs))),
            ("context", self.context.as_str().into()),
            ("codec", self.codec.as_str().into()),
            ("route_id", self.route_id.map_or(Value::Null, Value::Int)),
            ("application_id", self.application_id.map_or(Value::Null, Value::Int)),
            ("application_ref", self.application_ref.as_str().into()),
            ("recording", self.recording.as_deref().map_or(Value::Null, Value::from)),
        ];
        values.into_iter().collect()
    }
}

/// Where the API serves recording `name` (a plain file name of the
/// workspace's recordings folder): `/api/recordings/<name>`, the name
/// percent-encoded. Webhooks' `recordingUrl` and call records point there.
pub fn recording_url(name: &str) -> String {
    let mut out = String::from("/api/recordings/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn column<'v>(values: &'v store::Values, name: &str) -> &'v Value {
        &values.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn a_leg_names_its_call_its_side_and_both_numbers() {
        let cdr = Cdr {
            call_ref: "call-1".into(),
            leg_ref: "leg-2".into(),
            leg: CALLEE_SIDE,
            src: "+15550001111".into(),
            dst: "2002".into(),
            src_dialled: "5550001111".into(),
            dst_dialled: "0042002".into(),
            application_id: Some(7),
            application_ref: "app-7".into(),
            start: 1_000,
            answer: Some(2_000),
            end: 12_400,
            ..Cdr::default()
        };
        let v = cdr.values();
        assert_eq!(column(&v, "call_ref"), &Value::from("call-1"));
        assert_eq!(column(&v, "leg_ref"), &Value::from("leg-2"));
        assert_eq!(column(&v, "leg"), &Value::from("B"));
        assert_eq!(
            (column(&v, "src"), column(&v, "dst")),
            (&Value::from("+15550001111"), &Value::from("2002"))
        );
        assert_eq!(column(&v, "src_dialled"), &Value::from("5550001111"));
        assert_eq!(column(&v, "dst_dialled"), &Value::from("0042002"));
        assert_eq!(column(&v, "application_id"), &Value::Int(7));
        assert_eq!(column(&v, "application_ref"), &Value::from("app-7"));
        assert_eq!((column(&v, "duration"), column(&v, "billsec")), (&Value::Int(11), &Value::Int(10)));
    }

    #[test]
    fn a_lone_leg_is_its_own_call_and_numbers_default_to_the_translated_ones() {
        let cdr = Cdr { leg_ref: "leg-1".into(), src: "1".into(), dst: "2".into(), ..Cdr::default() };
        let v = cdr.values();
        assert_eq!(column(&v, "call_ref"), &Value::from("leg-1"));
        assert_eq!(column(&v, "leg"), &Value::from("A"));
        assert_eq!(
            (column(&v, "src_dialled"), column(&v, "dst_dialled")),
            (&Value::from("1"), &Value::from("2"))
        );
        assert_eq!(column(&v, "billsec"), &Value::Int(0), "never answered");
        assert_eq!(column(&v, "recording"), &Value::Null);
    }
}
