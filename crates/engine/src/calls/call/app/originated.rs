//! A program run by an originated call once its callee answers
//! (Fonoster `createCall` with an `appRef`, Vonage `POST /v1/calls` with
//! `ncco` or `answer_url`): the program talks to the callee over its
//! answered UAC leg. Answering is then a no-op, rejecting impossible, the
//! callee's BYE ends it; the application hears of an outbound call.

use sip::sdp::SessionDescription;
use store::Key;

use super::super::inbound::Parties;
use super::super::media::CallMedia;
use super::super::{Call, Ending};
use super::AppChannel;
use crate::calls::leg::Leg;
use crate::program::Verb;
use crate::webhooks::{AppHooks, AppUrl, HttpMethod, WebhookError};

/// The program an originated call runs once answered.
#[derive(Debug, Clone)]
pub struct AppProgram {
    /// The application's ref: its webhooks, signing secret and speech
    /// settings. Empty with a `script`: the script runs alone, with no
    /// application and no webhooks.
    pub application: String,
    /// A first script given inline (Vonage `ncco`): it runs at once, no
    /// answer URL is asked.
    pub script: Option<Vec<Verb>>,
    /// An answer URL in place of the application's (Vonage `answer_url`).
    pub answer_url: Option<AppUrl>,
    /// An event URL in place of the application's (Vonage `event_url`).
    pub event_url: Option<AppUrl>,
    /// Whether the call speaks Vonage to the application (NCCO results,
    /// status events) whatever its capabilities say.
    pub vonage: bool,
}

impl AppProgram {
    /// The application's webhooks (as read from its record) with this
    /// program's in their place. An application without a usable endpoint
    /// is fine when the program brings its script or its answer URL.
    pub(super) fn hooks(&self, stored: Result<AppHooks, WebhookError>) -> Result<AppHooks, WebhookError> {
        let mut hooks = match stored {
            Ok(hooks) => hooks,
            Err(e) if self.script.is_none() && self.answer_url.is_none() => return Err(e),
            Err(_) => AppHooks {
                answer: AppUrl { url: String::new(), method: HttpMethod::Post, timeout: None },
                fallback: None,
                event: None,
                vonage: self.vonage,
            },
        };
        if let Some(answer) = &self.answer_url {
            hooks.answer = answer.clone();
            hooks.fallback = None;
        }
        if let Some(event) = &self.event_url {
            hooks.event = Some(event.clone());
        }
        hooks.vonage |= self.vonage;
        Ok(hooks)
    }
}

impl Call {
    /// Runs `program` over `leg`, the callee's answered leg (our offer to
    /// it was `ours`), until the call ends.
    pub(in crate::calls::call) async fn run_originated(
        &mut self,
        leg: Leg,
        ours: SessionDescription,
        media: &mut CallMedia,
        p: &mut Parties,
        program: &AppProgram,
    ) -> Ending {
        let workspace = self.workspace_id;
        let placed = self.placed_status.take();
        let mut ch = AppChannel::new(self, None, p, media, ours, false, Some(leg));
        ch.status = placed;
        let outcome = match (&program.script, program.application.is_empty()) {
            // No application: the script alone, with no webhooks (the PBX
            // `conference` app of `POST /api/channels`).
            (Some(verbs), true) => crate::program::run(verbs.clone(), &mut ch, &mut super::NoWebhooks).await,
            _ => ch.application(workspace, Key::Ref(program.application.clone()), Some(program)).await,
        };
        ch.close(outcome).await
    }
}
