//! Dialling from a program: what its targets ring. A number goes through
//! the router as a call from the caller in the call's context (so routes,
//! agents' forwarding-free extensions, trunks, gateways and egress
//! policies apply); a number no route takes that is an agent's extension
//! rings that agent; an agent (NCCO `app`, TwiML `Client`) rings its
//! registered contacts; a SIP URI rings that address (or leaves through
//! egress when it names a host). The targets of one dial ring together;
//! then [`AppChannel::ring_and_bridge`](super::bridge) carries the call.

use std::time::Duration;

use serde_json::json;

use super::bridge::{LegFacts, Placing};
use super::{failed, AppChannel};
use crate::calls::call::connect::Outgoing;
use crate::calls::call::inbound::{codec_named, with_hops};
use crate::calls::call::target::leaves;
use crate::calls::dial::{Attempt, Dial, NextOn};
use crate::program::{self, ChannelError, DialResult, DialStatus, Outcome, Target};
use crate::router::{self, Inbound, Plan, Routed, Snapshot, Source};

impl AppChannel<'_> {
    /// Dialling from a program: ring the targets together, bridge the
    /// first that answers until either side hangs up.
    pub(super) async fn dial_out(&mut self, dial: &program::Dial) -> Result<DialResult, ChannelError> {
        program::Channel::answer(self).await?;
        let placing = match self.placing(dial).await {
            Ok(p) => p,
            Err(why) => {
                tracing::info!(call = %self.p.uuid_a, "a program's dial cannot be placed: {why}");
                self.call.publish("call.dial.failed", json!({"reason": why}));
                return Ok(DialResult {
                    status: DialStatus::Failed,
                    leg_id: None,
                    duration: Duration::ZERO,
                    recording: None,
                });
            }
        };
        self.ring_and_bridge(placing, dial.timeout, dial.time_limit, dial.record).await
    }

    /// An IVR's `IVR_EXTENSION` or `IVR_ROUTE`: the agent with extension
    /// `number` (no `context`), else `number` routed in `context` (the
    /// call's own when `None`), bridged; the call ends when the callee
    /// hangs up, or when nobody could be reached.
    pub(super) async fn transfer(&mut self, context: Option<&str>, number: &str) -> Outcome {
        if let Err(e) = program::Channel::answer(self).await {
            return outcome_of(e);
        }
        self.call.publish("call.transfer", json!({"to": number, "context": context}));
        // IVR_EXTENSION (no context) names an agent; else it is routed.
        let agent = match context {
            None => self.agent(number, None).await.ok(),
            Some(_) => None,
        };
        let placing = match agent {
            Some(p) => Ok(p),
            None => self.route_number(context, number, None).await,
        };
        let placing = match placing {
            Ok(mut p) => {
                p.dialled = (self.p.caller.clone(), number.to_owned());
                p
            }
            Err(why) => {
                tracing::info!(call = %self.p.uuid_a, to = %number, "the menu's transfer goes nowhere: {why}");
                return failed("transfer", ChannelError::Failed(why));
            }
        };
        let timeout = placing.out.ring_timeout;
        match self.ring_and_bridge(placing, timeout, None, false).await {
            Ok(r) if r.status == DialStatus::Completed => Outcome::Completed,
            Ok(r) => failed("transfer", ChannelError::Failed(format!("{number}: {:?}", r.status))),
            Err(e) => outcome_of(e),
        }
    }

    /// What `dial` rings and how its INVITEs look.
    async fn placing(&mut self, dial: &program::Dial) -> Result<Placing, String> {
        let from = dial.from.as_deref().map(str::trim).filter(|f| !f.is_empty());
        let mut all: Vec<Placing> = Vec::new();
        let mut why = Vec::new();
        for target in &dial.targets {
            let placed = match target {
                Target::Number(n) => self.route_number(None, n.trim(), from).await,
                Target::Agent(name) => self.agent(name.trim(), from).await,
                Target::Sip { uri, headers } => self.sip_uri(uri.trim(), headers, from).await,
            };
            let dialled = match target {
                Target::Number(n) => n.trim(),
                Target::Agent(name) => name.trim(),
                Target::Sip { uri, .. } => uri.trim(),
            };
            match placed {
                Ok(mut p) => {
                    p.dialled = (from.unwrap_or(&self.p.caller).to_owned(), dialled.to_owned());
                    all.push(p)
                }
                Err(e) => why.push(e),
            }
        }
        match all.len() {
            0 => Err(if why.is_empty() { "nothing to dial".to_owned() } else { why.join("; ") }),
            1 => Ok(all.remove(0)),
            _ => {
                // Several targets ring at once: each one's first attempt,
                // together, as the first target's INVITEs look.
                let mut together = Attempt {
                    destinations: Vec::new(),
                    next_on: NextOn::AnyFailure,
                    ring_timeout: None,
                    label: String::new(),
                };
                let mut labels = Vec::new();
                for p in &mut all {
                    if let Some(first) = p.dial.attempts.first_mut() {
                        together.destinations.append(&mut first.destinations);
                        labels.push(first.label.clone());
                    }
                }
                together.label = labels.join(" + ");
                let first = all.swap_remove(0);
                Ok(Placing { dial: Dial { attempts: vec![together] }, ..first })
            }
        }
    }

    /// The routing snapshot of the call's workspace.
    async fn snapshot(&self) -> Result<std::sync::Arc<Snapshot>, String> {
        self.call
            .sw
            .routing
            .get(&self.call.sw.db, self.p.workspace_id)
            .await
            .map_err(|e| format!("the routing configuration cannot be read: {e}"))
    }

    /// `number` routed as a call from the caller in `context` (the call's
    /// own by default); a number no route takes that is an agent's
    /// extension rings that agent.
    async fn route_number(
        &mut self,
        context: Option<&str>,
        number: &str,
        from: Option<&str>,
    ) -> Result<Placing, String> {
        if number.is_empty() {
            return Err("an empty number".to_owned());
        }
        let snapshot = self.snapshot().await?;
        let source = self.p.caller_id.map_or(Source::Test, Source::Agent);
        let context = context.unwrap_or(&self.p.context).to_owned();
        let mut call = Inbound::new(source, &context, &self.p.caller, number);
        call.caller_name = self.caller_display();
        call.hops = self.hops_in() + 1;
        let routed = match router::route(&snapshot, &call, self.now()) {
            Plan::Route(r) => *r,
            Plan::Reject(r) if r.status == 404 && r.route_id.is_none() => {
                return match snapshot.agent_by_extension(number) {
                    Some(agent) => {
                        let (id, ext) = (agent.id, agent.username.clone());
                        Ok(self.agent_placing(id, &ext, from, call.hops))
                    }
                    None => Err(r.reason),
                };
            }
            Plan::Reject(r) => return Err(r.reason),
            Plan::Feature(_) => return Err(format!("{number} is a feature code, not a number")),
        };
        tracing::info!(call = %self.p.uuid_a, to = %number, route = ?routed.route_id, "a program dials");
        let dial = self.call.dial_for(&routed, &snapshot).await.map_err(|r| r.reason)?;
        Ok(self.placing_for(&routed, dial, from))
    }

    /// An agent of the workspace by extension (user name).
    async fn agent(&mut self, name: &str, from: Option<&str>) -> Result<Placing, String> {
        let snapshot = self.snapshot().await?;
        let Some(agent) = snapshot.agent_by_extension(name) else {
            return Err(format!("no agent has extension {name:?}"));
        };
        let (id, ext) = (agent.id, agent.username.clone());
        Ok(self.agent_placing(id, &ext, from, self.hops_in() + 1))
    }

    fn agent_placing(&self, agent_id: i64, extension: &str, from: Option<&str>, hops: u32) -> Placing {
        let attempt = self.call.agent_attempt(agent_id, extension, NextOn::AnyFailure);
        let mut out = self.outgoing(extension, from, hops);
        out.callee = extension.to_owned();
        let record = LegFacts { leaves: false, callee_id: Some(agent_id), route_id: None };
        Placing { dial: Dial { attempts: vec![attempt] }, out, record, dialled: Default::default() }
    }

    /// A SIP URI: its address, or egress for a host name.
    async fn sip_uri(
        &mut self,
        uri: &str,
        headers: &[(String, String)],
        from: Option<&str>,
    ) -> Result<Placing, String> {
        let snapshot = self.snapshot().await?;
        let user = sip::Uri::parse(uri).ok().and_then(|u| u.user().map(str::to_owned)).unwrap_or_default();
        let hops = self.hops_in() + 1;
        let routed = Routed {
            route_id: None,
            number_id: None,
            window_id: None,
            target: router::Target::Uri(uri.to_owned()),
            body: String::new(),
            callee: user,
            caller: self.p.caller.clone(),
            caller_name: self.caller_display(),
            record: false,
            proxy_media: true,
            codecs: Vec::new(),
            ring_timeout: None,
            headers: headers.to_vec(),
            hops,
            forward_busy: None,
            forward_no_answer: None,
        };
        let dial = self.call.dial_for(&routed, &snapshot).await.map_err(|r| r.reason)?;
        Ok(self.placing_for(&routed, dial, from))
    }

    /// How the INVITEs of a routed dial look.
    fn placing_for(&self, routed: &Routed, dial: Dial, from: Option<&str>) -> Placing {
        let mut out = self.outgoing(&routed.callee, from.or(Some(&routed.caller)), routed.hops);
        out.headers = with_hops(&routed.headers, routed.hops);
        out.codecs = routed.codecs.iter().filter_map(|c| codec_named(c)).collect();
        if let Some(s) = routed.ring_timeout {
            out.ring_timeout = Duration::from_secs(u64::from(s.clamp(1, 3600)));
        }
        let callee_id = match routed.target {
            router::Target::Agent { agent_id, .. } => Some(agent_id),
            _ => None,
        };
        let record = LegFacts { leaves: leaves(&routed.target), callee_id, route_id: routed.route_id };
        Placing { dial, out, record, dialled: Default::default() }
    }

    /// The INVITEs to `callee`: from `from` (else the caller), one hop on.
    fn outgoing(&self, callee: &str, from: Option<&str>, hops: u32) -> Outgoing {
        Outgoing {
            callee: callee.to_owned(),
            caller: from.unwrap_or(&self.p.caller).to_owned(),
            caller_name: None,
            max_forwards: self.forwards_in().saturating_sub(1),
            headers: with_hops(&[], hops),
            codecs: Vec::new(),
            ring_timeout: self.call.sw.config.ring_timeout,
            proxy_media: true,
            record: None,
        }
    }
}

/// The outcome of a program whose step failed with `e`.
fn outcome_of(e: ChannelError) -> Outcome {
    match e {
        ChannelError::HungUp => Outcome::CallerHungUp,
        e => failed("transfer", e),
    }
}
