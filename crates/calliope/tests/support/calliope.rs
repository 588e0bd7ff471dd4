//! A real Calliope for SIP tests: the binary on free ports, agents made
//! through the HTTP API, and SIPp runs of the scenarios in `tests/sipp/`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const EMAIL: &str = "sip-admin@example.com";
pub const PASSWORD: &str = "a long known password";

pub use super::baresip::{free_sip_port as free_port, free_udp_range as free_range};

pub struct Calliope {
    child: Child,
    pub http: String,
    pub sip: SocketAddr,
    pub rtp: (u16, u16),
    /// The gRPC API's address (a free port unless `--grpc-addr` is given).
    pub grpc: SocketAddr,
    pub dir: tempfile::TempDir,
    token: String,
}

impl Calliope {
    /// Starts the binary with `extra` flags on ports it picks itself, and
    /// learns them from its JSON log.
    pub fn start(extra: &[&str]) -> Calliope {
        Calliope::start_in(tempfile::tempdir().unwrap(), extra, &[])
    }

    /// [`Calliope::start`] run by `wrapper` (a command and its arguments
    /// that end with the program to run, such as `prlimit --nofile=100`).
    pub fn start_under(wrapper: &[&str], extra: &[&str]) -> Calliope {
        Calliope::start_in(tempfile::tempdir().unwrap(), extra, wrapper)
    }

    /// Stops it (SIGTERM, then waits) and starts it again on the same data.
    pub fn restart(mut self, extra: &[&str]) -> Calliope {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Calliope::start_in(dir, extra, &[])
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn start_in(dir: tempfile::TempDir, extra: &[&str], wrapper: &[&str]) -> Calliope {
        // A test that needs more media ports names its own range.
        let own = extra.iter().position(|a| *a == "--rtp-ports").and_then(|i| extra.get(i + 1));
        let rtp = match own.and_then(|r| r.split_once('-')) {
            Some((lo, hi)) => (lo.parse().unwrap(), hi.parse().unwrap()),
            None => free_range(40),
        };
        let default_range = ["--rtp-ports".to_owned(), format!("{}-{}", rtp.0, rtp.1)];
        // Never the default gRPC port: tests run side by side.
        let own_grpc = extra.contains(&"--grpc-addr");
        let grpc_flag: &[&str] = if own_grpc { &[] } else { &["--grpc-addr", "127.0.0.1:0"] };
        let bin = env!("CARGO_BIN_EXE_calliope");
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let mut child = command
            .arg("serve")
            .args(["--http-addr", "127.0.0.1:0", "--sip-addr", "127.0.0.1:0", "--log-format", "json"])
            .args(if own.is_some() { &[][..] } else { &default_range[..] })
            .args(grpc_flag)
            .args(["--admin-password", PASSWORD])
            .arg("--data-dir")
            .arg(dir.path())
            .args(extra)
            .env("CALLIOPE_ADMIN_EMAIL", EMAIL)
            // Whatever a test (or schemathesis) configures, SIP stays on
            // this machine.
            .env("CALLIOPE_SIP_DESTINATIONS", "127.0.0.0/8")
            .env_remove("CALLIOPE_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        // CALLIOPE_TEST_LOG=1 shows the server's log with the test's output.
        let show = std::env::var_os("CALLIOPE_TEST_LOG").is_some();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if show {
                    eprintln!("calliope: {line}");
                }
                let _ = tx.send(line);
            }
        });
        let (mut http, mut sip, mut grpc) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while http.is_none() || sip.is_none() || grpc.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                let status = child.try_wait().ok().flatten();
                panic!("calliope did not start (exit {status:?}); its log:\n{}", seen.join("\n"));
            };
            seen.push(line.clone());
            let Ok(log) = serde_json::from_str::<Value>(&line) else { continue };
            let addr = log["fields"]["addr"].as_str().and_then(|a| a.parse::<SocketAddr>().ok());
            match log["fields"]["message"].as_str() {
                Some("HTTP API listening") => http = addr,
                Some("SIP listening on UDP and TCP") => sip = addr,
                Some("gRPC API listening") => grpc = addr,
                _ => {}
            }
        }
        let (http, sip, grpc) = (http.unwrap(), sip.unwrap(), grpc.unwrap());
        let mut me =
            Calliope { child, http: format!("http://{http}"), sip, rtp, grpc, dir, token: String::new() };
        let (st, body) =
            me.call("POST", "/v1beta2/auth/login", json!({"username": EMAIL, "password": PASSWORD}));
        assert_eq!(st, 200, "{body}");
        me.token = body["accessToken"].as_str().unwrap().to_owned();
        me
    }

    /// The owner's access token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// An HTTP request with the owner's token.
    pub fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let client = reqwest::Client::new();
            let mut rb = client.request(method.parse().unwrap(), format!("{}{}", self.http, path));
            if !self.token.is_empty() {
                rb = rb.bearer_auth(&self.token);
            }
            if !body.is_null() {
                rb = rb.json(&body);
            }
            let resp = rb.send().await.unwrap();
            (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
        })
    }

    /// A GET in the PBX dialect (X-XTRA-AUTH-ID with the owner's token).
    pub fn pbx_get(&self, path: &str) -> (u16, Value) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let resp = reqwest::Client::new()
                .get(format!("{}{}", self.http, path))
                .header("X-XTRA-AUTH-ID", &self.token)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
        })
    }

    /// A request in the PBX dialect with a JSON body (`Null`: none).
    pub fn pbx(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut rb = reqwest::Client::new()
                .request(method.parse().unwrap(), format!("{}{}", self.http, path))
                .header("X-XTRA-AUTH-ID", &self.token);
            if !body.is_null() {
                rb = rb.json(&body);
            }
            let resp = rb.send().await.unwrap();
            (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
        })
    }

    /// A request in the PBX dialect with a form-encoded body.
    pub fn pbx_form(&self, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let resp = reqwest::Client::new()
                .request(method.parse().unwrap(), format!("{}{}", self.http, path))
                .header("X-XTRA-AUTH-ID", &self.token)
                .form(form)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
        })
    }

    /// Uploads a WAV to `/api/media` (multipart, PBX dialect); its
    /// `media_path`.
    pub fn upload_media(&self, name: &str, wav: &[u8]) -> String {
        let boundary = "calliope-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: audio/wav\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(wav);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let answer: Value = rt.block_on(async {
            let resp = reqwest::Client::new()
                .post(format!("{}/api/media", self.http))
                .header("X-XTRA-AUTH-ID", &self.token)
                .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
                .body(body)
                .send()
                .await
                .unwrap();
            resp.json().await.unwrap()
        });
        answer["data"]["media_path"].as_str().unwrap_or_else(|| panic!("upload failed: {answer}")).to_owned()
    }

    /// An agent with extension `user` and digest password `password`.
    pub fn agent(&self, user: &str, password: &str) -> String {
        let (st, cred) = self.call(
            "POST",
            "/v1beta2/credentials",
            json!({"name": format!("{user} credentials"), "username": user, "password": password}),
        );
        assert_eq!(st, 201, "{cred}");
        let (st, agent) = self.call(
            "POST",
            "/v1beta2/agents",
            json!({"name": format!("Agent {user}"), "username": user, "credentials": {"ref": cred["ref"]}}),
        );
        assert_eq!(st, 201, "{agent}");
        agent["ref"].as_str().unwrap().to_owned()
    }
}

impl Drop for Calliope {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of a SIPp scenario of `tests/sipp/`.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp").join(name)
}

/// A SIPp run to prepare.
pub struct Sipp {
    cmd: Command,
    pub port: u16,
    contact_port: Option<u16>,
}

impl Sipp {
    /// `scenario` against Calliope's SIP address, once, from a free port.
    pub fn new(scenario_name: &str, target: SocketAddr) -> Sipp {
        Sipp::on_port(scenario_name, target, free_port())
    }

    /// `scenario` from the given local port.
    pub fn on_port(scenario_name: &str, target: SocketAddr, port: u16) -> Sipp {
        let mut cmd = Command::new("sipp");
        cmd.arg("-sf")
            .arg(scenario(scenario_name))
            .arg(target.to_string())
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1", "-nostdin"])
            .args(["-timeout", "20s", "-timeout_error", "-max_recv_loops", "1000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Sipp { cmd, port, contact_port: None }
    }

    /// Registers `port` (another SIPp's) as the contact instead of this one's.
    pub fn contact_port(mut self, port: u16) -> Sipp {
        self.contact_port = Some(port);
        self
    }

    fn finish(&mut self) {
        let port = self.contact_port.unwrap_or(self.port).to_string();
        self.cmd.args(["-key", "contact_port", &port]);
    }

    /// Adds arguments.
    pub fn args(mut self, args: &[&str]) -> Sipp {
        self.cmd.args(args);
        self
    }

    /// Runs to the end.
    pub fn run(mut self) -> Output {
        self.finish();
        self.cmd.output().unwrap()
    }

    /// Starts in the background (a UAS); `wait` collects it.
    pub fn spawn(mut self) -> Child {
        self.finish();
        self.cmd.spawn().unwrap()
    }
}

/// Asserts SIPp succeeded, showing its output when not.
pub fn assert_passed(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: sipp exited {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
