//! The supervisor task: owns every running gateway's registration and
//! every pinged peer, sends through the switch loop (each request a client
//! transaction whose answers come back as [`CallEvent`]s), and wakes at
//! the earliest timer of any of them.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sip::transaction::{ClientTxId, Peer, Protocol, TxId};
use sip::{Request, Response};
use store::schema::{GATEWAYS, PARAMS, TRUNKS};
use store::{Filter, Millis, Query, Scope};
use tokio::sync::{mpsc, oneshot};

use super::message::{self, Binding};
use super::ping::Pinger;
use super::register::{RegState, Registration, Send};
use super::spec::{GatewaySpec, Mode, Setup, Target, Transport, TrunkSpec};
use super::{Action, ControlError, GatewayStatus, PingView, Shown, TrunkStatus};
use crate::calls::leg::auth::{authorize, Account};
use crate::secrets::Sealer;
use crate::signalling::core::{CallEvent, Cmd};
use crate::signalling::{Switch, CONFIG_CHANGED};

/// What the handle asks.
#[derive(Debug)]
pub(super) enum Command {
    Control { id: i64, action: Action, reply: oneshot::Sender<Result<(), ControlError>> },
    Reload { reply: oneshot::Sender<()> },
    Shutdown { grace: Duration, reply: oneshot::Sender<()> },
}

/// What a client transaction of ours is for.
#[derive(Debug, Clone, Copy)]
enum Purpose {
    Register(i64),
    Unregister,
    GatewayPing(i64, u64),
    TrunkPing(i64, u64),
}

/// The REGISTER out now for a gateway.
#[derive(Debug)]
struct Attempt {
    tx: ClientTxId,
    request: Request,
    peer: Peer,
    authorized: bool,
}

/// An unREGISTER out now (kept apart from its gateway, which may be gone):
/// what answering its challenge needs.
#[derive(Debug)]
struct Unreg {
    request: Request,
    peer: Peer,
    account: Option<Account>,
    authorized: bool,
}

struct Run {
    spec: GatewaySpec,
    reg: Registration,
    binding: Binding,
    attempt: Option<Attempt>,
    pinger: Option<Pinger>,
    /// Where the last request went (the ping goes there too).
    peer: Option<Peer>,
}

struct TrunkRun {
    spec: TrunkSpec,
    pinger: Pinger,
}

struct Supervisor {
    sw: Arc<Switch>,
    sealer: Arc<Sealer>,
    gateways: BTreeMap<i64, Run>,
    trunks: BTreeMap<i64, TrunkRun>,
    txs: HashMap<ClientTxId, Purpose>,
    unregs: HashMap<ClientTxId, Unreg>,
    owner: mpsc::UnboundedSender<CallEvent>,
    shown: Arc<Mutex<Shown>>,
    /// The state each gateway was last announced in.
    announced: HashMap<i64, RegState>,
}

/// Runs until shut down.
pub(super) async fn run(
    sw: Arc<Switch>,
    sealer: Arc<Sealer>,
    mut cmds: mpsc::Receiver<Command>,
    shown: Arc<Mutex<Shown>>,
) {
    let (owner, mut events) = mpsc::unbounded_channel();
    let mut bus = Some(sw.bus.config_changes());
    let mut me = Supervisor {
        sw,
        sealer,
        gateways: BTreeMap::new(),
        trunks: BTreeMap::new(),
        txs: HashMap::new(),
        unregs: HashMap::new(),
        owner,
        shown,
        announced: HashMap::new(),
    };
    me.reload().await;
    loop {
        me.show();
        let wake = me.next_wake();
        let sleep = me.sw.clock.sleep_until(wake.unwrap_or(Millis::MAX));
        tokio::select! {
            Some(cmd) = cmds.recv() => match cmd {
                Command::Control { id, action, reply } => {
                    me.reload().await;
                    let result = me.control(id, action).await;
                    let _ = reply.send(result);
                }
                Command::Reload { reply } => {
                    me.reload().await;
                    let _ = reply.send(());
                }
                Command::Shutdown { grace, reply } => {
                    me.shutdown(grace, &mut events).await;
                    let _ = reply.send(());
                    return;
                }
            },
            Some(event) = events.recv() => me.event(event).await,
            event = next_event(&mut bus), if bus.is_some() => match event {
                Some(Ok(e)) if e.name == CONFIG_CHANGED => me.reload().await,
                Some(Ok(_)) => {}
                Some(Err(_)) => me.reload().await,
                // No more configuration changes: keep serving timers.
                None => bus = None,
            },
            _ = sleep, if wake.is_some() => me.tick().await,
        }
    }
}

impl Supervisor {
    fn now(&self) -> Millis {
        self.sw.clock.now()
    }

    fn next_wake(&self) -> Option<Millis> {
        let gateways = self.gateways.values().flat_map(|r| {
            r.reg.poll_timeout().into_iter().chain(r.pinger.as_ref().map(Pinger::poll_timeout))
        });
        let trunks = self.trunks.values().map(|t| t.pinger.poll_timeout());
        gateways.chain(trunks).min()
    }

    /// Publishes the state for the handle, and a `gateway.state` event for
    /// each gateway whose state changed.
    fn show(&mut self) {
        let now = self.now();
        for run in self.gateways.values() {
            let state = run.reg.state();
            if self.announced.insert(run.spec.id, state) != Some(state) {
                let data = serde_json::json!({
                    "gatewayId": run.spec.id,
                    "name": run.spec.name,
                    "state": state.as_str(),
                    "lastError": run.reg.last_error(),
                });
                let name = "gateway.state";
                self.sw.publish(crate::events::Event {
                    name,
                    workspace_id: run.spec.workspace_id,
                    at: now,
                    data,
                });
            }
        }
        self.announced.retain(|id, _| self.gateways.contains_key(id));
        let gateways = self
            .gateways
            .values()
            .map(|r| GatewayStatus {
                id: r.spec.id,
                workspace_id: r.spec.workspace_id,
                name: r.spec.name.clone(),
                state: r.reg.state(),
                last_error: r.reg.last_error().map(str::to_owned),
                expires_at: r.reg.expires_at(),
                next_attempt: r.reg.next_attempt(),
                registered_at: r.reg.registered_at(),
                failures: r.reg.failures(),
                ping: r.pinger.as_ref().map(PingView::of),
            })
            .collect();
        let trunks = self
            .trunks
            .values()
            .map(|t| TrunkStatus {
                id: t.spec.id,
                workspace_id: t.spec.workspace_id,
                name: t.spec.name.clone(),
                target: t.spec.target.to_string(),
                ping: PingView::of(&t.pinger),
            })
            .collect();
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        *shown = Shown { gateways, trunks };
    }

    /// Reads gateways, their params and trunks, and brings the running set
    /// in line: new ones start, changed ones restart, deleted or stopped
    /// ones unregister and stop, a changed mode acts on the registration.
    async fn reload(&mut self) {
        let (gateways, params, trunks) = match self.load().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "could not load gateways and trunks");
                return;
            }
        };
        let now = self.now();
        let mut wanted = BTreeMap::new();
        for rec in &gateways {
            let own = params.get(&rec.id).cloned().unwrap_or_default();
            let password = match rec.text("password_enc") {
                "" => Ok(None),
                sealed => self
                    .sealer
                    .open(sealed)
                    .map(Some)
                    .map_err(|e| format!("the password cannot be opened: {e}")),
            };
            let spec = GatewaySpec::new(rec, &own, password);
            if spec.mode != Mode::Stopped {
                wanted.insert(spec.id, spec);
            }
        }
        let gone: Vec<i64> = self.gateways.keys().filter(|id| !wanted.contains_key(id)).copied().collect();
        for id in gone {
            self.stop(id, now).await;
        }
        for (id, spec) in wanted {
            match self.gateways.get_mut(&id) {
                Some(run) if run.spec.same_setup(&spec) => {
                    let was = run.spec.mode;
                    run.spec.mode = spec.mode;
                    match (was, spec.mode) {
                        (a, b) if a == b => {}
                        (_, Mode::Register) => run.reg.handle_start(now),
                        (_, Mode::Unregistered) => run.reg.handle_unregister(now),
                        _ => {}
                    }
                    self.drive(id, now).await;
                }
                Some(_) => {
                    tracing::info!(gateway = %spec.name, "gateway changed: registering it again");
                    self.stop(id, now).await;
                    self.begin(spec, now).await;
                }
                None => self.begin(spec, now).await,
            }
        }
        self.reload_trunks(&trunks, now);
    }

    async fn load(
        &self,
    ) -> Result<
        (Vec<store::Record>, HashMap<i64, BTreeMap<String, String>>, Vec<store::Record>),
        store::StoreError,
    > {
        let db = &self.sw.db;
        let gateways = db.list(&GATEWAYS, Scope::Global, &Query::default()).await?.records;
        let query = Query { filters: vec![Filter::eq("realm", "GATEWAY")], ..Query::default() };
        let mut params: HashMap<i64, BTreeMap<String, String>> = HashMap::new();
        for p in db.list(&PARAMS, Scope::Global, &query).await?.records {
            if p.int("disabled") == Some(1) {
                continue;
            }
            if let Some(gw) = p.int("ref_id") {
                params.entry(gw).or_default().insert(p.text("k").trim().to_owned(), p.text("v").to_owned());
            }
        }
        let trunks = db.list(&TRUNKS, Scope::Global, &Query::default()).await?.records;
        Ok((gateways, params, trunks))
    }

    fn reload_trunks(&mut self, trunks: &[store::Record], now: Millis) {
        let mut wanted = BTreeMap::new();
        for rec in trunks {
            match TrunkSpec::new(rec) {
                Ok(Some(spec)) => {
                    wanted.insert(spec.id, spec);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(trunk = rec.text("name"), error = %e, "trunk not pinged"),
            }
        }
        self.trunks.retain(|id, t| wanted.get(id).is_some_and(|w| *w == t.spec));
        for (id, spec) in wanted {
            self.trunks.entry(id).or_insert_with(|| TrunkRun { pinger: Pinger::new(now, spec.ping), spec });
        }
    }

    async fn begin(&mut self, spec: GatewaySpec, now: Millis) {
        let id = spec.id;
        let (timers, registers, ping) = match &spec.setup {
            Ok(s) => (s.timers, s.register, s.ping),
            Err(_) => (Default::default(), true, None),
        };
        let mut reg = Registration::new(timers, registers);
        match &spec.setup {
            Err(e) => {
                tracing::warn!(gateway = %spec.name, error = %e, "gateway cannot run");
                reg.handle_refused(e.clone());
            }
            Ok(_) if spec.mode == Mode::Register => reg.handle_start(now),
            Ok(_) => {}
        }
        let binding =
            Binding { call_id: format!("gw-{}-{}", id, self.sw.tag()), tag: self.sw.tag(), cseq: 0 };
        let pinger = ping.map(|s| Pinger::new(now, s));
        self.gateways.insert(id, Run { spec, reg, binding, attempt: None, pinger, peer: None });
        self.drive(id, now).await;
    }

    /// Unregisters gateway `id` if it may be bound, and forgets it.
    async fn stop(&mut self, id: i64, now: Millis) {
        if let Some(run) = self.gateways.get_mut(&id) {
            run.reg.handle_unregister(now);
            self.drive(id, now).await;
        }
        self.gateways.remove(&id);
    }

    async fn control(&mut self, id: i64, action: Action) -> Result<(), ControlError> {
        let now = self.now();
        if action == Action::Stop {
            // The stored state already stopped it (the reload before this).
            self.stop(id, now).await;
            return Ok(());
        }
        let run = self.gateways.get_mut(&id).ok_or(ControlError::NotFound(id))?;
        let usable = run.spec.setup.as_ref().is_ok_and(|s| s.register);
        match action {
            // `start` leaves a registered gateway be; `register` registers
            // again at once.
            Action::Start if usable && run.reg.state() == RegState::Reged => run.spec.mode = Mode::Register,
            Action::Start | Action::Register if usable => {
                run.spec.mode = Mode::Register;
                run.reg.handle_start(now);
            }
            Action::Unregister => {
                if usable {
                    run.spec.mode = Mode::Unregistered;
                }
                run.reg.handle_unregister(now);
            }
            _ => {}
        }
        self.drive(id, now).await;
        Ok(())
    }

    /// Sends what gateway `id`'s registration asks for.
    async fn drive(&mut self, id: i64, now: Millis) {
        loop {
            let Some(run) = self.gateways.get_mut(&id) else { return };
            let Some(send) = run.reg.poll_send() else { return };
            let setup = match run.spec.setup.clone() {
                Ok(setup) => setup,
                Err(e) => {
                    // Unusable settings never reach the wire.
                    run.reg.handle_refused(e);
                    return;
                }
            };
            let expires = match send {
                Send::Register { expires } => expires,
                Send::Unregister => 0,
            };
            let result = self.send_register(id, &setup, expires).await;
            let Some(run) = self.gateways.get_mut(&id) else { return };
            match (send, result) {
                (Send::Register { .. }, Ok((tx, request, peer))) => {
                    run.attempt = Some(Attempt { tx, request, peer, authorized: false });
                    self.txs.insert(tx, Purpose::Register(id));
                }
                (Send::Register { .. }, Err(e)) => {
                    tracing::info!(gateway = %run.spec.name, error = %e, "gateway REGISTER not sent");
                    run.attempt = None;
                    run.reg.handle_failed(now, e, true);
                }
                (Send::Unregister, Ok((tx, request, peer))) => {
                    tracing::info!(gateway = %run.spec.name, "gateway unregistering (Expires: 0)");
                    run.attempt = None;
                    self.txs.insert(tx, Purpose::Unregister);
                    let account = setup
                        .password
                        .clone()
                        .map(|password| Account { username: setup.auth_username.clone(), password });
                    self.unregs.insert(tx, Unreg { request, peer, account, authorized: false });
                }
                (Send::Unregister, Err(e)) => {
                    tracing::info!(gateway = %run.spec.name, error = %e, "gateway unREGISTER not sent");
                    run.attempt = None;
                }
            }
        }
    }

    async fn send_register(
        &mut self,
        id: i64,
        setup: &Setup,
        expires: u32,
    ) -> Result<(ClientTxId, Request, Peer), String> {
        let peer = resolve(&setup.proxy, setup.transport).await?;
        let local = self.local_for(peer.addr);
        let branch = self.branch();
        let run = self.gateways.get_mut(&id).ok_or("gone")?;
        run.peer = Some(peer);
        let request = message::register(setup, &mut run.binding, expires, local, &branch)?;
        let tx = self.send(request.clone(), peer).await?;
        Ok((tx, request, peer))
    }

    async fn send(&self, request: Request, peer: Peer) -> Result<ClientTxId, String> {
        let (reply, answer) = oneshot::channel();
        let id = self.sw.core.client_id(&request.head.call_id);
        let cmd = Cmd::Send { id, request, peer, owner: self.owner.clone(), reply: Some(reply) };
        self.sw.core.send(cmd).map_err(|_| "the SIP side is stopped".to_owned())?;
        match answer.await {
            Ok(Ok(())) => Ok(id),
            Ok(Err(e)) => Err(format!("cannot send: {e}")),
            Err(_) => Err("the SIP side is stopped".to_owned()),
        }
    }

    fn branch(&self) -> String {
        format!("z9hG4bK{}", self.sw.tag())
    }

    /// Our address as `peer` should see it: the advertised one, or when
    /// bound to every interface, the one the system routes to `peer` from.
    fn local_for(&self, peer: SocketAddr) -> SocketAddr {
        let advertised = self.sw.advertised();
        if !advertised.ip().is_unspecified() {
            return advertised;
        }
        let any: IpAddr =
            if peer.is_ipv4() { [0, 0, 0, 0].into() } else { std::net::Ipv6Addr::UNSPECIFIED.into() };
        let ip = std::net::UdpSocket::bind((any, 0))
            .and_then(|s| s.connect(peer).and_then(|_| s.local_addr()))
            .map_or(advertised.ip(), |a| a.ip());
        SocketAddr::new(ip, advertised.port())
    }

    async fn event(&mut self, event: CallEvent) {
        let now = self.now();
        match event {
            CallEvent::Response(tx, response) => {
                let Some(purpose) = self.txs.get(&tx).copied() else { return };
                let code = response.status.code();
                if code >= 200 {
                    self.txs.remove(&tx);
                }
                match purpose {
                    Purpose::Register(id) => self.registered(id, tx, &response, now).await,
                    Purpose::Unregister => self.unregistered(tx, &response).await,
                    Purpose::GatewayPing(id, seq) => {
                        if let Some(p) = self.gateways.get_mut(&id).and_then(|r| r.pinger.as_mut()) {
                            p.handle_answer(now, seq, code);
                        }
                    }
                    Purpose::TrunkPing(id, seq) => {
                        if let Some(t) = self.trunks.get_mut(&id) {
                            t.pinger.handle_answer(now, seq, code);
                        }
                    }
                }
            }
            CallEvent::Timeout(TxId::Client(tx)) => {
                let Some(purpose) = self.txs.remove(&tx) else { return };
                match purpose {
                    Purpose::Register(id) => {
                        if let Some(run) = self.gateways.get_mut(&id) {
                            if run.attempt.as_ref().is_some_and(|a| a.tx == tx) {
                                run.attempt = None;
                                run.reg.handle_failed(now, "no answer (transaction timed out)", true);
                            }
                        }
                    }
                    Purpose::Unregister => {
                        self.unregs.remove(&tx);
                    }
                    Purpose::GatewayPing(id, seq) => {
                        if let Some(p) = self.gateways.get_mut(&id).and_then(|r| r.pinger.as_mut()) {
                            p.handle_lost(seq);
                        }
                    }
                    Purpose::TrunkPing(id, seq) => {
                        if let Some(t) = self.trunks.get_mut(&id) {
                            t.pinger.handle_lost(seq);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// An answer to gateway `id`'s REGISTER `tx`.
    async fn registered(&mut self, id: i64, tx: ClientTxId, response: &Response, now: Millis) {
        let (setup, peer) = match self.gateways.get(&id) {
            Some(Run { spec, attempt: Some(a), .. }) if a.tx == tx => match &spec.setup {
                Ok(s) => (s.clone(), a.peer.addr),
                Err(_) => return,
            },
            _ => return,
        };
        match response.status.code() {
            100..=199 => return,
            200..=299 => {
                let asked = setup.timers.expires;
                let granted = match message::contact(&setup, self.local_for(peer)) {
                    Ok(ours) => message::granted(response, &ours, asked),
                    Err(_) => asked,
                };
                let Some(run) = self.gateways.get_mut(&id) else { return };
                run.attempt = None;
                run.reg.handle_registered(now, granted);
                tracing::info!(gateway = %run.spec.name, expires = granted, "gateway registered");
            }
            401 | 407 => self.challenged(id, response, &setup, now).await,
            423 if matches!(response.head.min_expires(), Ok(Some(_))) => {
                let Some(run) = self.gateways.get_mut(&id) else { return };
                run.attempt = None;
                let min = response.head.min_expires().ok().flatten().unwrap_or_default();
                tracing::info!(gateway = %run.spec.name, min, "gateway asked for a longer registration");
                run.reg.handle_too_brief(now, min);
            }
            _ => {
                let Some(run) = self.gateways.get_mut(&id) else { return };
                run.attempt = None;
                let reason = message::describe(response);
                tracing::info!(gateway = %run.spec.name, %reason, "gateway registration refused");
                run.reg.handle_failed(now, reason, true);
            }
        }
        self.drive(id, now).await;
    }

    /// An answer to unREGISTER `tx`: a challenge is answered once.
    async fn unregistered(&mut self, tx: ClientTxId, response: &Response) {
        let code = response.status.code();
        if code < 200 {
            return;
        }
        let Some(unreg) = self.unregs.remove(&tx) else { return };
        tracing::debug!(status = code, "gateway unregister answered");
        let Some(account) = unreg.account.as_ref().filter(|_| !unreg.authorized && matches!(code, 401 | 407))
        else {
            return;
        };
        let Some(sent_by) = unreg.request.head.via.first().map(|v| v.sent_by.clone()) else { return };
        let mut via = sip::Via::new(unreg.peer.protocol.via_transport(), sent_by, &self.branch());
        via.params.set("rport", None);
        let Some(again) = authorize(&unreg.request, response, account, via, &self.sw.tag()) else { return };
        // Later REGISTERs of the same binding count on from this CSeq.
        if let Some(run) = self.gateways.values_mut().find(|r| r.binding.call_id == again.head.call_id) {
            run.binding.cseq = run.binding.cseq.max(again.head.cseq.seq);
        }
        if let Ok(tx) = self.send(again.clone(), unreg.peer).await {
            self.txs.insert(tx, Purpose::Unregister);
            self.unregs.insert(tx, Unreg { request: again, authorized: true, ..unreg });
        }
    }

    /// Answers a digest challenge once per attempt.
    async fn challenged(&mut self, id: i64, response: &Response, setup: &Setup, now: Millis) {
        let branch = self.branch();
        let cnonce = self.sw.tag();
        let Some(run) = self.gateways.get_mut(&id) else { return };
        let Some(attempt) = run.attempt.take() else { return };
        let fail = |run: &mut Run, reason: String, retry: bool| {
            tracing::info!(gateway = %run.spec.name, %reason, "gateway registration failed");
            run.reg.handle_failed(now, reason, retry);
        };
        let Some(password) = setup.password.clone() else {
            return fail(run, format!("{}: the gateway has no password", message::describe(response)), false);
        };
        if attempt.authorized {
            return fail(run, format!("{}: credentials refused", message::describe(response)), true);
        }
        let account = Account { username: setup.auth_username.clone(), password };
        let local = attempt.request.head.via.first().map(|v| v.sent_by.clone());
        let via = match local {
            Some(sent_by) => {
                let mut v = sip::Via::new(attempt.peer.protocol.via_transport(), sent_by, &branch);
                v.params.set("rport", None);
                v
            }
            None => return fail(run, "a REGISTER without Via".into(), true),
        };
        let Some(again) = authorize(&attempt.request, response, &account, via, &cnonce) else {
            return fail(run, format!("{}: no usable challenge", message::describe(response)), true);
        };
        run.binding.cseq = again.head.cseq.seq;
        let peer = attempt.peer;
        match self.send(again.clone(), peer).await {
            Ok(tx) => {
                self.txs.insert(tx, Purpose::Register(id));
                if let Some(run) = self.gateways.get_mut(&id) {
                    run.attempt = Some(Attempt { tx, request: again, peer, authorized: true });
                }
            }
            Err(e) => {
                if let Some(run) = self.gateways.get_mut(&id) {
                    fail(run, e, true);
                }
            }
        }
    }

    /// Timers: registrations and pings that are due.
    async fn tick(&mut self) {
        let now = self.now();
        let ids: Vec<i64> = self.gateways.keys().copied().collect();
        for id in ids {
            let Some(run) = self.gateways.get_mut(&id) else { continue };
            let was_pending = run.reg.pending();
            run.reg.handle_timeout(now);
            if was_pending && !run.reg.pending() {
                // Gave up waiting: a late answer to it no longer counts.
                run.attempt = None;
            }
            self.drive(id, now).await;
            let Some(run) = self.gateways.get_mut(&id) else { continue };
            let seq = run.pinger.as_mut().and_then(|p| {
                p.handle_timeout(now);
                p.poll_send()
            });
            if let (Some(seq), Ok(setup)) = (seq, run.spec.setup.clone()) {
                let target = setup.proxy.clone();
                self.ping(&target, setup.transport, Purpose::GatewayPing(id, seq)).await;
            }
        }
        let ids: Vec<i64> = self.trunks.keys().copied().collect();
        for id in ids {
            let Some(t) = self.trunks.get_mut(&id) else { continue };
            t.pinger.handle_timeout(now);
            if let Some(seq) = t.pinger.poll_send() {
                let (target, transport) = (t.spec.target.clone(), t.spec.transport);
                self.ping(&target, transport, Purpose::TrunkPing(id, seq)).await;
            }
        }
    }

    async fn ping(&mut self, target: &Target, transport: Transport, purpose: Purpose) {
        let sent = match resolve(target, transport).await {
            Ok(peer) => {
                let local = self.local_for(peer.addr);
                let call_id = format!("ping-{}", self.sw.tag());
                match message::options(target, transport, local, &call_id, &self.sw.tag(), &self.branch()) {
                    Ok(request) => self.send(request, peer).await,
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(tx) => {
                self.txs.insert(tx, purpose);
            }
            Err(e) => {
                tracing::debug!(%target, error = %e, "OPTIONS ping not sent");
                // Counts as lost at once.
                self.event_lost(purpose);
            }
        }
    }

    fn event_lost(&mut self, purpose: Purpose) {
        match purpose {
            Purpose::GatewayPing(id, seq) => {
                if let Some(p) = self.gateways.get_mut(&id).and_then(|r| r.pinger.as_mut()) {
                    p.handle_lost(seq);
                }
            }
            Purpose::TrunkPing(id, seq) => {
                if let Some(t) = self.trunks.get_mut(&id) {
                    t.pinger.handle_lost(seq);
                }
            }
            _ => {}
        }
    }

    /// Unregisters every gateway that may be bound and waits up to `grace`
    /// for the answers.
    async fn shutdown(&mut self, grace: Duration, events: &mut mpsc::UnboundedReceiver<CallEvent>) {
        let now = self.now();
        let ids: Vec<i64> = self.gateways.keys().copied().collect();
        for id in ids {
            if let Some(run) = self.gateways.get_mut(&id) {
                run.reg.handle_unregister(now);
            }
            self.drive(id, now).await;
        }
        let waiting = |txs: &HashMap<ClientTxId, Purpose>| {
            txs.values().filter(|p| matches!(p, Purpose::Unregister)).count()
        };
        tracing::info!(gateways = waiting(&self.txs), "gateways unregistering for shutdown");
        let deadline = tokio::time::Instant::now() + grace;
        while waiting(&self.txs) > 0 {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(event)) => self.event(event).await,
                _ => break,
            }
        }
        self.gateways.clear();
        self.trunks.clear();
        self.show();
    }
}

/// The next bus event: `None` once the bus is closed, `Some(Err)` when
/// events were missed (one of them may have been a change).
async fn next_event(
    bus: &mut Option<tokio::sync::broadcast::Receiver<Arc<crate::events::Event>>>,
) -> Option<Result<Arc<crate::events::Event>, ()>> {
    use tokio::sync::broadcast::error::RecvError;
    match bus.as_mut()?.recv().await {
        Ok(e) => Some(Ok(e)),
        Err(RecvError::Lagged(_)) => Some(Err(())),
        Err(RecvError::Closed) => None,
    }
}

/// Where `target` is: its address (an IP literal, or the first that the
/// name resolves to, within 3 s).
async fn resolve(target: &Target, transport: Transport) -> Result<Peer, String> {
    let protocol = match transport {
        Transport::Udp => Protocol::Udp,
        Transport::Tcp => Protocol::Tcp,
    };
    let addr = match target.host.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, target.port),
        Err(_) => {
            let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
            match tokio::time::timeout(Duration::from_secs(3), lookup).await {
                Ok(Ok(mut addrs)) => addrs.next().ok_or_else(|| format!("{} has no address", target.host))?,
                Ok(Err(e)) => return Err(format!("cannot resolve {}: {e}", target.host)),
                Err(_) => return Err(format!("cannot resolve {}: timed out", target.host)),
            }
        }
    };
    Ok(Peer { addr, protocol })
}
