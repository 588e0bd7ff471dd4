//! The real binary: first start, restart keeps everything, secrets are
//! stored hashed, JSON logs, config errors.
#![allow(missing_docs, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const EMAIL: &str = "boss@example.com";
const PASSWORD: &str = "a long known password";

struct Calliope {
    child: Child,
    url: String,
    stdout: Vec<String>,
}

impl Calliope {
    fn start(data: &Path, extra: &[&str]) -> Calliope {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_calliope"))
            .args([
                "serve",
                "--http-addr",
                &format!("127.0.0.1:{port}"),
                "--sip-addr",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data)
            .args(extra)
            .env("CALLIOPE_ADMIN_EMAIL", EMAIL)
            .env_remove("CALLIOPE_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "calliope did not start");
            if let Some(status) = child.try_wait().unwrap() {
                panic!("calliope exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Calliope { child, url, stdout: Vec::new() }
    }

    /// Stops with SIGTERM and waits; returns stdout and stderr lines.
    fn stop(mut self) -> (Vec<String>, Vec<String>) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "graceful stop: {status}");
        let lines =
            |r: Box<dyn std::io::Read>| BufReader::new(r).lines().map_while(Result::ok).collect::<Vec<_>>();
        self.stdout = lines(Box::new(self.child.stdout.take().unwrap()));
        let stderr = lines(Box::new(self.child.stderr.take().unwrap()));
        (std::mem::take(&mut self.stdout), stderr)
    }
}

impl Drop for Calliope {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(url: &str, body: Value, basic: Option<(&str, &str)>) -> (u16, Value) {
    let mut rb = reqwest::Client::new().post(url).json(&body);
    if let Some((id, secret)) = basic {
        rb = rb.basic_auth(id, Some(secret));
    }
    let resp = rb.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn restart_keeps_everything_and_secrets_are_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Calliope::start(dir.path(), &["--admin-password", PASSWORD, "--log-format", "json"]);
    let (st, tokens) = post(
        &format!("{}/v1beta2/auth/login", server.url),
        json!({"username": EMAIL, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(st, 200, "{tokens}");
    let access = tokens["accessToken"].as_str().unwrap().to_owned();
    let key: Value = reqwest::Client::new()
        .post(format!("{}/v1beta2/apikeys", server.url))
        .bearer_auth(&access)
        .json(&json!({"role": "WORKSPACE_ADMIN"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (akid, secret) = (
        key["accessKeyId"].as_str().unwrap().to_owned(),
        key["accessKeySecret"].as_str().unwrap().to_owned(),
    );
    let (st, voip) = post(
        &format!("{}/v1.2/voipstudio/login", server.url),
        json!({"email": EMAIL, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let user_token = voip["user_token"].as_str().unwrap().to_owned();
    let (stdout, stderr) = server.stop();
    assert!(stdout.iter().any(|l| l.contains("AccessKeyId WO")), "{stdout:?}");
    assert!(!stdout.iter().any(|l| l.contains("password")), "a configured password is not printed");
    assert!(stderr.iter().any(|l| l.contains("HTTP API listening")), "{stderr:?}");
    for line in &stderr {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not a JSON log line: {line}: {e}"));
        for s in [PASSWORD, &secret, &user_token, &access] {
            assert!(!line.contains(s), "a secret was logged: {line}");
        }
    }

    // Nothing secret is in the database files, only hashes.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for s in [PASSWORD, &secret, &user_token, &access, tokens["refreshToken"].as_str().unwrap()] {
            assert!(!text.contains(s), "found a secret in the store");
        }
    }

    // After a restart every credential still works and no new owner is made.
    let server = Calliope::start(dir.path(), &[]);
    let (st, body) = post(
        &format!("{}/v1beta2/auth/apikey", server.url),
        json!({"accessKeyId": akid, "accessKeySecret": secret}),
        None,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let get = |path: &str, token: &str, header: &str| {
        reqwest::Client::new().get(format!("{}{path}", server.url)).header(header, token.to_owned()).send()
    };
    assert_eq!(get("/v1.2/voipstudio/apitokens", &user_token, "X-Auth-Token").await.unwrap().status(), 200);
    assert_eq!(
        get("/v1beta2/workspaces", &format!("Bearer {access}"), "Authorization").await.unwrap().status(),
        200
    );
    let (stdout, _) = server.stop();
    assert!(!stdout.iter().any(|l| l.contains("Created the workspace")), "{stdout:?}");
}

#[tokio::test]
async fn first_start_prints_a_random_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Calliope::start(dir.path(), &[]);
    let (stdout, _) = server.stop();
    let line = stdout.iter().find(|l| l.contains("password")).expect("password printed");
    let password = line.rsplit(' ').next().unwrap().to_owned();
    assert!(password.len() >= 16);
    let server = Calliope::start(dir.path(), &[]);
    let (st, _) =
        post(&format!("{}/api/sessions", server.url), json!({"login": EMAIL, "password": password}), None)
            .await;
    assert_eq!(st, 200);
    let (stdout, _) = server.stop();
    assert!(!stdout.iter().any(|l| l.contains("password")));
}

#[test]
fn unknown_config_keys_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calliope.toml");
    std::fs::write(&file, "http_addr = \"127.0.0.1:0\"\nsip_adr = \"0.0.0.0:5060\"\n").unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_calliope")).args(["serve", "--config"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sip_adr"), "{err}");
}
