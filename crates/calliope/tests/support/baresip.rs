//! baresip (Debian's 1.0.0, package `baresip-core`) as a scripted SIP
//! softphone for end-to-end tests.
//!
//! Each [`Baresip`] is one process with its own config directory (`-f`),
//! bound to 127.0.0.1 only: SIP on `sip_port` (baresip also listens on TCP
//! `sip_port` and TCP `sip_port + 1`), RTP in `rtp_ports`, and a `ctrl_tcp`
//! port through which the harness sends commands (`dial`, `hangup`,
//! `accept`, `quit`) as netstring JSON and receives call events.
//!
//! Audio: G.711 only (PCMU, PCMA), no sound card. The `aufile` module plays
//! a WAV file as the microphone; the `sndfile` filter writes what is sent
//! (`dump-<time>-enc.wav`) and what is received and decoded
//! (`dump-<time>-dec.wav`) into `<dir>/recordings/`, one pair per call;
//! the player itself is an `aubridge` device that goes nowhere (`aufile` is
//! only a source in 1.0.0).
//!
//! What baresip 1.0.0 does that tests must know:
//! - When the played WAV file ends, the `menu` module hangs the call up
//!   ("menu: audio error (0,end of file)"). A peer that should stay in the
//!   call plays a file longer than the call; with no `play_wav` the harness
//!   plays silence as long as the process may live.
//! - A recording is complete (its WAV header final) only once the call is
//!   over; [`Baresip::received_wav`] waits for that. Recordings are named
//!   by the second the call's audio started: two calls of one instance
//!   starting within the same second share (overwrite) one file.
//! - `aufile` cannot play (1.0.0 has it as a source only), hence `sndfile`.
//! - `sip_trans_def` does not exist in 1.0.0; UDP is the default anyway.
//! - Without `net_interface 127.0.0.1` the SDP offers the host's first
//!   interface address, not 127.0.0.1.
//! - The `stdio` module over a pipe works (`/dial <uri>\n`, `b`, `q`) but
//!   spins at 100% CPU once stdin reaches EOF, and fails on /dev/null;
//!   hence `ctrl_tcp`.
//! - RTCP goes to the RTP port + 1 (`rtcp_mux no`).
//! - A process whose test was killed (no `Drop`) lives on until its
//!   `lifetime` (`-t`) ends.
//! - Digest: only MD5. A 401/407 carrying any `algorithm=SHA-256`
//!   challenge, even next to an MD5 one, fails with "Function not
//!   implemented". The Authorization it sends has `qop=auth` and no
//!   `algorithm` parameter.
//! - Registration happens at start-up, before the control connection
//!   exists, so its outcome is read from the log ([`Baresip::wait_registered`]).
//! - The Contact it registers is `sip:<user>-0x<hex>@127.0.0.1:<sip_port>`,
//!   not `sip:<user>@...`.
//! - Log lines (stdout and stderr, merged; colour codes stripped):
//!   `baresip is ready.`, `<user>@<host>: {0/UDP/v4} 200 OK () [1 binding]`
//!   (registered), `reg: <aor>: 403 Forbidden ()` (not), `Incoming call
//!   from: <uri>` (manual answer) or `call: answering call on line 1 from
//!   <uri> with 200` (auto), `call: SIP Progress: 180 Ringing`, `Call established:
//!   <uri>`, `Call with <uri> terminated (duration: N secs)` (an
//!   established call ended), `session closed: 486 Rejected` (a call that
//!   never got established).

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use media::wav::{Encoding, Wav};
use serde_json::{json, Value};

/// The sample rate of every WAV file the helpers write.
pub const SAMPLE_RATE: u32 = 8000;

/// How long a command over `ctrl_tcp` may take to be answered.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// How long start-up may take before `baresip is ready.`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The baresip executable: `$BARESIP` if set, else `baresip` found on PATH.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BARESIP") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("baresip")).find(|p| p.is_file())
}

/// Whether a test needing baresip should run. If baresip is missing it
/// prints why and returns false, except under `CI=true`, where a missing
/// baresip fails the test instead of skipping it.
pub fn available() -> bool {
    if binary().is_some() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!ci, "baresip is not installed (Debian package baresip-core) and CI=true: not skipping");
    eprintln!("SKIPPED: baresip is not installed (apt-get install baresip-core)");
    false
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free TCP port")
}

/// A free UDP port on 127.0.0.1 (bound to port 0, then released).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).expect("free UDP port")
}

/// A port P for baresip's `sip_listen` or SIPp's `-p` and `-mp`: UDP P,
/// TCP P and TCP P+1 (which baresip 1.0.0 also binds) and UDP P+2 (SIPp's
/// video port, beside its audio port P) all free.
pub fn free_sip_port() -> u16 {
    loop {
        let port = free_udp_port();
        if port < u16::MAX - 2 && tcp_free(port) && tcp_free(port + 1) && udp_free(port + 2) {
            return port;
        }
    }
}

/// Where media port ranges are taken from: below the kernel's ephemeral
/// ports (32768 and up on Linux), which every port-0 pick above and every
/// client socket get. A range is free when picked but bound only later (a
/// call's media, pairs kept for reuse); from here, no other pick of this
/// test run can take a port of it meanwhile.
const RANGE_PORTS: std::ops::Range<u16> = 10_000..32_000;

/// `len` consecutive free UDP ports on 127.0.0.1 starting at an even port,
/// as an inclusive range for `rtp_ports`.
pub fn free_udp_range(len: u16) -> (u16, u16) {
    assert!(len >= 2, "an RTP range needs an RTP and an RTCP port");
    let span = RANGE_PORTS.end - RANGE_PORTS.start - len;
    loop {
        let offset = u16::try_from(random() % u64::from(span)).expect("below the span");
        let base = (RANGE_PORTS.start + offset) & !1;
        let last = base + len - 1;
        if (base..=last).all(udp_free) {
            return (base, last);
        }
    }
}

/// A random number (std's per-process random hash keys).
fn random() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0u8)
}

fn tcp_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn udp_free(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

/// One baresip instance's SIP account and media settings.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user part of the address of record (and the default digest user).
    pub user: String,
    /// The host part of the address of record. Default: the registrar's
    /// address, or `127.0.0.1:<sip_port>` without a registrar. When set
    /// together with a registrar, requests go through the registrar as an
    /// outbound proxy (`;outbound="sip:<registrar>"`).
    pub domain: Option<String>,
    /// Where to REGISTER (every `regint` seconds). None: no registration.
    pub registrar: Option<SocketAddr>,
    /// The digest user name; default `user`.
    pub auth_user: Option<String>,
    /// The digest password (no `;`, `>`, `"` or white space).
    pub password: Option<String>,
    /// Registration interval in seconds.
    pub regint: u32,
    /// Local SIP port on 127.0.0.1; 0 picks a free one.
    pub sip_port: u16,
    /// Inclusive RTP port range; None picks ten free ports.
    pub rtp_ports: Option<(u16, u16)>,
    /// The WAV file played into every call (8 kHz mono 16-bit works best);
    /// the call is hung up when it ends. None: silence for `lifetime`.
    pub play_wav: Option<PathBuf>,
    /// Answer incoming calls at once (`;answermode=auto`); otherwise they
    /// ring until [`Baresip::answer`].
    pub auto_answer: bool,
    /// The `audio_codecs` account parameter, in preference order.
    pub codecs: String,
    /// baresip quits by itself after this long (`-t`), so that a test
    /// process killed before its `Drop` ran leaves nothing behind for long.
    pub lifetime: Duration,
}

impl Account {
    /// An account for `user` with free ports, no registrar, manual answer,
    /// PCMU and PCMA, silence as microphone and a two-minute lifetime.
    pub fn new(user: &str) -> Account {
        Account {
            user: user.to_owned(),
            domain: None,
            registrar: None,
            auth_user: None,
            password: None,
            regint: 60,
            sip_port: 0,
            rtp_ports: None,
            play_wav: None,
            auto_answer: false,
            codecs: "pcmu,pcma".to_owned(),
            lifetime: Duration::from_secs(120),
        }
    }

    /// Registers to `registrar` with digest credentials.
    pub fn registering(mut self, registrar: SocketAddr, auth_user: &str, password: &str) -> Account {
        self.registrar = Some(registrar);
        self.auth_user = Some(auth_user.to_owned());
        self.password = Some(password.to_owned());
        self
    }

    /// Plays `wav` into calls.
    pub fn playing(mut self, wav: &Path) -> Account {
        self.play_wav = Some(wav.to_owned());
        self
    }

    /// Answers incoming calls automatically.
    pub fn auto_answer(mut self) -> Account {
        self.auto_answer = true;
        self
    }

    /// The host part of the address of record.
    pub fn host(&self) -> String {
        match (&self.domain, self.registrar) {
            (Some(domain), _) => domain.clone(),
            (None, Some(registrar)) => registrar.to_string(),
            (None, None) => format!("127.0.0.1:{}", self.sip_port),
        }
    }

    /// The address of record, `sip:<user>@<host>`.
    pub fn aor(&self) -> String {
        format!("sip:{}@{}", self.user, self.host())
    }

    /// The line of baresip's `accounts` file.
    pub fn accounts_line(&self) -> String {
        let mut line = format!("<{}>", self.aor());
        match self.registrar {
            Some(registrar) => {
                if self.domain.is_some() {
                    line += &format!(";outbound=\"sip:{registrar}\"");
                }
                let auth_user = self.auth_user.as_deref().unwrap_or(&self.user);
                line += &format!(";auth_user={auth_user}");
                if let Some(password) = &self.password {
                    assert!(
                        !password.contains([';', '>', '"', ' ', '\t', '\n']),
                        "password not expressible in a baresip account line: {password:?}"
                    );
                    line += &format!(";auth_pass={password}");
                }
                line += &format!(";regint={}", self.regint);
            }
            None => line += ";regint=0",
        }
        let mode = if self.auto_answer { "auto" } else { "manual" };
        line + &format!(";answermode={mode};audio_codecs={};ptime=20", self.codecs)
    }

    /// baresip's `config` file for this account, with `dir` as the config
    /// directory and the control socket on `ctrl_port`.
    pub fn config(&self, dir: &Path, ctrl_port: u16, play_wav: &Path) -> String {
        let (rtp_lo, rtp_hi) = self.rtp_ports.expect("RTP ports resolved");
        let sip = self.sip_port;
        let recordings = dir.join("recordings");
        format!(
            "\
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{sip}
net_interface\t\t127.0.0.1
dns_server\t\t127.0.0.1:53
call_local_timeout\t120
call_max_calls\t\t4
audio_player\t\taubridge,play{sip}
audio_source\t\taufile,{play}
audio_alert\t\taubridge,alert{sip}
audio_level\t\tno
ausrc_format\t\ts16
auplay_format\t\ts16
auenc_format\t\ts16
audec_format\t\ts16
audio_buffer\t\t20-160
rtp_ports\t\t{rtp_lo}-{rtp_hi}
rtp_stats\t\tno
rtcp_mux\t\tno
jitter_buffer_delay\t5-10
module_path\t\t/usr/lib/baresip/modules
module\t\t\tg711.so
module\t\t\taufile.so
module\t\t\taubridge.so
module\t\t\tsndfile.so
module\t\t\tctrl_tcp.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}
snd_path\t\t{recordings}
statmode_default\toff
ringback_disabled\tyes
menu_bell\t\tno
",
            play = play_wav.display(),
            recordings = recordings.display(),
        )
    }
}

/// What the reader threads collect.
#[derive(Default)]
struct State {
    lines: Vec<String>,
    events: Vec<Value>,
    responses: HashMap<String, Value>,
    /// How many of stdout, stderr and the control socket have closed.
    closed: usize,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// Waits until `f` returns Some or `timeout` passes.
    fn wait<T>(&self, timeout: Duration, mut f: impl FnMut(&mut State) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(found) = f(&mut state) {
                return Some(found);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state = self.changed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// A running baresip process. Dropping it kills the process.
pub struct Baresip {
    child: Child,
    account: Account,
    dir: PathBuf,
    shared: Arc<Shared>,
    /// The `ctrl_tcp` connection, once made.
    ctrl: Mutex<Option<TcpStream>>,
    threads: Vec<JoinHandle<()>>,
    /// Where `wait_for` and `wait_event` resume.
    line_cursor: Mutex<usize>,
    event_cursor: Mutex<usize>,
    next_token: AtomicU64,
}

impl Baresip {
    /// Writes `config` and `accounts` into `dir` (created if needed) and
    /// starts baresip there; returns once it is ready and its control socket
    /// is connected. Ports left at 0/None are picked free, and picked again
    /// (up to three times) if baresip finds one taken.
    pub fn start(dir: &Path, account: Account) -> io::Result<Baresip> {
        let binary = binary().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "baresip not found"))?;
        fs::create_dir_all(dir.join("recordings"))?;
        let play_wav = match &account.play_wav {
            Some(wav) => wav.clone(),
            None => {
                let wav = dir.join("silence.wav");
                let ms = u32::try_from(account.lifetime.as_millis()).unwrap_or(u32::MAX).max(1000);
                fs::write(&wav, silence_wav(ms))?;
                wav
            }
        };
        let mut last_error = None;
        for _attempt in 0..3 {
            let mut resolved = account.clone();
            if resolved.sip_port == 0 {
                resolved.sip_port = free_sip_port();
            }
            if resolved.rtp_ports.is_none() {
                resolved.rtp_ports = Some(free_udp_range(10));
            }
            let ctrl_port = free_tcp_port();
            fs::write(dir.join("config"), resolved.config(dir, ctrl_port, &play_wav))?;
            fs::write(dir.join("accounts"), resolved.accounts_line() + "\n")?;
            match Self::spawn(&binary, dir, resolved, ctrl_port) {
                Ok(baresip) => return Ok(baresip),
                Err((error, port_clash)) => {
                    last_error = Some(error);
                    if !port_clash {
                        break;
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("baresip did not start")))
    }

    /// One attempt; on failure also says whether a port was taken.
    fn spawn(
        binary: &Path,
        dir: &Path,
        account: Account,
        ctrl_port: u16,
    ) -> Result<Baresip, (io::Error, bool)> {
        let lifetime = account.lifetime.as_secs().max(1).to_string();
        let mut child = Command::new(binary)
            .arg("-4")
            .arg("-f")
            .arg(dir)
            .args(["-t", &lifetime])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| (e, false))?;
        let shared = Arc::new(Shared::default());
        let mut threads = Vec::new();
        if let Some(out) = child.stdout.take() {
            threads.push(read_lines(out, shared.clone()));
        }
        if let Some(err) = child.stderr.take() {
            threads.push(read_lines(err, shared.clone()));
        }
        let mut baresip = Baresip {
            child,
            account,
            dir: dir.to_owned(),
            shared,
            ctrl: Mutex::new(None),
            threads,
            line_cursor: Mutex::new(0),
            event_cursor: Mutex::new(0),
            next_token: AtomicU64::new(1),
        };
        let ready = baresip.shared.wait(START_TIMEOUT, |s| {
            if s.lines.iter().any(|l| l.contains("baresip is ready.")) {
                Some(true)
            } else if s.closed >= 2 {
                Some(false)
            } else {
                None
            }
        });
        let clash = baresip.log().iter().any(|l| l.contains("Address already in use"));
        if ready != Some(true) || clash {
            let why = if ready.is_none() { "was not ready in time" } else { "did not start" };
            return Err((baresip.error(&format!("baresip {why}")), clash));
        }
        let stream = connect(ctrl_port).map_err(|e| (baresip.error(&format!("ctrl_tcp: {e}")), false))?;
        let reader = stream.try_clone().map_err(|e| (e, false))?;
        *baresip.ctrl.lock().unwrap_or_else(|e| e.into_inner()) = Some(stream);
        baresip.threads.push(read_netstrings(reader, baresip.shared.clone()));
        Ok(baresip)
    }

    /// The account with its ports resolved.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The config directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The address of record, `sip:<user>@<host>`.
    pub fn aor(&self) -> String {
        self.account.aor()
    }

    /// The URI that reaches this instance directly, without a registrar.
    pub fn direct_uri(&self) -> String {
        format!("sip:{}@127.0.0.1:{}", self.account.user, self.account.sip_port)
    }

    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs a baresip command (as typed after `/` in its console) through
    /// `ctrl_tcp`; returns its output, or an error if baresip refused it.
    pub fn command(&self, command: &str, params: &str) -> io::Result<String> {
        let token = format!("t{}", self.next_token.fetch_add(1, Ordering::Relaxed));
        let body = json!({ "command": command, "params": params, "token": token }).to_string();
        {
            let mut ctrl = self.ctrl.lock().unwrap_or_else(|e| e.into_inner());
            let ctrl = ctrl.as_mut().ok_or_else(|| self.error("no control connection"))?;
            ctrl.write_all(format!("{}:{body},", body.len()).as_bytes())?;
            ctrl.flush()?;
        }
        let response = self
            .shared
            .wait(COMMAND_TIMEOUT, |s| s.responses.remove(&token))
            .ok_or_else(|| self.error(&format!("no answer to command {command:?}")))?;
        let data = response["data"].as_str().unwrap_or_default().to_owned();
        if response["ok"] == Value::Bool(true) {
            Ok(data)
        } else {
            Err(self.error(&format!("command {command} {params:?} failed: {data}")))
        }
    }

    /// Calls `uri` (`sip:1002@127.0.0.1:5060`).
    pub fn dial(&self, uri: &str) -> io::Result<()> {
        self.command("dial", uri).map(drop)
    }

    /// Hangs up the current call (rejects it with 486 if still ringing in).
    pub fn hangup(&self) -> io::Result<()> {
        self.command("hangup", "").map(drop)
    }

    /// Answers the ringing incoming call.
    pub fn answer(&self) -> io::Result<()> {
        self.command("accept", "").map(drop)
    }

    /// Waits for the next log line containing `pattern` after the line the
    /// previous `wait_for` matched (expect-style), and returns it.
    pub fn wait_for(&self, pattern: &str, timeout: Duration) -> io::Result<String> {
        self.wait_for_any(&[pattern], timeout).map(|(_, line)| line)
    }

    /// Like [`Self::wait_for`] with several patterns: the index of the one
    /// found first, and its line.
    pub fn wait_for_any(&self, patterns: &[&str], timeout: Duration) -> io::Result<(usize, String)> {
        let mut cursor = self.line_cursor.lock().unwrap_or_else(|e| e.into_inner());
        let from = *cursor;
        let found = self.shared.wait(timeout, |s| {
            s.lines.iter().enumerate().skip(from).find_map(|(i, line)| {
                patterns.iter().position(|p| line.contains(p)).map(|which| (i, which, line.clone()))
            })
        });
        match found {
            Some((i, which, line)) => {
                *cursor = i + 1;
                Ok((which, line))
            }
            None => Err(self.timed_out(&format!("no log line with {patterns:?} within {timeout:?}"))),
        }
    }

    /// Waits until the registration succeeded (`{0/UDP/v4} 200 OK`); fails
    /// at once on `reg: ...` (e.g. `403 Forbidden`).
    pub fn wait_registered(&self, timeout: Duration) -> io::Result<String> {
        match self.wait_for_any(&["} 200 OK", "reg: "], timeout)? {
            (0, line) => Ok(line),
            (_, line) => Err(self.error(&format!("registration failed: {line}"))),
        }
    }

    /// Waits for the next control event of `kind` (`CALL_INCOMING`,
    /// `CALL_RINGING`, `CALL_ESTABLISHED`, `CALL_CLOSED` with the reason in
    /// `param`, ...) after the one the previous `wait_event` returned. Only
    /// events after start-up are seen.
    pub fn wait_event(&self, kind: &str, timeout: Duration) -> io::Result<Value> {
        let mut cursor = self.event_cursor.lock().unwrap_or_else(|e| e.into_inner());
        let from = *cursor;
        let found = self.shared.wait(timeout, |s| {
            s.events
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, e)| e["type"] == kind)
                .map(|(i, e)| (i, e.clone()))
        });
        match found {
            Some((i, event)) => {
                *cursor = i + 1;
                Ok(event)
            }
            None => Err(self.timed_out(&format!("no {kind} event within {timeout:?}"))),
        }
    }

    /// Every log line so far.
    pub fn log(&self) -> Vec<String> {
        self.shared.lock().lines.clone()
    }

    /// Every control event so far.
    pub fn events(&self) -> Vec<Value> {
        self.shared.lock().events.clone()
    }

    /// The files `sndfile` recorded what was received into, one per call,
    /// oldest first (from its `dumping decode audio to` lines).
    pub fn received_files(&self) -> Vec<PathBuf> {
        self.dumped("decode")
    }

    /// The files `sndfile` recorded what was sent into, one per call.
    pub fn sent_files(&self) -> Vec<PathBuf> {
        self.dumped("encode")
    }

    fn dumped(&self, what: &str) -> Vec<PathBuf> {
        let marker = format!("sndfile: dumping {what} audio to ");
        self.log()
            .iter()
            .filter_map(|l| l.split_once(&marker).map(|(_, p)| PathBuf::from(p.trim())))
            .collect()
    }

    /// What the last call received, once its recording is complete (the
    /// call is over); waits up to `timeout` for that.
    pub fn received_wav(&self, timeout: Duration) -> io::Result<Wav> {
        let path = self.received_files().pop().ok_or_else(|| self.error("no call was recorded"))?;
        read_finished_wav(&path, timeout)
    }

    /// What the last call sent, once its recording is complete.
    pub fn sent_wav(&self, timeout: Duration) -> io::Result<Wav> {
        let path = self.sent_files().pop().ok_or_else(|| self.error("no call was recorded"))?;
        read_finished_wav(&path, timeout)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Quits (ending calls and unregistering), kills the process if it has
    /// not exited within five seconds, and returns the whole log.
    pub fn stop(mut self) -> Vec<String> {
        // `quit` is answered just before the process exits, or not at all.
        let _ = self.command("quit", "");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && self.is_running() {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        self.log()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(ctrl) = self.ctrl.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = ctrl.shutdown(Shutdown::Both);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }

    /// An error carrying the end of the log.
    fn error(&self, what: &str) -> io::Error {
        io::Error::other(self.describe(what))
    }

    fn timed_out(&self, what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, self.describe(what))
    }

    fn describe(&self, what: &str) -> String {
        let lines = self.log();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n  ");
        format!("{what} [baresip {} in {}]; log tail:\n  {tail}", self.account.aor(), self.dir.display())
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        self.kill();
    }
}

fn connect(port: u16) -> io::Result<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Collects lines (ended by `\n` or `\r`, colour codes removed) until EOF.
fn read_lines(source: impl Read + Send + 'static, shared: Arc<Shared>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut line = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut done = Vec::new();
            for &b in &buf[..n] {
                if b == b'\n' || b == b'\r' {
                    done.push(clean(&std::mem::take(&mut line)));
                } else {
                    line.push(b);
                }
            }
            let done: Vec<String> = done.into_iter().filter(|l| !l.is_empty()).collect();
            if !done.is_empty() {
                shared.update(|s| s.lines.extend(done));
            }
        }
        let rest = clean(&line);
        shared.update(|s| {
            if !rest.is_empty() {
                s.lines.push(rest);
            }
            s.closed += 1;
        });
    })
}

/// The text of a log line without ANSI escape sequences.
fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out.trim_end().to_owned()
}

/// Reads `ctrl_tcp`'s netstrings (`<len>:<json>,`): responses by token,
/// events in order.
fn read_netstrings(source: TcpStream, shared: Arc<Shared>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(source);
        while let Some(body) = netstring(&mut reader) {
            let Ok(value) = serde_json::from_slice::<Value>(&body) else { continue };
            shared.update(|s| {
                if value["response"] == Value::Bool(true) {
                    let token = value["token"].as_str().unwrap_or_default().to_owned();
                    s.responses.insert(token, value);
                } else if value["event"] == Value::Bool(true) {
                    s.events.push(value);
                }
            });
        }
        shared.update(|s| s.closed += 1);
    })
}

fn netstring(reader: &mut impl Read) -> Option<Vec<u8>> {
    let mut len = 0usize;
    let mut byte = [0u8; 1];
    loop {
        reader.read_exact(&mut byte).ok()?;
        match byte[0] {
            b':' => break,
            d @ b'0'..=b'9' => len = len.checked_mul(10)?.checked_add(usize::from(d - b'0'))?,
            _ => return None,
        }
    }
    if len > 1 << 20 {
        return None;
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    reader.read_exact(&mut byte).ok()?;
    (byte[0] == b',').then_some(body)
}

/// Reads a WAV file written by libsndfile once it is complete: its RIFF
/// size covers the file (libsndfile fixes the header when it closes it).
pub fn read_finished_wav(path: &Path, timeout: Duration) -> io::Result<Wav> {
    let deadline = Instant::now() + timeout;
    loop {
        let bytes = fs::read(path)?;
        let riff = bytes.get(4..8).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        if riff == Some(bytes.len().saturating_sub(8)) {
            return media::wav::read(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())));
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{} still being written (is the call over?)", path.display()),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An 8 kHz mono 16-bit WAV file of consecutive segments `(frequency in
/// Hz, milliseconds)`, each a sine at half of full scale; frequency 0 is
/// silence.
pub fn tones_wav(segments: &[(f32, u32)]) -> Vec<u8> {
    let mut samples = Vec::new();
    for &(frequency, ms) in segments {
        let n = SAMPLE_RATE as usize * ms as usize / 1000;
        let step = std::f32::consts::TAU * frequency / SAMPLE_RATE as f32;
        samples.extend((0..n).map(|i| (16384.0 * (step * i as f32).sin()) as i16));
    }
    media::wav::write(Encoding::Pcm16, SAMPLE_RATE, &samples).expect("a WAV file under 4 GiB")
}

/// An 8 kHz mono 16-bit WAV file of `ms` milliseconds of silence.
pub fn silence_wav(ms: u32) -> Vec<u8> {
    tones_wav(&[(0.0, ms)])
}

/// How much of a recording is a given tone, judged in blocks of about
/// 20 ms (a whole number of periods of the tone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToneReport {
    /// Length of the recording.
    pub duration_ms: u32,
    /// Total length of the blocks dominated by the tone.
    pub tone_ms: u32,
    /// Longest run of consecutive such blocks.
    pub longest_run_ms: u32,
}

/// Measures `frequency` in `samples`: a block counts when it is not quiet
/// (RMS at least 1% of full scale) and at least 60% of its energy is in the
/// Goertzel bin of `frequency`.
pub fn tone_report(samples: &[i16], sample_rate: u32, frequency: f32) -> ToneReport {
    let rate = sample_rate.max(1) as f32;
    // About 20 ms holding a whole number of periods, so that the tone sits
    // on a DFT bin and leaks nothing.
    let periods = (frequency * 0.02).round().max(1.0);
    let block = ((periods * rate / frequency).round() as usize).clamp(16, samples.len().max(16));
    let block_ms = block as f32 * 1000.0 / rate;
    let (mut tone_blocks, mut run, mut longest) = (0u32, 0u32, 0u32);
    for chunk in samples.chunks_exact(block) {
        let x: Vec<f32> = chunk.iter().map(|&s| f32::from(s)).collect();
        let energy: f32 = x.iter().map(|v| v * v).sum();
        let rms = (energy / block as f32).sqrt();
        let power = media::detect::goertzel_power(&x, frequency, sample_rate);
        // A sine of amplitude A gives power (A*N/2)^2 and energy A^2*N/2.
        let share = if energy > 0.0 { 2.0 * power / (block as f32 * energy) } else { 0.0 };
        if rms >= 327.0 && share >= 0.6 {
            tone_blocks += 1;
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let ms = |blocks: u32| (blocks as f32 * block_ms).round() as u32;
    ToneReport {
        duration_ms: (samples.len() as u64 * 1000 / u64::from(sample_rate.max(1))) as u32,
        tone_ms: ms(tone_blocks),
        longest_run_ms: ms(longest),
    }
}

/// Whether `wav` holds `frequency` for at least `min_ms` without a break.
pub fn has_tone(wav: &Wav, frequency: f32, min_ms: u32) -> bool {
    tone_report(&wav.samples, wav.sample_rate, frequency).longest_run_ms >= min_ms
}
