//! `fonoster.calls.v1beta2.Calls`: call records from the REST call list.
//! Placing and tracking calls come with call control; until then they
//! answer `UNIMPLEMENTED`.

use serde_json::Value as Json;
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
        _req: Request<CreateCallRequest>,
    ) -> Result<Response<CreateCallResponse>, Status> {
        Err(Status::unimplemented("placing calls over the API comes with call control; not available yet"))
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

    type TrackCallStream = tokio_stream::Empty<Result<TrackCallResponse, Status>>;

    async fn track_call(
        &self,
        _req: Request<TrackCallRequest>,
    ) -> Result<Response<Self::TrackCallStream>, Status> {
        Err(Status::unimplemented("tracking calls comes with call control; not available yet"))
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
}
