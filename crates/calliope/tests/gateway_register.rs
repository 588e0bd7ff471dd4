//! Gateways register upstream and trunks are pinged, against SIPp peers:
//! a registrar that challenges every REGISTER and grants 4 s, and a
//! carrier that answers OPTIONS. The state is read through the PBX API
//! (`/api/gateways/list1`, `/api/gateways/{id}/status`,
//! `/api/trunk_groups/status`) and the peers' message logs.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::calliope::{free_port, scenario, Calliope};

/// A SIPp UAS on `port` running `name` for up to `calls` calls, with its
/// message log in its own directory. Killed when dropped.
struct Peer {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Peer {
    fn start(name: &str, port: u16, calls: u32) -> Peer {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("messages.log");
        let child = Command::new("sipp")
            .current_dir(dir.path())
            .arg("-sf")
            .arg(scenario(name))
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", &calls.to_string(), "-nostdin"])
            .args(["-trace_msg", "-message_file"])
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut me = Peer { child, log, _dir: dir };
        // SIPp binds at start: give it a moment, and make sure it lives.
        std::thread::sleep(Duration::from_millis(300));
        assert!(me.child.try_wait().unwrap().is_none(), "sipp {name} exited at start");
        me
    }

    /// Its message log so far.
    fn messages(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The requests it received, each as its text; retransmissions (the
    /// same Call-ID and CSeq again) once.
    fn received(&self, method: &str) -> Vec<String> {
        let start = format!("{method} sip:");
        let mut seen = std::collections::HashSet::new();
        let header = |m: &str, name: &str| m.lines().find(|l| l.starts_with(name)).map(str::to_owned);
        self.messages()
            .split("-----------------------------------------------")
            .filter(|m| m.contains("message received"))
            .filter_map(|m| m.find(&start).map(|i| m[i..].to_owned()))
            .filter(|m| seen.insert((header(m, "Call-ID:"), header(m, "CSeq:"))))
            .collect()
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CSeq number of a request's text.
fn cseq(request: &str) -> Option<u32> {
    let line = request.lines().find(|l| l.starts_with("CSeq:"))?;
    line["CSeq:".len()..].split_whitespace().next()?.parse().ok()
}

/// A PBX-dialect request with the owner's token.
fn pbx(c: &Calliope, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rb = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{}", c.http, path))
            .header("X-XTRA-AUTH-ID", c.token());
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let resp = rb.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// Polls `probe` every 100 ms until it gives `Some`, for up to `secs`.
fn wait_for<T>(secs: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The gateway `name`'s row of `/api/gateways/list1`.
fn listed(c: &Calliope, name: &str) -> Option<Value> {
    let (st, list) = c.pbx_get("/api/gateways/list1");
    assert_eq!(st, 200, "{list}");
    list.as_array().unwrap().iter().find(|g| g["name"] == name).cloned()
}

fn state_of(c: &Calliope, name: &str) -> String {
    listed(c, name).map(|g| g["gateway_state"].as_str().unwrap().to_owned()).unwrap_or_default()
}

fn status(c: &Calliope, id: &str) -> Value {
    let (st, body) = c.pbx_get(&format!("/api/gateways/{id}/status"));
    assert_eq!(st, 200, "{body}");
    body["data"].clone()
}

/// A registering gateway `upstream` to the registrar on `port`, with
/// `params`; made with `register` = no first so that it starts once, with
/// all of them.
fn gateway(c: &Calliope, port: u16, params: &[(&str, &str)]) -> String {
    let body = json!({
        "name": "upstream", "realm": format!("127.0.0.1:{port}"),
        "username": "gwuser", "password": "gwsecret", "register": "no",
    });
    let (st, made) = pbx(c, "POST", "/api/gateways", body);
    assert_eq!(st, 200, "{made}");
    let id = made["data"].to_string().trim_matches('"').to_owned();
    for (k, v) in params {
        let (st, body) =
            pbx(c, "POST", &format!("/api/gateways/{id}/params"), json!({"k": k, "v": v, "disabled": "0"}));
        assert_eq!(st, 200, "{body}");
    }
    let (st, body) = pbx(c, "PUT", &format!("/api/gateways/{id}"), json!({"register": "yes"}));
    assert_eq!(st, 200, "{body}");
    id
}

#[test]
fn a_gateway_registers_refreshes_fails_over_and_recovers_and_unregisters() {
    let c = Calliope::start(&[]);
    let port = free_port();
    let registrar = Peer::start("gw_registrar.xml", port, 100);
    let id = gateway(
        &c,
        port,
        &[
            ("expire-seconds", "60"),
            ("retry-seconds", "1"),
            ("retry-max-seconds", "2"),
            ("timeout-seconds", "2"),
        ],
    );

    // Challenged, answered with the right digest, accepted for 4 s (less
    // than the 60 asked for).
    wait_for(10, "REGED", || (state_of(&c, "upstream") == "REGED").then_some(()));
    let s = status(&c, &id);
    assert_eq!((s["gateway_status"].clone(), s["last_error"].clone()), (json!("UP"), json!("")), "{s}");
    assert!(s["expires_in"].as_i64().unwrap() <= 4, "the granted lifetime counts: {s}");
    let registers = registrar.received("REGISTER");
    assert!(registers.len() >= 2, "{registers:?}");
    assert!(!registers[0].contains("Authorization:"), "the first REGISTER carries no credentials");
    assert!(registers[1].contains("Authorization: Digest") && registers[1].contains("username=\"gwuser\""));
    assert!(registers[0].contains("Expires: 60"), "{}", registers[0]);

    // Refreshed before the 4 s lapse (at half): over 5 s it stays REGED and
    // the registrar accepts at least two more REGISTERs.
    let accepted = |p: &Peer| p.received("REGISTER").iter().filter(|r| r.contains("Authorization:")).count();
    let before = accepted(&registrar);
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        assert_eq!(state_of(&c, "upstream"), "REGED");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(accepted(&registrar) >= before + 2, "refreshes: {} then {}", before, accepted(&registrar));
    let call_ids: std::collections::HashSet<String> = registrar
        .received("REGISTER")
        .iter()
        .filter_map(|r| r.lines().find(|l| l.starts_with("Call-ID:")).map(str::to_owned))
        .collect();
    assert_eq!(call_ids.len(), 1, "one Call-ID for every REGISTER of the binding: {call_ids:?}");

    // The upstream stops answering: the next refresh times out (2 s) and
    // the gateway waits to retry, shown DOWN with the reason.
    registrar.stop();
    let failed = wait_for(10, "FAIL_WAIT", || {
        let s = status(&c, &id);
        (s["gateway_state"] == "FAIL_WAIT").then_some(s)
    });
    assert_eq!(failed["gateway_status"], "DOWN", "{failed}");
    assert!(failed["last_error"].as_str().unwrap().contains("no answer"), "{failed}");
    assert_eq!(listed(&c, "upstream").unwrap()["gateway_status"], "DOWN");

    // A new registrar on the same port: the retry (at most 2 s apart)
    // registers again.
    let registrar = Peer::start("gw_registrar.xml", port, 100);
    wait_for(12, "REGED again", || (state_of(&c, "upstream") == "REGED").then_some(()));
    let s = status(&c, &id);
    assert_eq!((s["failures"].clone(), s["last_error"].clone()), (json!(0), json!("")), "{s}");

    // `unregister` removes the binding (Expires: 0, answering the
    // challenge) and stops refreshing.
    let (st, body) =
        pbx(&c, "PUT", "/api/gateways/control", json!({"action": "unregister", "gwname": "upstream"}));
    assert_eq!(st, 200, "{body}");
    wait_for(5, "UNREGED", || (state_of(&c, "upstream") == "UNREGED").then_some(()));
    let zeros = wait_for(5, "an authorized Expires: 0", || {
        let zeros: Vec<String> =
            registrar.received("REGISTER").into_iter().filter(|r| r.contains("Expires: 0")).collect();
        zeros.iter().any(|r| r.contains("Authorization:")).then_some(zeros)
    });
    assert!(zeros[0].contains(";expires=0"), "{}", zeros[0]);
    // Nothing newer than the unREGISTER comes (an attempt given up during
    // the outage may still be retransmitted: its CSeq is older).
    let newest = |p: &Peer| p.received("REGISTER").iter().filter_map(|r| cseq(r)).max().unwrap_or(0);
    let last = newest(&registrar);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(newest(&registrar), last, "no refresh after unregister");
    assert_eq!(state_of(&c, "upstream"), "UNREGED");

    // `register` registers again at once; `killgw` unregisters and stops.
    let (st, _) = pbx(&c, "PUT", &format!("/api/gateways/{id}/control"), json!({"action": "register"}));
    assert_eq!(st, 200);
    wait_for(5, "REGED after register", || (state_of(&c, "upstream") == "REGED").then_some(()));
    let zeros_before = registrar.received("REGISTER").iter().filter(|r| r.contains("Expires: 0")).count();
    let (st, _) = pbx(&c, "PUT", &format!("/api/gateways/{id}/control"), json!({"action": "killgw"}));
    assert_eq!(st, 200);
    assert!(listed(&c, "upstream").is_none(), "a stopped gateway is not listed");
    assert_eq!(status(&c, &id)["running"], false);
    wait_for(5, "Expires: 0 on killgw", || {
        let zeros = registrar.received("REGISTER").iter().filter(|r| r.contains("Expires: 0")).count();
        (zeros > zeros_before).then_some(())
    });
}

#[test]
fn a_registered_gateway_unregisters_on_shutdown() {
    let c = Calliope::start(&[]);
    let port = free_port();
    let registrar = Peer::start("gw_registrar.xml", port, 100);
    let id = gateway(&c, port, &[("expire-seconds", "60")]);
    wait_for(10, "REGED", || (state_of(&c, "upstream") == "REGED").then_some(()));
    // SIGTERM, then it starts again on the same data and registers again.
    let c = c.restart(&[]);
    let zeros: Vec<String> =
        registrar.received("REGISTER").into_iter().filter(|r| r.contains("Expires: 0")).collect();
    assert!(!zeros.is_empty(), "Expires: 0 was sent before stopping");
    assert!(zeros.iter().any(|r| r.contains("Authorization:")), "and its challenge answered");
    wait_for(10, "REGED after restart", || (state_of(&c, "upstream") == "REGED").then_some(()));

    // Deleting a registered gateway removes its binding too.
    let before = registrar.received("REGISTER").iter().filter(|r| r.contains("Expires: 0")).count();
    let (st, body) = pbx(&c, "DELETE", &format!("/api/gateways/{id}"), Value::Null);
    assert_eq!(st, 200, "{body}");
    wait_for(5, "Expires: 0 on delete", || {
        let zeros = registrar.received("REGISTER").iter().filter(|r| r.contains("Expires: 0")).count();
        (zeros > before).then_some(())
    });
    assert!(listed(&c, "upstream").is_none());
}

#[test]
fn a_trunk_pinged_with_options_shows_up_then_down_when_its_peer_stops() {
    let c = Calliope::start(&[]);
    let port = free_port();
    let carrier = Peer::start("options_responder.xml", port, 100_000);
    let trunk = json!({
        "name": "carrier", "type": "INOUT", "protocol": "UDP", "enabled": true,
        "remote_addr": format!("127.0.0.1:{port}"), "params": "{\"ping\": 1}",
    });
    let (st, made) = pbx(&c, "POST", "/api/trunks", trunk);
    assert_eq!(st, 200, "{made}");
    let trunk_id: i64 =
        made["data"].as_str().map_or_else(|| made["data"].as_i64().unwrap(), |s| s.parse().unwrap());
    let (st, body) =
        pbx(&c, "POST", "/api/trunk_groups", json!({"name": "out", "strategy": "RR", "trunks": [trunk_id]}));
    assert_eq!(st, 200, "{body}");
    let row = || {
        let (st, page) = c.pbx_get("/api/trunk_groups/status");
        assert_eq!(st, 200, "{page}");
        page["data"][0].clone()
    };
    let up = wait_for(10, "Active", || {
        let r = row();
        (r["status"] == "Active").then_some(r)
    });
    assert_eq!((up["ping"].clone(), up["dflags"].clone()), (json!("enabled"), json!("AP")), "{up}");
    assert!(!carrier.received("OPTIONS").is_empty());

    carrier.stop();
    let down = wait_for(10, "inactive", || {
        let r = row();
        (r["status"] == "inactive").then_some(r)
    });
    assert_eq!(down["dflags"], "IP", "{down}");

    // Back again on the same port: up again.
    let _carrier = Peer::start("options_responder.xml", port, 100_000);
    wait_for(10, "Active again", || (row()["status"] == "Active").then_some(()));
}

#[test]
fn a_gateway_without_usable_settings_fails_with_a_clear_reason() {
    let c = Calliope::start(&[]);
    let port = free_port();
    let registrar = Peer::start("gw_registrar.xml", port, 100);
    // Challenged, but it has no password: FAILED, no retry.
    let body = json!({"name": "nopass", "realm": format!("127.0.0.1:{port}"), "username": "gwuser", "register": "yes"});
    let (st, made) = pbx(&c, "POST", "/api/gateways", body);
    assert_eq!(st, 200, "{made}");
    let id = made["data"].to_string().trim_matches('"').to_owned();
    let failed = wait_for(10, "FAILED", || {
        let s = status(&c, &id);
        (s["gateway_state"] == "FAILED").then_some(s)
    });
    assert!(failed["last_error"].as_str().unwrap().contains("no password"), "{failed}");
    assert_eq!(failed["next_attempt_in"], Value::Null, "{failed}");
    assert_eq!(listed(&c, "nopass").unwrap()["gateway_status"], "DOWN");
    let sent = registrar.received("REGISTER").len();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(registrar.received("REGISTER").len(), sent, "no retry by itself");

    // A param that is not a number: FAILED naming it, nothing sent.
    let (st, made) = pbx(
        &c,
        "POST",
        "/api/gateways",
        json!({"name": "badparam", "realm": "127.0.0.1:9", "username": "u", "password": "p", "register": "no"}),
    );
    assert_eq!(st, 200, "{made}");
    let bad = made["data"].to_string().trim_matches('"').to_owned();
    let (st, param) = pbx(
        &c,
        "POST",
        &format!("/api/gateways/{bad}/params"),
        json!({"k": "expire-seconds", "v": "soon", "disabled": "0"}),
    );
    assert_eq!(st, 200, "{param}");
    let (st, _) = pbx(&c, "PUT", &format!("/api/gateways/{bad}/control"), json!({"action": "register"}));
    assert_eq!(st, 200);
    let s = wait_for(5, "FAILED badparam", || {
        let s = status(&c, &bad);
        (s["gateway_state"] == "FAILED").then_some(s)
    });
    assert!(s["last_error"].as_str().unwrap().contains("expire-seconds"), "{s}");
    // Disabling the param makes it usable again (it does not register).
    let param = param["data"].to_string().trim_matches('"').to_owned();
    let (st, body) = pbx(&c, "PUT", &format!("/api/gateways/{bad}/params/{param}"), json!({"disabled": "1"}));
    assert_eq!(st, 200, "{body}");
    let s = wait_for(5, "NOREG badparam", || {
        let s = status(&c, &bad);
        (s["gateway_state"] == "NOREG").then_some(s)
    });
    assert_eq!(s["last_error"], "", "{s}");
}

#[test]
fn a_gateway_with_a_ping_param_is_up_while_its_peer_answers_options() {
    let c = Calliope::start(&[]);
    let port = free_port();
    let peer = Peer::start("options_responder.xml", port, 100_000);
    let body =
        json!({"name": "pinged", "realm": format!("127.0.0.1:{port}"), "username": "u", "register": "no"});
    let (st, made) = pbx(&c, "POST", "/api/gateways", body);
    assert_eq!(st, 200, "{made}");
    let id = made["data"].to_string().trim_matches('"').to_owned();
    let (st, _) = pbx(
        &c,
        "POST",
        &format!("/api/gateways/{id}/params"),
        json!({"k": "ping", "v": "1", "disabled": "0"}),
    );
    assert_eq!(st, 200);
    let up = wait_for(10, "ping UP", || {
        let s = status(&c, &id);
        (s["ping"]["status"] == "UP").then_some(s)
    });
    assert_eq!(
        (up["gateway_state"].clone(), up["gateway_status"].clone()),
        (json!("NOREG"), json!("UP")),
        "{up}"
    );
    assert!(up["ping"]["rtt_ms"].as_i64().is_some(), "{up}");
    peer.stop();
    wait_for(10, "DOWN", || (listed(&c, "pinged").unwrap()["gateway_status"] == "DOWN").then_some(()));
    assert_eq!(status(&c, &id)["ping"]["status"], "DOWN");
}

#[test]
fn gateway_state_changes_reach_websocket_clients() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let c = Calliope::start(&[]);
    let port = free_port();
    let _registrar = Peer::start("gw_registrar.xml", port, 100);
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut ws = rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let subscribe = json!({"type": "subscribe", "events": ["gateway.state"]});
        ws.send(Message::Text(subscribe.to_string().into())).await.unwrap();
        assert_eq!(support::events::next_json(&mut ws).await["type"], "subscribed");
        ws
    });
    let id = gateway(&c, port, &[]);
    let mut states = Vec::new();
    while states.last().map(String::as_str) != Some("REGED") {
        let event = rt.block_on(support::events::next_json(&mut ws));
        assert_eq!(event["type"], "gateway.state", "{event}");
        assert_eq!(event["data"]["gatewayId"].to_string(), id, "{event}");
        states.push(event["data"]["state"].as_str().unwrap().to_owned());
    }
    assert!(states.ends_with(&["TRYING".to_owned(), "REGED".to_owned()]), "{states:?}");
}
