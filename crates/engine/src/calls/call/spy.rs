//! Feature codes that act on another agent's live call, from an agent's
//! phone: eavesdrop (`*33<ext>`), whisper (`*34<ext>`), force insert or
//! barge (`*35<ext>`), force breakdown (`*36<ext>`), pickup (`*8`,
//! `**<ext>`) and record on/off of the caller's own call (`*1`, from
//! another line). The call acted on
//! is found among the live calls of the caller's own workspace only; a
//! code the workspace disabled never gets here (it routes as dialled).
//! Eavesdrop, whisper, barge and breakdown are for supervisors only (the
//! agent's `supervisor` flag): anyone else is refused with 403 before any
//! call is looked at. Pickup and record follow their own rules (pickup
//! groups, the caller's own call).

use sip::{HeaderName, StatusCode};
use store::Millis;

use super::feature::LEG;
use super::inbound::Caller;
use super::listen::{agent_leg, leg_user, ListenMode};
use super::{Call, CallCommand, CommandError, Ending};
use crate::accounts::Account;
use crate::calls::registry::Channel;
use crate::router::features::*;
use crate::router::Feature;

/// Whether a feature of type `func_type` acts on another call.
pub(super) fn acts_on_calls(func_type: &str) -> bool {
    matches!(
        func_type,
        EAVESDROP | WHISPER | FORCE_INSERT | FORCE_BREAKDOWN | GROUP_PICKUP | DIRECTED_PICKUP | RECORD
    )
}

/// Whether a feature of type `func_type` is for supervisors only: those
/// that listen to, speak into or end someone else's call.
pub(super) fn needs_supervisor(func_type: &str) -> bool {
    matches!(func_type, EAVESDROP | WHISPER | FORCE_INSERT | FORCE_BREAKDOWN)
}

/// How a listening feature joins the call.
fn mode_of(func_type: &str) -> Option<ListenMode> {
    match func_type {
        EAVESDROP => Some(ListenMode::Eavesdrop),
        WHISPER => Some(ListenMode::Whisper),
        FORCE_INSERT => Some(ListenMode::Barge),
        _ => None,
    }
}

impl Call {
    /// Refuses the feature call with `status` and a Warning saying why.
    pub(super) fn refuse_feature(&self, a: &Caller, status: u16, reason: &str) -> (Ending, Option<Millis>) {
        tracing::info!(%reason, status, "a feature code was refused");
        self.send_refusal(a, status, super::cause_of(status), reason)
    }

    /// Answers A with `status` and a Warning saying `reason`; the ending,
    /// with `cause` for the call's record.
    fn send_refusal(
        &self,
        a: &Caller,
        status: u16,
        cause: &'static str,
        reason: &str,
    ) -> (Ending, Option<Millis>) {
        let code = StatusCode::new(status).unwrap_or(StatusCode::SERVER_INTERNAL_ERROR);
        let mut resp = a.reply(&self.sw, code);
        resp.head.headers.push(HeaderName::Warning, format!("399 calliope \"{}\"", reason.replace('"', "'")));
        self.respond(a.id, resp);
        (Ending::new(status, cause), None)
    }

    /// Carries out a feature that acts on the live call of the extension
    /// the caller dialled after the code.
    pub(super) async fn act_on_call(
        &mut self,
        a: &Caller,
        caller: &Account,
        feature: &Feature,
    ) -> (Ending, Option<Millis>) {
        let kind = feature.func_type.as_str();
        if matches!(kind, GROUP_PICKUP | DIRECTED_PICKUP) {
            return self.pickup(a, caller, feature).await;
        }
        if kind == RECORD {
            return self.toggle_record(a, caller).await;
        }
        // Before anything else, so that a refused agent learns nothing
        // about who is talking.
        if needs_supervisor(kind) && !caller.supervisor {
            tracing::warn!(
                agent = %caller.extension,
                workspace = caller.workspace_id,
                feature = kind,
                "refused: only a supervisor may act on other agents' calls"
            );
            let reason = format!("{kind}: only a supervisor may act on other agents' calls");
            return self.send_refusal(a, 403, "CALL_REJECTED", &reason);
        }
        let extension = feature.arg.trim();
        if extension.is_empty() {
            return self.refuse_feature(a, 484, &format!("{kind}: the extension is missing"));
        }
        if extension == caller.extension {
            return self.refuse_feature(a, 484, &format!("{kind}: an agent cannot act on its own call"));
        }
        let channels = self.sw.calls.of(caller.workspace_id);
        let Some(target) = agent_leg(&channels, extension, "ACTIVE", &self.uuid()) else {
            return self.refuse_feature(a, 404, &format!("{extension} has no call in progress"));
        };
        tracing::info!(agent = %caller.extension, feature = kind, target = %target.call_uuid, "acting on a live call");
        let Some(mode) = mode_of(kind) else {
            // Force breakdown: hang the call up, then confirm.
            return match self
                .sw
                .calls
                .command(caller.workspace_id, &target.call_uuid, CallCommand::Hangup)
                .await
            {
                Ok(()) => match self.confirm(a).await {
                    Some(answered) => (Ending::new(200, "NORMAL_CLEARING"), Some(answered)),
                    None => (Ending::new(503, "NORMAL_TEMPORARY_FAILURE"), None),
                },
                Err(e) => self.refuse_feature(a, 404, &format!("{extension}'s call cannot be hung up: {e}")),
            };
        };
        let Some(mut alone) = self.answer_alone(a).await else {
            return (Ending::new(503, "NORMAL_TEMPORARY_FAILURE"), None);
        };
        match self.listen_to(mode, &target.uuid, &mut alone.media, LEG).await {
            Ok(()) => {}
            Err(e) => {
                tracing::info!(error = %e, "the call to listen to refused");
                self.bye(&mut alone.leg).await;
                let status = if e == CommandError::NotFound { 404 } else { 409 };
                return (Ending::new(status, "NORMAL_CLEARING"), Some(alone.answered));
            }
        }
        // Until the listener hangs up or the call listened to ends (the
        // mix stops: the listener's playback finishes).
        self.stay_alone(a, &mut alone, None).await;
        (Ending::new(200, "NORMAL_CLEARING"), Some(alone.answered))
    }

    /// Answers a call ringing another agent for the caller: the one
    /// ringing the extension dialled after the code (directed pickup), or
    /// the oldest ringing an agent of the caller's pickup group (its
    /// calling context).
    async fn pickup(&mut self, a: &Caller, caller: &Account, feature: &Feature) -> (Ending, Option<Millis>) {
        let ws = caller.workspace_id;
        let me = self.uuid();
        let channels = self.sw.calls.of(ws);
        let ringing = |c: &&Channel| {
            c.direction == "outbound" && matches!(c.callstate, "RINGING" | "EARLY") && c.call_uuid != me
        };
        let target = if feature.func_type == DIRECTED_PICKUP {
            let extension = feature.arg.trim();
            if extension.is_empty() {
                return self.refuse_feature(
                    a,
                    484,
                    &format!("{}: the extension is missing", feature.func_type),
                );
            }
            channels.iter().filter(ringing).find(|c| leg_user(&c.name) == Some(extension)).cloned()
        } else {
            let mut found = None;
            for c in channels.iter().filter(ringing) {
                let Some(extension) = leg_user(&c.name).filter(|e| *e != caller.extension) else { continue };
                if let Ok(Some(agent)) = self.sw.accounts.by_extension(ws, extension).await {
                    if same_group(agent.text("context"), &caller.context) {
                        found = Some(c.clone());
                        break;
                    }
                }
            }
            found
        };
        let Some(target) = target else {
            return self.refuse_feature(a, 404, "no call to pick up is ringing");
        };
        tracing::info!(agent = %caller.extension, target = %target.call_uuid, "picking a call up");
        let Some(mut alone) = self.answer_alone(a).await else {
            return (Ending::new(503, "NORMAL_TEMPORARY_FAILURE"), None);
        };
        if let Err(e) = self.pick_up_from(&target.uuid, &mut alone.media, LEG).await {
            tracing::info!(error = %e, "the ringing call could not be picked up");
            self.bye(&mut alone.leg).await;
            return (Ending::new(409, "NORMAL_CLEARING"), Some(alone.answered));
        }
        self.stay_alone(a, &mut alone, None).await;
        (Ending::new(200, "NORMAL_CLEARING"), Some(alone.answered))
    }
}

impl Call {
    /// Starts recording the caller's own live call (on another line), or
    /// stops it when it is being recorded; then confirms.
    async fn toggle_record(&mut self, a: &Caller, caller: &Account) -> (Ending, Option<Millis>) {
        let ws = caller.workspace_id;
        let channels = self.sw.calls.of(ws);
        let Some(own) = agent_leg(&channels, &caller.extension, "ACTIVE", &self.uuid()) else {
            return self.refuse_feature(a, 404, "no call in progress to record");
        };
        let target = own.call_uuid;
        match self.sw.calls.command(ws, &target, CallCommand::StopRecord).await {
            Ok(()) => tracing::info!(call = %target, "recording stopped by feature code"),
            Err(CommandError::Media(_)) => {
                let Some(dir) = self.sw.config.recordings.as_ref().map(|d| d.join(ws.to_string())) else {
                    return self.refuse_feature(a, 503, "no recordings folder is configured");
                };
                if let Err(e) = std::fs::create_dir_all(&dir) {
                    tracing::warn!(error = %e, "cannot make the recordings folder");
                    return self.refuse_feature(a, 503, "the recording cannot be written");
                }
                let path = dir.join(format!("{target}-{}.wav", self.now())).display().to_string();
                if let Err(e) = self.sw.calls.command(ws, &target, CallCommand::Record { path }).await {
                    return self.refuse_feature(a, 409, &format!("the call cannot be recorded: {e}"));
                }
                tracing::info!(call = %target, "recording started by feature code");
            }
            Err(e) => return self.refuse_feature(a, 409, &format!("the call cannot be recorded: {e}")),
        }
        match self.confirm(a).await {
            Some(answered) => (Ending::new(200, "NORMAL_CLEARING"), Some(answered)),
            None => (Ending::new(503, "NORMAL_TEMPORARY_FAILURE"), None),
        }
    }
}

/// Whether two agents' calling contexts make one pickup group (an empty
/// context is the `default` one).
fn same_group(a: &str, b: &str) -> bool {
    let norm = |c: &str| if c.trim().is_empty() { "default".to_owned() } else { c.trim().to_owned() };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_features_and_pickup_groups() {
        assert!(acts_on_calls(EAVESDROP) && acts_on_calls(DIRECTED_PICKUP) && !acts_on_calls(DND_ON));
        for kind in [EAVESDROP, WHISPER, FORCE_INSERT, FORCE_BREAKDOWN] {
            assert!(needs_supervisor(kind), "{kind}");
        }
        for kind in [GROUP_PICKUP, DIRECTED_PICKUP, RECORD, DND_ON] {
            assert!(!needs_supervisor(kind), "{kind}");
        }
        assert_eq!(mode_of(WHISPER), Some(ListenMode::Whisper));
        assert_eq!(mode_of(FORCE_BREAKDOWN), None);
        assert!(same_group("", "default") && same_group("sales", " sales"));
        assert!(!same_group("sales", "support"));
    }
}
