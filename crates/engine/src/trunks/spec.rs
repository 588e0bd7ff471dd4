//! What the supervisor needs of a gateway or trunk, read from its stored
//! record (and, for a gateway, its `GATEWAY` params): pure functions, so
//! that bad configuration becomes a clear error on the gateway's status
//! rather than a panic or a silent default.

use std::collections::BTreeMap;

use store::Record;

use super::register::Timers;

/// Whether, and how, a gateway runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Stopped (`killgw`): not running at all.
    Stopped,
    /// Runs without registering (`register` = no): `NOREG`.
    NoReg,
    /// Should register but was told to `unregister`: `UNREGED`.
    Unregistered,
    /// Registers.
    Register,
}

/// How a peer is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (the default).
    Udp,
    /// TCP.
    Tcp,
}

/// A host and port to send to (the port defaults to 5060).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// A name or an IP address (IPv6 without brackets).
    pub host: String,
    /// The port.
    pub port: u16,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A gateway as the supervisor runs it. Everything but `mode` is its
/// identity: a change to any of it restarts the registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySpec {
    /// Its id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// Its name.
    pub name: String,
    /// Whether and how it runs.
    pub mode: Mode,
    /// What makes it up, or why it cannot run.
    pub setup: Result<Setup, String>,
}

/// A usable gateway's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// Whether it registers at all (`register` = yes).
    pub register: bool,
    /// The registrar's domain: the Request-URI of REGISTER (`realm`).
    pub realm: Target,
    /// Where requests are sent (`register-proxy`, else `proxy`, else the
    /// realm).
    pub proxy: Target,
    /// The transport (`register-transport`).
    pub transport: Transport,
    /// The user of From and To (`from-user`, else `username`).
    pub from_user: String,
    /// The domain of From and To (`from-domain`, else the realm's host).
    pub from_domain: String,
    /// The digest user name (`auth-username`, else `username`).
    pub auth_username: String,
    /// The password (opened), if any.
    pub password: Option<String>,
    /// The user part of our Contact (`extension`, else the from user).
    pub contact_user: String,
    /// The registration timers.
    pub timers: Timers,
    /// OPTIONS ping interval in seconds (`ping`), if pinged.
    pub ping: Option<u32>,
}

impl GatewaySpec {
    /// The spec of gateway `rec` with its enabled `params` (key → value)
    /// and its opened password (`Err` when it could not be opened).
    pub fn new(
        rec: &Record,
        params: &BTreeMap<String, String>,
        password: Result<Option<String>, String>,
    ) -> GatewaySpec {
        let register = rec.text("register") == "yes";
        let mode = match rec.text("state") {
            "STOPPED" => Mode::Stopped,
            _ if !register => Mode::NoReg,
            "NOREG" => Mode::Unregistered,
            _ => Mode::Register,
        };
        GatewaySpec {
            id: rec.id,
            workspace_id: rec.workspace_id.unwrap_or_default(),
            name: rec.text("name").to_owned(),
            mode,
            setup: setup(rec, params, password, register),
        }
    }

    /// True when `other` differs only in its mode (no restart needed).
    pub fn same_setup(&self, other: &GatewaySpec) -> bool {
        self.setup == other.setup && self.name == other.name && self.workspace_id == other.workspace_id
    }
}

fn setup(
    rec: &Record,
    params: &BTreeMap<String, String>,
    password: Result<Option<String>, String>,
    register: bool,
) -> Result<Setup, String> {
    let param = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let realm = parse_target(rec.text("realm")).map_err(|e| format!("realm: {e}"))?;
    let proxy = match param("register-proxy").or(param("proxy")) {
        Some(p) => parse_target(p).map_err(|e| format!("param proxy: {e}"))?,
        None => realm.clone(),
    };
    let transport = match param("register-transport").map(str::to_ascii_lowercase).as_deref() {
        None | Some("udp") => Transport::Udp,
        Some("tcp") => Transport::Tcp,
        Some(other) => return Err(format!("param register-transport: '{other}' is not udp or tcp")),
    };
    let username = rec.text("username").trim().to_owned();
    let from_user = param("from-user").map_or_else(|| username.clone(), str::to_owned);
    if register && from_user.is_empty() {
        return Err("a registering gateway needs a username".into());
    }
    let seconds = |k: &str, default: u32, min: u32| -> Result<u32, String> {
        match param(k) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(format!("param {k}: '{v}' is not a whole number of seconds (at least {min})")),
            },
        }
    };
    let defaults = Timers::default();
    let timers = Timers {
        expires: seconds("expire-seconds", defaults.expires, 1)?,
        retry: seconds("retry-seconds", defaults.retry, 1)?,
        retry_max: seconds("retry-max-seconds", defaults.retry_max, 1)?,
        timeout: seconds("timeout-seconds", defaults.timeout, 1)?,
    };
    let ping = match seconds("ping", 0, 0)? {
        0 => None,
        n => Some(n),
    };
    Ok(Setup {
        register,
        from_domain: param("from-domain").map_or_else(|| realm.host.clone(), str::to_owned),
        auth_username: param("auth-username").map_or_else(|| username.clone(), str::to_owned),
        contact_user: param("extension").map_or_else(|| from_user.clone(), str::to_owned),
        from_user,
        realm,
        proxy,
        transport,
        password: password?,
        timers,
        ping,
    })
}

/// A trunk as the pinger sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkSpec {
    /// Its id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// Its name.
    pub name: String,
    /// Where it is.
    pub target: Target,
    /// How it is reached.
    pub transport: Transport,
    /// The ping interval in seconds.
    pub ping: u32,
}

impl TrunkSpec {
    /// The trunk to ping for `rec`: `None` when it is disabled, has no
    /// remote address, or asks for no pings. Pings are asked for with a
    /// `ping` number of seconds in its `params` JSON object.
    pub fn new(rec: &Record) -> Result<Option<TrunkSpec>, String> {
        if rec.int("enabled") != Some(1) || rec.text("remote_addr").trim().is_empty() {
            return Ok(None);
        }
        let ping = match ping_param(rec.text("params"))? {
            Some(n) if n > 0 => n,
            _ => return Ok(None),
        };
        let target = parse_target(rec.text("remote_addr")).map_err(|e| format!("remote_addr: {e}"))?;
        let transport =
            if rec.text("protocol").eq_ignore_ascii_case("tcp") { Transport::Tcp } else { Transport::Udp };
        Ok(Some(TrunkSpec {
            id: rec.id,
            workspace_id: rec.workspace_id.unwrap_or_default(),
            name: rec.text("name").to_owned(),
            target,
            transport,
            ping,
        }))
    }
}

/// The `ping` of a trunk's `params` (a JSON object; empty means none).
pub fn ping_param(params: &str) -> Result<Option<u32>, String> {
    let params = params.trim();
    if params.is_empty() {
        return Ok(None);
    }
    let json: serde_json::Value =
        serde_json::from_str(params).map_err(|_| "params: not a JSON object".to_owned())?;
    let bad = || "params: ping must be a whole number of seconds".to_owned();
    match json.get("ping") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(bad)
        }
        Some(serde_json::Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// Parses `host`, `host:port`, `[v6]:port` or a SIP URI
/// (`sip:user@host:port;params`) into where to send.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let mut rest = s.trim();
    for scheme in ["sip:", "sips:", "SIP:", "SIPS:"] {
        if let Some(r) = rest.strip_prefix(scheme) {
            rest = r;
            break;
        }
    }
    let rest = rest.split([';', '?']).next().unwrap_or_default();
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if rest.is_empty() {
        return Err(format!("'{s}' names no host"));
    }
    let bad = || format!("'{s}' is not host or host:port");
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(bad)?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err(bad()),
        }
    } else if rest.matches(':').count() > 1 {
        (rest, None)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let port = match port {
        None => 5060,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?,
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    Ok(Target { host: host.to_owned(), port })
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::Value;

    fn rec(id: i64, fields: &[(&'static str, Value)]) -> Record {
        Record {
            id,
            r#ref: String::new(),
            workspace_id: Some(1),
            created_at: 0,
            updated_at: 0,
            values: fields.iter().cloned().collect(),
        }
    }

    fn gw(register: &str, state: &str) -> Record {
        rec(
            3,
            &[
                ("name", Value::from("up")),
                ("realm", Value::from("127.0.0.1:5090")),
                ("username", Value::from("1001")),
                ("register", Value::from(register)),
                ("state", Value::from(state)),
            ],
        )
    }

    fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn targets_are_read_from_hosts_ports_and_uris() {
        let t = |s: &str| parse_target(s).map(|t| t.to_string());
        assert_eq!(t("sip.example.com"), Ok("sip.example.com:5060".into()));
        assert_eq!(t("192.168.1.100:7000"), Ok("192.168.1.100:7000".into()));
        assert_eq!(t("sip:192.168.1.100:8081"), Ok("192.168.1.100:8081".into()));
        assert_eq!(t("sip:bob@10.0.0.1:5070;transport=udp"), Ok("10.0.0.1:5070".into()));
        assert_eq!(t("[::1]:5080"), Ok("[::1]:5080".into()));
        assert_eq!(t("::1"), Ok("[::1]:5060".into()));
        assert!(t("").is_err());
        assert!(t("host:0").is_err());
        assert!(t("host:99999").is_err());
        assert!(t("host:abc").is_err());
        assert!(t("a b").is_err());
    }

    #[test]
    fn a_gateway_takes_its_defaults_and_its_params() {
        let plain = GatewaySpec::new(&gw("yes", "TRYING"), &BTreeMap::new(), Ok(Some("pw".into())));
        assert_eq!(plain.mode, Mode::Register);
        let s = plain.setup.clone().expect("usable");
        assert_eq!(
            (s.from_user.as_str(), s.from_domain.as_str(), s.auth_username.as_str()),
            ("1001", "127.0.0.1", "1001")
        );
        assert_eq!(s.proxy, s.realm);
        assert_eq!(s.timers, Timers::default());
        assert_eq!((s.ping, s.transport), (None, Transport::Udp));

        let p = params(&[
            ("expire-seconds", "5"),
            ("retry-seconds", "1"),
            ("timeout-seconds", "2"),
            ("from-domain", "example.com"),
            ("auth-username", "cluecon"),
            ("proxy", "127.0.0.1:6000"),
            ("ping", "10"),
        ]);
        let tuned = GatewaySpec::new(&gw("yes", "TRYING"), &p, Ok(Some("pw".into())));
        let s = tuned.setup.clone().expect("usable");
        assert_eq!((s.timers.expires, s.timers.retry, s.timers.timeout), (5, 1, 2));
        assert_eq!((s.from_domain.as_str(), s.auth_username.as_str()), ("example.com", "cluecon"));
        assert_eq!(s.proxy.to_string(), "127.0.0.1:6000");
        assert_eq!(s.ping, Some(10));
        assert!(!plain.same_setup(&tuned));
    }

    #[test]
    fn the_stored_state_and_register_give_the_mode() {
        let mode = |r: &str, s: &str| GatewaySpec::new(&gw(r, s), &BTreeMap::new(), Ok(None)).mode;
        assert_eq!(mode("yes", "TRYING"), Mode::Register);
        assert_eq!(mode("yes", "REGED"), Mode::Register);
        assert_eq!(mode("yes", "NOREG"), Mode::Unregistered);
        assert_eq!(mode("no", "NOREG"), Mode::NoReg);
        assert_eq!(mode("yes", "STOPPED"), Mode::Stopped);
        let a = GatewaySpec::new(&gw("yes", "TRYING"), &BTreeMap::new(), Ok(None));
        let b = GatewaySpec::new(&gw("yes", "NOREG"), &BTreeMap::new(), Ok(None));
        assert!(a.same_setup(&b), "only the mode differs");
    }

    #[test]
    fn bad_settings_are_clear_errors() {
        let err = |p: &[(&str, &str)]| {
            GatewaySpec::new(&gw("yes", "TRYING"), &params(p), Ok(None)).setup.expect_err("an error")
        };
        assert!(err(&[("expire-seconds", "soon")]).contains("expire-seconds"));
        assert!(err(&[("retry-seconds", "0")]).contains("retry-seconds"));
        assert!(err(&[("register-transport", "carrier-pigeon")]).contains("register-transport"));
        assert!(err(&[("proxy", "host:70000")]).contains("proxy"));
        let mut nameless = gw("yes", "TRYING");
        nameless.values.insert("username", Value::from(""));
        assert!(GatewaySpec::new(&nameless, &BTreeMap::new(), Ok(None))
            .setup
            .expect_err("an error")
            .contains("username"));
        let sealed =
            GatewaySpec::new(&gw("yes", "TRYING"), &BTreeMap::new(), Err("password: wrong key".into()));
        assert_eq!(sealed.setup.expect_err("an error"), "password: wrong key");
    }

    #[test]
    fn only_enabled_trunks_that_ask_for_pings_are_pinged() {
        let trunk = |enabled: i64, addr: &str, params: &str| {
            TrunkSpec::new(&rec(
                9,
                &[
                    ("name", Value::from("carrier")),
                    ("enabled", Value::Int(enabled)),
                    ("remote_addr", Value::from(addr)),
                    ("params", Value::from(params)),
                    ("protocol", Value::from("TCP")),
                ],
            ))
        };
        let t = trunk(1, "sip:127.0.0.1:5070", r#"{"ping": 5}"#).expect("valid").expect("pinged");
        assert_eq!((t.target.to_string(), t.ping, t.transport), ("127.0.0.1:5070".into(), 5, Transport::Tcp));
        assert_eq!(trunk(1, "127.0.0.1", r#"{"ping": "3"}"#).expect("valid").map(|t| t.ping), Some(3));
        assert_eq!(trunk(0, "127.0.0.1", r#"{"ping": 5}"#), Ok(None));
        assert_eq!(trunk(1, "", r#"{"ping": 5}"#), Ok(None));
        assert_eq!(trunk(1, "127.0.0.1", "{}"), Ok(None));
        assert_eq!(trunk(1, "127.0.0.1", ""), Ok(None));
        assert_eq!(trunk(1, "127.0.0.1", r#"{"ping": 0}"#), Ok(None));
        assert!(trunk(1, "127.0.0.1", "not json").is_err());
        assert!(trunk(1, "127.0.0.1", r#"{"ping": -1}"#).is_err());
        assert!(trunk(1, "host:0", r#"{"ping": 5}"#).is_err());
    }
}
