//! `fonoster.calls.v1beta2.Calls`: call records from the REST call list;
//! `CreateCall` is `POST /v1beta2/calls`, and `TrackCall` reads the
//! server-sent events of `GET /v1beta2/calls/{ref}/track` into a stream
//! (bounded: a client that goes away ends the reading).

use http_body_util::BodyExt;
use serde_json::Value as Json;
use tokio::sync::mpsc::Sender;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::crud::Crud;
use crate::json::{int, s, time};
use crate::pb::calls::calls_server::Calls as Service;
use crate::pb::calls::*;

/// The calls service.
pub struct Calls(pub Crud);

fn status(text: &str) -> CallStatus {
    let upper = text.trim().to_uppercase().replace(' ', "_");
    CallStatus::from_str_name(&upper).unwrap_or(match upper.as_str() {
        "ANSWERED" => CallStatus::NormalClearing,
        "BUSY" => CallStatus::UserBusy,
        "FAILED" => CallStatus::ServiceUnavailable,
        _ => CallStatus::Unknown,
    })
}

fn direction(text: &str) -> CallDirection {
    let upper = text.trim().to_uppercase();
    CallDirection::from_str_name(&upper).unwrap_or(match upper.as_str() {
        "OUTBOUND" | "OUTGOING" => CallDirection::ToPstn,
        "INTERNAL" | "LOCAL" => CallDirection::IntraNetwork,
        _ => CallDirection::FromPstn,
    })
}

/// A `data:` line of the track's events as a status.
fn track_status(line: &str) -> Option<track_call_response::Status> {
    let data = line.strip_prefix("data:")?.trim();
    let j: Json = serde_json::from_str(data).ok()?;
    track_call_response::Status::from_str_name(j.get("status")?.as_str()?)
}

/// Longest event line kept while reading a track.
const LINE_LIMIT: usize = 4096;

/// Reads the track's events into `tx` until the track or the client ends.
async fn relay(body: axum::body::Body, tx: Sender<Result<TrackCallResponse, Status>>) {
    let mut body = body;
    let mut line = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return };
        let Some(bytes) = frame.data_ref() else { continue };
        for &b in bytes.iter() {
            if b != b'\n' {
                if line.len() < LINE_LIMIT {
                    line.push(b);
                }
                continue;
            }
            if let Some(status) = track_status(&String::from_utf8_lossy(&line)) {
                if tx.send(Ok(TrackCallResponse { status: status as i32 })).await.is_err() {
                    return;
                }
            }
            line.clear();
        }
    }
}

fn record(j: &Json) -> CallDetailRecord {
    let kind = CallType::from_str_name(&s(j, "type").to_uppercase()).unwrap_or(CallType::SipOriginated);
    CallDetailRecord {
        r#ref: s(j, "ref"),
        call_id: s(j, "ref"),
        r#type: kind as i32,
        status: status(&s(j, "status")) as i32,
        started_at: time(j, "startTime"),
        ended_at: time(j, "endTime"),
        from: s(j, "from"),
        to: s(j, "to"),
        duration: int(j, "duration"),
        direction: direction(&s(j, "direction")) as i32,
    }
}

#[tonic::async_trait]
impl Service for Calls {
    async fn create_call(
        &self,
        req: Request<CreateCallRequest>,
    ) -> Result<Response<CreateCallResponse>, Status> {
        let who = crate::bridge::Who::of(&req);
        let q = req.get_ref();
        let mut body = serde_json::json!({"from": q.from, "to": q.to});
        if !q.app_ref.is_empty() {
            body["appRef"] = Json::from(q.app_ref.clone());
        }
        if q.timeout > 0 {
            body["timeout"] = Json::from(q.timeout);
        }
        let answer = self.0.rest.post(&who, self.0.base, body).await?;
        Ok(Response::new(CreateCallResponse { r#ref: s(&answer, "ref") }))
    }

    async fn list_calls(
        &self,
        req: Request<ListCallsRequest>,
    ) -> Result<Response<ListCallsResponse>, Status> {
        let who = crate::bridge::Who::of(&req);
        let q = req.get_ref();
        if [&q.after, &q.before, &q.from, &q.to].iter().any(|f| !f.is_empty()) {
            return Err(Status::unimplemented("filtering calls by time or party is not supported yet"));
        }
        let (items, next_page_token) = self.0.list(&who, q.page_size, &q.page_token).await?;
        Ok(Response::new(ListCallsResponse { items: items.iter().map(record).collect(), next_page_token }))
    }

    async fn get_call(&self, req: Request<GetCallRequest>) -> Result<Response<CallDetailRecord>, Status> {
        let who = crate::bridge::Who::of(&req);
        Ok(Response::new(record(&self.0.get(&who, &req.get_ref().r#ref).await?)))
    }

    type TrackCallStream = ReceiverStream<Result<TrackCallResponse, Status>>;

    async fn track_call(
        &self,
        req: Request<TrackCallRequest>,
    ) -> Result<Response<Self::TrackCallStream>, Status> {
        let who = crate::bridge::Who::of(&req);
        let path =
            format!("{}/{}/track", self.0.base, crate::json::segment(self.0.label, &req.get_ref().r#ref)?);
        let body = self.0.rest.open(&who, &path).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        tokio::spawn(relay(body, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_map_statuses_directions_and_times() {
        let j = json!({"ref": "c1", "from": "1001", "to": "1002", "status": "NO ANSWER", "direction": "outbound",
            "type": "", "startTime": "1970-01-01T00:01:40Z", "endTime": null, "duration": 7});
        let r = record(&j);
        assert_eq!(r.status, CallStatus::NoAnswer as i32);
        assert_eq!(r.direction, CallDirection::ToPstn as i32);
        assert_eq!((r.started_at, r.ended_at, r.duration), (100, 0, 7));
        assert_eq!(status("NORMAL_CLEARING"), CallStatus::NormalClearing);
        assert_eq!(status("BUSY"), CallStatus::UserBusy);
        assert_eq!(status("who knows"), CallStatus::Unknown);
        assert_eq!(direction("internal"), CallDirection::IntraNetwork);
    }

    #[test]
    fn track_lines_become_statuses() {
        use track_call_response::Status as S;
        assert_eq!(track_status(r#"data: {"ref":"c1","status":"PROGRESS"}"#), Some(S::Progress));
        assert_eq!(track_status(r#"data:{"status":"NOANSWER"}"#), Some(S::Noanswer));
        assert_eq!(track_status(": keep-alive"), None);
        assert_eq!(track_status(r#"data: {"status":"LOST"}"#), None);
    }
}
