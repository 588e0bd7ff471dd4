//! Vonage status events to an application's event_url: one queue per
//! call, sent one after another (retried as events are); an event that
//! still cannot be delivered is published as `call.webhook.failed`
//! (`webhook: "event_url"`). A call placed through the Voice API
//! (`POST /v1/calls`) has its queue from the start, so its event_url hears
//! `started` when it is placed, `ringing` on the callee's first 18x,
//! `answered`, then `completed` (with its times and duration), or how it
//! failed: `busy`, `timeout`, `unanswered`, `rejected`, `cancelled`,
//! `failed`.

use std::sync::Arc;

use serde_json::json;
use store::{Key, Millis, Scope};

use super::AppProgram;
use crate::calls::call::{Call, Ending};
use crate::events::{Bus, Event};
use crate::webhooks::shapes::CallTimes;
use crate::webhooks::{AppHooks, CallDirection, CallFacts, Client, Secret, VonageStatus};

/// Status events of one call waiting to be sent, at most.
const STATUS_QUEUE: usize = 16;

/// A call's status events on their way.
pub(in crate::calls::call) type StatusQueue =
    tokio::sync::mpsc::Sender<(VonageStatus, Millis, Option<CallTimes>)>;

/// Where a call's status events go and who hears of their failures.
pub(in crate::calls::call) struct StatusTarget {
    /// The webhook client.
    pub client: Arc<Client>,
    /// What signs them.
    pub secret: Secret,
    /// The application's webhooks (its event_url).
    pub hooks: AppHooks,
    /// The call, as the events describe it.
    pub facts: CallFacts,
    /// The bus and the workspace, for `call.webhook.failed`.
    pub bus: Bus,
    /// The workspace.
    pub workspace_id: i64,
}

/// Sends a call's status events one after another (retried as events
/// are), until the call drops its sender; one that fails for good is
/// published as `call.webhook.failed`.
pub(in crate::calls::call) fn status_sender(target: StatusTarget) -> StatusQueue {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(VonageStatus, Millis, Option<CallTimes>)>(STATUS_QUEUE);
    let StatusTarget { client, secret, hooks, facts, bus, workspace_id } = target;
    tokio::spawn(async move {
        while let Some((status, at, times)) = rx.recv().await {
            let Some(req) = hooks.status_request(&facts, status, at, times) else { continue };
            let sent = match req {
                Ok(req) => client.event(&req, &secret).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = sent {
                tracing::info!(call = %facts.call_ref, status = status.as_str(), cause = e.cause(), "a status event was not delivered: {e}");
                let url = hooks.event.as_ref().map(|h| h.url.clone()).unwrap_or_default();
                let data = json!({
                    "ref": facts.call_ref,
                    "webhook": "event_url",
                    "url": url,
                    "status": status.as_str(),
                    "cause": e.cause(),
                    "detail": e.to_string(),
                });
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                bus.publish(Event { name: "call.webhook.failed", workspace_id, at: now, data });
            }
        }
    });
    tx
}

/// The status a placed call that was never answered ends with.
pub(in crate::calls::call) fn unanswered_status(ending: Ending) -> VonageStatus {
    match (ending.status, ending.cause) {
        (_, "NO_ANSWER") => VonageStatus::Timeout,
        (486 | 600, _) => VonageStatus::Busy,
        (487, _) => VonageStatus::Cancelled,
        (480 | 408 | 603, _) => VonageStatus::Unanswered,
        (403 | 606, _) => VonageStatus::Rejected,
        _ => VonageStatus::Failed,
    }
}

impl Call {
    /// The status queue of a call placed with `program` (a Voice API
    /// call) from `caller` to `callee`, when its application (or the
    /// program) has an event_url; `started` is queued at once.
    pub(in crate::calls::call) async fn start_placed_status(
        &self,
        program: &AppProgram,
        caller: &str,
        callee: &str,
    ) -> Option<StatusQueue> {
        if !program.vonage {
            return None;
        }
        let scope = Scope::Workspace(self.workspace_id);
        let key = Key::Ref(program.application.clone());
        let stored = match self.sw.db.get(&store::schema::APPLICATIONS, scope, &key).await {
            Ok(record) => {
                let capabilities: Option<serde_json::Value> =
                    record.get("capabilities").as_str().and_then(|t| serde_json::from_str(t).ok());
                AppHooks::from_application(record.text("endpoint"), capabilities.as_ref())
            }
            Err(_) => return None,
        };
        let hooks = program.hooks(stored).ok()?;
        hooks.event.as_ref()?;
        let client = self.sw.apps.client.clone()?;
        let uuid = self.uuid();
        let facts = CallFacts {
            call_ref: uuid.clone(),
            conversation_ref: crate::webhooks::shapes::conversation_uuid(&uuid),
            app_ref: program.application.clone(),
            workspace_ref: self.workspace_id.to_string(),
            caller: caller.to_owned(),
            callee: callee.to_owned(),
            direction: CallDirection::ToPstn,
            domain: None,
        };
        let target = StatusTarget {
            client,
            secret: self.sw.apps.secrets.for_application(&program.application),
            hooks,
            facts,
            bus: self.sw.bus.clone(),
            workspace_id: self.workspace_id,
        };
        let queue = status_sender(target);
        let _ = queue.try_send((VonageStatus::Started, self.now(), None));
        Some(queue)
    }
}

/// Queues `status` on `queue` (dropped, and logged, when it is full).
pub(in crate::calls::call) fn queue_status(
    queue: Option<&StatusQueue>,
    status: VonageStatus,
    at: Millis,
    times: Option<CallTimes>,
) {
    if let Some(tx) = queue {
        if tx.try_send((status, at, times)).is_err() {
            tracing::info!(status = status.as_str(), "a status event was dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unanswered_placed_call_says_why() {
        let s = |status, cause| unanswered_status(Ending { status, cause });
        assert_eq!(s(480, "NO_ANSWER"), VonageStatus::Timeout);
        assert_eq!(s(486, "USER_BUSY"), VonageStatus::Busy);
        assert_eq!(s(487, "ORIGINATOR_CANCEL"), VonageStatus::Cancelled);
        assert_eq!(s(603, "CALL_REJECTED"), VonageStatus::Unanswered);
        assert_eq!(s(480, "NO_USER_RESPONSE"), VonageStatus::Unanswered);
        assert_eq!(s(403, "NORMAL_TEMPORARY_FAILURE"), VonageStatus::Rejected);
        assert_eq!(s(503, "NORMAL_TEMPORARY_FAILURE"), VonageStatus::Failed);
    }
}
