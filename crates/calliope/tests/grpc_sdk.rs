//! The gRPC API as its users meet it: the official `@fonoster/sdk`
//! (pinned, installed by `scripts/install-test-deps` under
//! `~/.cache/calliope`) run unchanged by node against `calliope serve`
//! (with bad input as raw bytes over HTTP/2 through grpc-js), bad input as
//! raw gRPC-Web frames over HTTP/1.1, and server reflection.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use grpc::pb::applications::CreateApplicationRequest;
use prost::Message;
use serde_json::{json, Value};
use support::calliope::{Calliope, EMAIL, PASSWORD};

/// The version `scripts/install-test-deps` installs.
const SDK_VERSION: &str = "0.18.2";

/// The `node_modules` holding the SDK: `CALLIOPE_FONOSTER_SDK`, or the
/// directory `scripts/install-test-deps` fills.
fn sdk_modules() -> Option<PathBuf> {
    let dir = match std::env::var_os("CALLIOPE_FONOSTER_SDK") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(format!(".cache/calliope/fonoster-sdk-{SDK_VERSION}/node_modules")),
    };
    dir.join("@fonoster/sdk").exists().then_some(dir)
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/grpc/sdk_run.js")
}

/// The default workspace's AccessKeyId.
fn access_key_id(calliope: &Calliope) -> String {
    let (status, workspaces) = calliope.call("GET", "/v1beta2/workspaces", Value::Null);
    assert_eq!(status, 200, "{workspaces}");
    workspaces["items"][0]["accessKeyId"].as_str().unwrap().to_owned()
}

/// A REST request with the owner's token in the default workspace.
fn rest(calliope: &Calliope, method: &str, path: &str, body: Value) -> (u16, Value) {
    let akid = access_key_id(calliope);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rb = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{}", calliope.http, path))
            .bearer_auth(calliope.token())
            .header("AccessKeyId", akid);
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let resp = rb.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// Runs the SDK script; its JSON report.
fn run_sdk(modules: &PathBuf, calliope: &Calliope, rest_app: &str) -> Value {
    let mut child = Command::new("node")
        .arg(script())
        .env("NODE_PATH", modules)
        .env("ENDPOINT", calliope.grpc.to_string())
        .env("EMAIL", EMAIL)
        .env("PASSWORD", PASSWORD)
        .env("ACCESS_KEY_ID", access_key_id(calliope))
        .env("REST_APP_REF", rest_app)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the SDK script ran past 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no report ({e}); stdout:\n{stdout}\nstderr:\n{stderr}"));
    assert!(status.success(), "the SDK script failed: {report:#}\nstderr:\n{stderr}");
    report
}

// gRPC status codes.
const OK: i64 = 0;
const INVALID_ARGUMENT: i64 = 3;
const NOT_FOUND: i64 = 5;
const ALREADY_EXISTS: i64 = 6;
const PERMISSION_DENIED: i64 = 7;
const RESOURCE_EXHAUSTED: i64 = 8;
const UNIMPLEMENTED: i64 = 12;
const UNAUTHENTICATED: i64 = 16;

#[test]
fn official_sdk_logs_in_and_manages_every_resource_over_grpc() {
    let Some(modules) = sdk_modules() else {
        assert!(std::env::var_os("CI").is_none(), "@fonoster/sdk is missing: run scripts/install-test-deps");
        eprintln!("skipped: @fonoster/sdk is not installed (scripts/install-test-deps installs it)");
        return;
    };
    let calliope = Calliope::start(&["--rate-limit", "100000"]);
    let (status, made) = rest(
        &calliope,
        "POST",
        "/v1beta2/applications",
        json!({"name": "made over REST", "type": "EXTERNAL", "endpoint": "https://example.com/rest"}),
    );
    assert_eq!(status, 201, "{made}");
    let r = run_sdk(&modules, &calliope, made["ref"].as_str().unwrap());

    // Logins: credentials, API key (and its regeneration), refresh token.
    assert_eq!(r["loginAccessToken"], true);
    assert_eq!(r["wrongPassword"], UNAUTHENTICATED, "{r:#}");
    assert_eq!(r["apiKeyApps"], 1, "{r:#}");
    assert!(r["apiKeyList"].as_array().unwrap().contains(&r["apiKeyId"]), "{r:#}");
    assert_eq!(r["regeneratedSameId"], true);
    assert_eq!(r["oldSecretRefused"], UNAUTHENTICATED, "{r:#}");
    assert_eq!(r["apiKeyDeleted"], true);
    assert_eq!(r["refreshApps"], 1, "{r:#}");
    assert_eq!(r["forgedToken"], UNAUTHENTICATED, "{r:#}");
    assert_eq!(r["foreignToken"], PERMISSION_DENIED, "{r:#}");

    // Workspaces and members.
    assert_eq!(r["workspaceName"], "default");
    assert_eq!(r["otherWorkspace"], "grpc-renamed");
    assert_eq!(r["members"], json!(["WORKSPACE_OWNER"]));
    assert_eq!(r["otherGone"], NOT_FOUND, "{r:#}");
    assert_eq!(r["user"]["email"], "ops@example.com", "{r:#}");
    assert_eq!(r["user"]["name"], "Ops", "{r:#}");
    // REST lets users change only themselves; so does gRPC.
    assert_eq!(r["updateOtherUser"], PERMISSION_DENIED, "{r:#}");
    assert_eq!(r["membersWithUser"], 2, "{r:#}");
    assert_eq!(r["removed"], true);
    assert_eq!(r["membersAfterRemove"], 1, "{r:#}");
    assert_eq!(r["invitedSameUser"], true, "{r:#}");
    assert_eq!(r["membersAfterInvite"], 2, "{r:#}");
    assert_eq!(r["inviteUnknown"], INVALID_ARGUMENT, "{r:#}");

    // Applications, both ways between gRPC and REST.
    let app = &r["app"];
    assert_eq!(app["name"], "grpc app renamed", "{r:#}");
    assert_eq!(app["type"], "EXTERNAL");
    assert_eq!(app["endpoint"], "https://example.com/voice");
    assert_eq!(app["tts"]["productRef"], "tts.google", "{r:#}");
    assert_eq!(app["tts"]["config"]["voice"], "en-US-Casual-K", "{r:#}");
    // The SDK turns the seconds it gets into a Date.
    let created = app["createdAt"].as_str().unwrap();
    assert!(created.starts_with("20") && !created.starts_with("1970"), "{r:#}");
    assert_eq!(r["appListed"], true);
    assert_eq!(r["restApp"], "made over REST");
    assert_eq!(r["badApp"], INVALID_ARGUMENT, "{r:#}");
    assert_eq!(r["otherWorkspaceGet"], NOT_FOUND, "{r:#}");
    let (status, over_rest) = rest(
        &calliope,
        "GET",
        &format!("/v1beta2/applications/{}", app["ref"].as_str().unwrap()),
        Value::Null,
    );
    assert_eq!(status, 200, "{over_rest}");
    assert_eq!(over_rest["name"], "grpc app renamed");
    assert_eq!(over_rest["textToSpeech"]["config"]["voice"], "en-US-Casual-K");

    // The other resources.
    assert_eq!(r["acl"]["name"], "office-2", "{r:#}");
    assert_eq!(r["acl"]["allow"], json!(["198.51.100.7"]), "{r:#}");
    assert_eq!(r["cred"]["name"], "phone-2");
    assert_eq!(r["cred"]["username"], "grpcuser");
    assert!(r["cred"].get("password").is_none(), "{r:#}");
    assert_eq!(r["number"]["name"], "main line 2", "{r:#}");
    assert_eq!(r["number"]["telUrl"], "tel:+17853178070");
    assert_eq!(r["number"]["countryIsoCode"], "US");
    assert_eq!(r["number"]["appRef"], app["ref"], "{r:#}");
    assert_eq!(r["domain"]["name"], "grpc domain 2", "{r:#}");
    assert_eq!(r["domain"]["domainUri"], "grpc.sip.example.com");
    assert_eq!(r["agent"]["name"], "Jane Doe", "{r:#}");
    // The SDK's own name for PRIVATE.
    assert_eq!(r["agent"]["privacy"], "ID");
    assert_eq!(r["agent"]["enabled"], true);
    assert_eq!(
        (r["agent"]["maxContacts"].clone(), r["agent"]["expires"].clone()),
        (json!(3), json!(600)),
        "{r:#}"
    );
    assert_eq!(r["agent"]["domain"]["name"], "grpc domain 2", "{r:#}");
    assert_eq!(r["agent"]["domain"]["domainUri"], "grpc.sip.example.com", "{r:#}");
    assert_eq!(r["agent"]["credentials"]["name"], "phone-2", "{r:#}");
    assert_eq!(r["agent"]["credentials"]["username"], "grpcuser", "{r:#}");
    // A number routed to the agent by its address.
    assert_eq!(r["agentNumber"]["agentAor"], "sip:jane@grpc.sip.example.com", "{r:#}");
    assert_eq!(r["unknownAor"], INVALID_ARGUMENT, "{r:#}");
    assert_eq!(r["wrongHostAor"], INVALID_ARGUMENT, "{r:#}");
    assert_eq!(r["duplicateAgent"], ALREADY_EXISTS, "{r:#}");
    assert_eq!(r["credInUse"], ALREADY_EXISTS, "{r:#}");
    assert_eq!(r["trunk"]["name"], "provider 2", "{r:#}");
    assert_eq!(r["trunk"]["inboundUri"], "sip:provider.example.com");
    assert_eq!(r["trunk"]["sendRegister"], true, "{r:#}");
    assert_eq!(r["trunk"]["uris"][0]["host"], "sip.provider.example.com", "{r:#}");
    assert_eq!(r["trunk"]["inboundCredentialsRef"], r["cred"]["ref"], "{r:#}");
    assert_eq!(r["trunk"]["outboundCredentialsRef"], r["cred"]["ref"], "{r:#}");
    assert_eq!(r["trunk"]["accessControlListRef"], r["acl"]["ref"], "{r:#}");
    assert_eq!(r["secret"]["name"], "API_TOKEN", "{r:#}");
    let shown = r["secretList"].to_string();
    assert!(!shown.contains("hunter2") && !shown.contains("a new value"), "{shown}");
    assert_eq!(r["secretList"][0]["name"], "API_TOKEN", "{r:#}");
    for listed in ["aclListed", "credListed", "numberListed", "domainListed", "agentListed", "trunkListed"] {
        assert_eq!(r[listed], 1, "{listed}: {r:#}");
    }

    // Bad input over HTTP/2: the right status, nothing changed.
    assert_eq!(r["h2Malformed"], INVALID_ARGUMENT, "{r:#}");
    assert_eq!(r["h2Unknown"], UNIMPLEMENTED, "{r:#}");
    assert_eq!(r["h2Oversized"], RESOURCE_EXHAUSTED, "{r:#}");
    assert_eq!(r["h2NoToken"], UNAUTHENTICATED, "{r:#}");
    assert_eq!(r["h2Unchanged"], true, "{r:#}");

    // Calls: records; placing a call goes through call control.
    assert_eq!(r["calls"], 0);
    // CreateCall now places calls (tests/fonoster_calls.rs); this number
    // is routed nowhere in the SDK's workspace: INVALID_ARGUMENT.
    assert_eq!(r["createCall"], INVALID_ARGUMENT, "{r:#}");
    assert_eq!(r["missingCall"], NOT_FOUND, "{r:#}");

    // Every deletion answered its ref, and the record is gone.
    assert_eq!(r["deleted"], json!(vec![json!([true, NOT_FOUND]); 8]), "{r:#}");
    let (_, acls) = rest(&calliope, "GET", "/v1beta2/acls", Value::Null);
    assert_eq!(acls["items"], json!([]), "{acls}");
}

/// A gRPC-Web call: the HTTP status, the gRPC status and message, and
/// the first message frame of the answer.
struct WebAnswer {
    http: u16,
    code: i64,
    message: String,
    details: bool,
    body: Vec<u8>,
}

fn frame(flag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn grpc_web(calliope: &Calliope, path: &str, meta: &[(&str, &str)], body: Vec<u8>) -> WebAnswer {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rb = reqwest::Client::new()
            .post(format!("http://{}{}", calliope.grpc, path))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(body);
        for (k, v) in meta {
            rb = rb.header(*k, *v);
        }
        let resp = rb.send().await.unwrap();
        let http = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap().to_vec();
        let header = |k: &str| headers.get(k).map(|v| v.to_str().unwrap().to_owned());
        let mut code = header("grpc-status").map(|c| c.parse().unwrap());
        let mut message = header("grpc-message").unwrap_or_default();
        let mut details = header("grpc-status-details-bin").is_some();
        let mut first = Vec::new();
        let mut rest = &bytes[..];
        while rest.len() >= 5 {
            let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            let payload = &rest[5..5 + len];
            if rest[0] & 0x80 != 0 {
                for line in String::from_utf8_lossy(payload).split("\r\n") {
                    match line.split_once(':') {
                        Some(("grpc-status", v)) => code = Some(v.trim().parse().unwrap()),
                        Some(("grpc-message", v)) => message = v.trim().to_owned(),
                        Some(("grpc-status-details-bin", _)) => details = true,
                        _ => {}
                    }
                }
            } else if first.is_empty() {
                first = payload.to_vec();
            }
            rest = &rest[5 + len..];
        }
        WebAnswer { http, code: code.expect("no grpc-status"), message, details, body: first }
    })
}

const CREATE_APP: &str = "/fonoster.applications.v1beta2.Applications/CreateApplication";
const LIST_APPS: &str = "/fonoster.applications.v1beta2.Applications/ListApplications";

fn app_count(calliope: &Calliope) -> usize {
    let (status, apps) = rest(calliope, "GET", "/v1beta2/applications", Value::Null);
    assert_eq!(status, 200, "{apps}");
    apps["items"].as_array().unwrap().len()
}

#[test]
fn bad_grpc_input_gets_the_right_status_and_changes_nothing() {
    let calliope = Calliope::start(&["--rate-limit", "100000", "--body-limit", "65536"]);
    let akid = access_key_id(&calliope);
    let auth = [("token", calliope.token()), ("accesskeyid", akid.as_str())];
    let good = CreateApplicationRequest {
        name: "over grpc-web".into(),
        endpoint: "https://example.com/web".into(),
        ..Default::default()
    };

    // A well-formed call over gRPC-Web works, and REST sees its record.
    let ok = grpc_web(&calliope, CREATE_APP, &auth, frame(0, &good.encode_to_vec()));
    assert_eq!((ok.http, ok.code), (200, OK), "{}", ok.message);
    let made = grpc::pb::applications::CreateApplicationResponse::decode(&ok.body[..]).unwrap();
    let (status, shown) =
        rest(&calliope, "GET", &format!("/v1beta2/applications/{}", made.r#ref), Value::Null);
    assert_eq!((status, shown["name"].as_str()), (200, Some("over grpc-web")), "{shown}");
    let before = app_count(&calliope);

    // Malformed protobuf: a length that runs past the end.
    let bad = grpc_web(&calliope, CREATE_APP, &auth, frame(0, &[0x0a, 0xff, 0x01, b'x']));
    assert_eq!(bad.code, INVALID_ARGUMENT, "{}", bad.message);

    // Unknown method and unknown service.
    let none = grpc_web(&calliope, "/fonoster.applications.v1beta2.Applications/Nope", &auth, frame(0, &[]));
    assert_eq!(none.code, UNIMPLEMENTED, "{}", none.message);
    let none = grpc_web(&calliope, "/fonoster.nothing.v1.Nothing/Get", &auth, frame(0, &[]));
    assert_eq!(none.code, UNIMPLEMENTED, "{}", none.message);

    // Missing and forged tokens; a workspace the caller is not in.
    let missing = grpc_web(&calliope, CREATE_APP, &[("accesskeyid", &akid)], frame(0, &good.encode_to_vec()));
    assert_eq!(missing.code, UNAUTHENTICATED, "{}", missing.message);
    let forged_token = format!("{}x", calliope.token());
    let forged = grpc_web(
        &calliope,
        CREATE_APP,
        &[("token", &forged_token), ("accesskeyid", &akid)],
        frame(0, &good.encode_to_vec()),
    );
    assert_eq!(forged.code, UNAUTHENTICATED, "{}", forged.message);
    let (status, other) = rest(&calliope, "POST", "/v1beta2/workspaces", json!({"name": "elsewhere"}));
    assert_eq!(status, 201, "{other}");
    let (status, key) = {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let resp = reqwest::Client::new()
                .post(format!("{}/v1beta2/apikeys", calliope.http))
                .bearer_auth(calliope.token())
                .header("AccessKeyId", other["accessKeyId"].as_str().unwrap())
                .json(&json!({"role": "WORKSPACE_ADMIN"}))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        })
    };
    assert_eq!(status, 201, "{key}");
    let (status, tokens) = calliope.call(
        "POST",
        "/v1beta2/auth/apikey",
        json!({"accessKeyId": key["accessKeyId"], "accessKeySecret": key["accessKeySecret"]}),
    );
    assert_eq!(status, 200, "{tokens}");
    let foreign = tokens["accessToken"].as_str().unwrap();
    let elsewhere = grpc_web(
        &calliope,
        CREATE_APP,
        &[("token", foreign), ("accesskeyid", &akid)],
        frame(0, &good.encode_to_vec()),
    );
    assert_eq!(elsewhere.code, PERMISSION_DENIED, "{}", elsewhere.message);

    // An oversized message (the HTTP body limit, 64 KiB here).
    let huge = CreateApplicationRequest { name: "x".repeat(100_000), ..good.clone() };
    let big = grpc_web(&calliope, CREATE_APP, &auth, frame(0, &huge.encode_to_vec()));
    assert_eq!(big.code, RESOURCE_EXHAUSTED, "{}", big.message);

    // A field problem comes with its details.
    let wrong = CreateApplicationRequest { endpoint: "ftp://example.com".into(), ..good.clone() };
    let invalid = grpc_web(&calliope, CREATE_APP, &auth, frame(0, &wrong.encode_to_vec()));
    assert_eq!(invalid.code, INVALID_ARGUMENT, "{}", invalid.message);
    assert!(invalid.message.contains("endpoint"), "{}", invalid.message);
    assert!(invalid.details, "no google.rpc.BadRequest details");

    assert_eq!(app_count(&calliope), before, "a refused call changed something");

    // Lists still answer, and a browser's preflight is allowed.
    let list = grpc_web(&calliope, LIST_APPS, &auth, frame(0, &[]));
    assert_eq!(list.code, OK, "{}", list.message);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let preflight = rt.block_on(async {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("http://{}{}", calliope.grpc, LIST_APPS))
            .header("origin", "https://console.example.com")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-grpc-web,token,accesskeyid")
            .send()
            .await
            .unwrap()
    });
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}

#[test]
fn reflection_lists_every_fonoster_service() {
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

    let calliope = Calliope::start(&[]);
    let ask = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let answer = grpc_web(
        &calliope,
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        &[],
        frame(0, &ask.encode_to_vec()),
    );
    assert_eq!(answer.code, OK, "{}", answer.message);
    let reply = ServerReflectionResponse::decode(&answer.body[..]).unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("not a service list: {reply:?}");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    for want in [
        "fonoster.identity.v1beta2.Identity",
        "fonoster.applications.v1beta2.Applications",
        "fonoster.calls.v1beta2.Calls",
        "fonoster.numbers.v1beta2.Numbers",
        "fonoster.agents.v1beta2.Agents",
        "fonoster.domains.v1beta2.Domains",
        "fonoster.trunks.v1beta2.Trunks",
        "fonoster.credentials.v1beta2.CredentialsService",
        "fonoster.acls.v1beta2.Acls",
        "fonoster.secrets.v1beta2.Secrets",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
}
