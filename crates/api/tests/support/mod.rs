//! A real server on a free port, over SQLite or a fresh PostgreSQL
//! database, with a clock the test moves, and a real HTTP client.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::enum_variant_names)]

use std::collections::BTreeSet;
use std::sync::Arc;

use api::{AppState, ManualClock, Settings};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use sqlx::Connection;

pub const EMAIL: &str = "owner@example.com";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn pg_admin_url() -> String {
    std::env::var("CALLIOPE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct Server {
    pub url: String,
    pub clock: ManualClock,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub workspace: String,
    http: reqwest::Client,
    pg_db: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts a server; `None` (a skip) only when PostgreSQL is missing
    /// outside CI. Under CI a missing PostgreSQL fails the test.
    pub async fn start(backend: Backend, mut settings: Settings) -> Option<Server> {
        let dir = tempfile::tempdir().unwrap();
        settings.data_dir = dir.path().to_owned();
        let mut pg_db = None;
        let url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let admin = pg_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) if std::env::var("CI").is_err() => {
                        eprintln!("skipping: PostgreSQL not reachable at {admin}: {e}");
                        return None;
                    }
                    Err(e) => panic!("PostgreSQL is required under CI: {e}"),
                };
                let name = format!("calliope_test_{}", uuid_simple());
                // Parallel CREATE DATABASEs can collide on template1: retry.
                for attempt in 0.. {
                    match sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await {
                        Ok(_) => break,
                        Err(e) if attempt >= 20 => panic!("cannot create {name}: {e}"),
                        Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                    }
                }
                pg_db = Some(name.clone());
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                Some(format!("{base}/{name}"))
            }
        };
        let db = store::Db::open(url.as_deref(), dir.path()).await.unwrap();
        let clock = ManualClock::default();
        let state = AppState::new(db, settings, Arc::new(clock.clone())).await.unwrap();
        let made = api::service::identity::bootstrap(&state, EMAIL, Some(PASSWORD)).await.unwrap().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = api::router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Some(Server {
            url: format!("http://{addr}"),
            clock,
            state,
            dir,
            workspace: made.access_key_id,
            http: reqwest::Client::new(),
            pg_db,
            task,
        })
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{}", self.url, path))
    }

    /// Sends and returns status and JSON body (Null when not JSON).
    pub async fn send(&self, rb: RequestBuilder) -> (u16, Value) {
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value, auth: &Auth) -> (u16, Value) {
        self.send(auth.apply(self.req(Method::POST, path)).json(&body)).await
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> (u16, Value) {
        self.send(auth.apply(self.req(Method::GET, path))).await
    }

    pub async fn delete(&self, path: &str, auth: &Auth) -> (u16, Value) {
        self.send(auth.apply(self.req(Method::DELETE, path))).await
    }

    pub async fn put(&self, path: &str, body: Value, auth: &Auth) -> (u16, Value) {
        self.send(auth.apply(self.req(Method::PUT, path)).json(&body)).await
    }

    /// DELETE with a JSON body (the PBX deletes lists of ids so).
    pub async fn delete_with(&self, path: &str, body: Value, auth: &Auth) -> (u16, Value) {
        self.send(auth.apply(self.req(Method::DELETE, path)).json(&body)).await
    }

    /// A PBX token of the owner (`X-XTRA-AUTH-ID`).
    pub async fn pbx(&self) -> Auth {
        let (status, body) = self
            .post("/api/sessions", serde_json::json!({"login": EMAIL, "password": PASSWORD}), &Auth::None)
            .await;
        assert_eq!(status, 200, "{body}");
        Auth::Xtra(body["data"]["token"].as_str().unwrap().to_owned())
    }

    /// A Fonoster access token of the owner, in the default workspace.
    pub async fn fonoster(&self) -> Auth {
        let owner = self.owner().await;
        owner.in_workspace(&self.workspace)
    }

    /// A Fonoster access token of the owner.
    pub async fn owner(&self) -> Auth {
        let (status, body) = self
            .post(
                "/v1beta2/auth/login",
                serde_json::json!({"username": EMAIL, "password": PASSWORD}),
                &Auth::None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        Auth::Bearer(body["accessToken"].as_str().unwrap().to_owned())
    }

    /// A new API key of the default workspace with `role`: (id, secret, ref).
    pub async fn api_key(&self, by: &Auth, role: &str) -> (String, String, String) {
        let (status, body) = self.post("/v1beta2/apikeys", serde_json::json!({"role": role}), by).await;
        assert_eq!(status, 201, "{body}");
        let s = |k: &str| body[k].as_str().unwrap().to_owned();
        (s("accessKeyId"), s("accessKeySecret"), s("ref"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(name) = self.pg_db.take() {
            let admin = pg_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

fn uuid_simple() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

/// Credentials as a test sends them.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// `Authorization: Bearer`.
    Bearer(String),
    /// `X-Auth-Token` (VoIPstudio).
    XAuth(String),
    /// `X-XTRA-AUTH-ID` (PBX).
    Xtra(String),
    /// `Authorization: Basic` with an API key (Vonage).
    Basic(String, String),
    /// Any of the above plus `AccessKeyId`.
    InWorkspace(Box<Auth>, String),
}

impl Auth {
    pub fn apply(&self, rb: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => rb,
            Auth::Bearer(t) => rb.bearer_auth(t),
            Auth::XAuth(t) => rb.header("X-Auth-Token", t),
            Auth::Xtra(t) => rb.header("X-XTRA-AUTH-ID", t),
            Auth::Basic(id, secret) => rb.basic_auth(id, Some(secret)),
            Auth::InWorkspace(inner, ws) => inner.apply(rb).header("AccessKeyId", ws),
        }
    }
    pub fn in_workspace(&self, ws: &str) -> Auth {
        Auth::InWorkspace(Box::new(self.clone()), ws.to_owned())
    }
}

/// Runs each named test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name($crate::support::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name($crate::support::Backend::Postgres).await } )*
        }
    };
}

/// The keys of a JSON object.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A set of names.
pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Asserts a PBX success answer: HTTP 200 and `{code, message, data}`.
pub fn assert_success(st: u16, body: &Value, data: Value) {
    assert_eq!(st, 200, "{body}");
    assert_eq!(body, &json!({"code": 200, "message": "success", "data": data}));
}
