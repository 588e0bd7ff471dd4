//! Call detail records: one per leg, handed to the [`Writer`] when the
//! call ends, which writes them in batches.

pub mod writer;

pub use writer::{Writer, WriterError};

use store::schema::CDRS;
use store::{Db, Millis, Scope, Value};

/// What one leg did.
#[derive(Debug, Clone, Default)]
pub struct Cdr {
    /// The workspace.
    pub workspace_id: i64,
    /// The leg's id (shared by Fonoster's `ref`).
    pub leg_ref: String,
    /// Caller number.
    pub src: String,
    /// Called number.
    pub dst: String,
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
        let values = [
            ("call_ref", Value::from(self.leg_ref.as_str())),
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
