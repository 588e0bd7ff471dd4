//! Live call legs: `GET /api/channels` in the seed's shape (with the
//! channel variables that `set` left), `DELETE /api/channels/{uuid}` to
//! hang one up (409 when the call is already ending), `PUT` to make a leg
//! deaf, mute it or record it, and `POST /api/channels` to place a call to
//! an agent or a SIP URI that runs apps once answered (`playback`,
//! `record_session`, `set`, then `transfer` to a number through the router,
//! `bridge` to a dial string or `conference` to join a room; parked when no
//! app hands it over).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use engine::calls::{AppProgram, CallCommand, CommandError, Destination, ListenMode, Originate};
use engine::program::{Conversation, Verb};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ErrorKind};
use crate::extract::{Json as JsonBody, Path};
use crate::routes::{Api, Body, Reply};
use crate::state::AppState;
use crate::view::plain_time;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .get("/api/channels", "List live call legs", list)
        .reply(Reply::Schema(crate::pbx::replies::rows))
        .post(
            "/api/channels",
            "Place a call to an agent or SIP URI and run apps once answered (JSON or form-encoded)",
            Body::Props(&[
                ("destNumber", "string"),
                ("cidNumber", "string"),
                ("cidName", "string"),
                ("autoAnswer", "string"),
                ("async", "string"),
                ("earlyMedia", "string"),
                ("userGateway", "string"),
                ("timeout", "integer"),
                ("app", "string"),
                ("args", "string"),
                ("apps", "array"),
            ]),
            originate,
        )
        .reply(Reply::Schema(crate::pbx::replies::originated))
        .put(
            "/api/channels/{uuid}",
            "Make a live leg deaf, mute it, or record the call",
            Body::Props(&[
                ("action", "string"),
                ("deaf", "string"),
                ("mute", "string"),
                ("record", "string"),
                ("file_name", "string"),
            ]),
            control,
        )
        .reply(Reply::Schema(crate::pbx::replies::commanded))
        .delete("/api/channels/{uuid}", "Hang up a call", hangup)
        .reply(Reply::Schema(crate::pbx::replies::ok_text))
}

/// The seed's `state` for a leg.
fn channel_state(c: &engine::calls::Channel) -> &'static str {
    match (c.callstate, c.direction) {
        ("ACTIVE", "inbound") => "CS_EXECUTE",
        ("ACTIVE", _) => "CS_EXCHANGE_MEDIA",
        ("HANGUP", _) => "CS_HANGUP",
        (_, "inbound") => "CS_ROUTING",
        _ => "CS_CONSUME_MEDIA",
    }
}

fn view(c: &engine::calls::Channel) -> Json {
    let presence_user = if c.direction == "inbound" { &c.cid_num } else { &c.callee_num };
    let presence_id =
        if c.ip_addr.is_empty() { String::new() } else { format!("{presence_user}@{}", c.ip_addr) };
    let variables: serde_json::Map<String, Json> =
        c.variables.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect();
    json!({
        "uuid": c.uuid,
        "direction": c.direction,
        "created": plain_time(c.created_ms),
        "created_epoch": (c.created_ms / 1000).to_string(),
        "name": c.name,
        "state": channel_state(c),
        "cid_name": c.cid_name,
        "cid_num": c.cid_num,
        "ip_addr": c.ip_addr,
        "dest": c.dest,
        "application": c.application,
        "application_data": c.application_data,
        "dialplan": "XML",
        "context": c.context,
        "read_codec": c.codec,
        "read_rate": "8000",
        "read_bit_rate": "64000",
        "write_codec": c.codec,
        "write_rate": "8000",
        "write_bit_rate": "64000",
        "secure": "",
        "hostname": "calliope",
        "presence_id": presence_id,
        "presence_data": "",
        "accountcode": if c.direction == "inbound" { c.cid_num.clone() } else { String::new() },
        "callstate": c.callstate,
        "callee_name": c.callee_num,
        "callee_num": c.callee_num,
        "callee_direction": "SEND",
        "call_uuid": c.call_uuid,
        "sent_callee_name": c.callee_num,
        "sent_callee_num": c.callee_num,
        "initial_cid_name": c.cid_name,
        "initial_cid_num": c.cid_num,
        "initial_ip_addr": c.ip_addr,
        "initial_dest": c.dest,
        "initial_dialplan": "XML",
        "initial_context": c.context,
        "variables": variables,
    })
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    Ok(axum::Json(Json::Array(state.calls.of(ws).iter().map(view).collect())))
}

/// Sends `command` to the leg or call `uuid` of workspace `ws`; when it
/// was not carried out, the API error: 404 for a channel the workspace
/// never had, 409 for one that has ended or whose phase forbids it.
async fn command(state: &AppState, ws: i64, uuid: &str, command: CallCommand) -> Result<(), ApiError> {
    match state.calls.command(ws, uuid, command).await {
        Ok(()) => Ok(()),
        Err(CommandError::NotFound) => {
            Err(crate::service::control::not_live(state, ws, uuid, "channel").await)
        }
        Err(CommandError::Gone | CommandError::NotInPhase(engine::calls::Phase::Ending)) => {
            Err(crate::service::control::ended())
        }
        Err(e @ CommandError::NotInPhase(_)) => Err(ApiError::new(ErrorKind::AlreadyExists, e.to_string())),
        Err(e @ CommandError::Busy) => Err(ApiError::exhausted(e.to_string(), Some(1))),
        Err(e @ CommandError::Unsupported) => Err(ApiError::new(ErrorKind::MethodNotAllowed, e.to_string())),
        Err(e @ CommandError::Media(_)) => Err(ApiError::invalid(e.to_string())),
    }
}

async fn hangup(
    State(state): State<AppState>,
    caller: Caller,
    Path(uuid): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    command(&state, ws, &uuid, CallCommand::Hangup).await?;
    Ok(axum::Json(json!({"code": 200, "message": "success", "data": uuid})))
}

/// One app of `POST /api/channels`: what the callee gets once it answers.
#[derive(Debug, Deserialize)]
struct AppCall {
    app: String,
    #[serde(default)]
    args: String,
}

/// What `POST /api/channels` takes, from JSON or from a form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewChannel {
    /// One app (`playback`, `record_session`...) and its argument.
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    args: Option<String>,
    /// Several apps, in order (JSON only).
    #[serde(default)]
    apps: Vec<AppCall>,
    /// The agent's extension, or a `sip:` URI at an IP address.
    dest_number: String,
    /// The caller number shown.
    #[serde(default)]
    cid_number: Option<String>,
    /// The caller name shown (the number stands in when absent).
    #[serde(default)]
    cid_name: Option<String>,
    /// Seconds it may ring.
    #[serde(default, deserialize_with = "loose::opt_u64")]
    timeout: Option<u64>,
    /// Whether the callee is asked to answer at once (accepted; see docs).
    #[serde(default, deserialize_with = "loose::opt_bool")]
    auto_answer: Option<bool>,
    /// Answer before the call is placed (it always is: the uuid comes back
    /// at once and the call rings in the background).
    #[serde(default, rename = "async", deserialize_with = "loose::opt_bool")]
    r#async: Option<bool>,
    /// Run the apps on early media (not supported: refused when true).
    #[serde(default, deserialize_with = "loose::opt_bool")]
    early_media: Option<bool>,
    /// A user gateway to call through (not supported: refused when given).
    #[serde(default)]
    user_gateway: Option<String>,
}

/// Reads a `POST /api/channels` body: JSON when it looks like JSON (or says
/// so), otherwise `application/x-www-form-urlencoded` as the seed's curl
/// examples send it.
fn new_channel(content_type: Option<&str>, bytes: &[u8]) -> Result<NewChannel, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let json_type = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    if json_type || first == Some(b'{') {
        return crate::extract::parse_json(bytes);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::invalid(format!("malformed form body: {e}")))?;
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        if k == "apps" {
            return Err(ApiError::field("apps", "several apps need the JSON form"));
        }
        map.insert(k, Json::String(v));
    }
    crate::extract::parse_json(&serde_json::to_vec(&Json::Object(map)).map_err(ApiError::internal)?)
}

/// Fields the PBX clients send as strings (`"true"`, `"30"`) or as JSON
/// values.
mod loose {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    pub(super) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" | "" => Ok(Some(false)),
                _ => Err(serde::de::Error::custom("must be true or false")),
            },
            Some(_) => Err(serde::de::Error::custom("must be true or false")),
        }
    }

    pub(super) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("must be a whole number of seconds")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom("must be a whole number of seconds")),
            Some(_) => Err(serde::de::Error::custom("must be a whole number of seconds")),
        }
    }
}

async fn originate(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let body = new_channel(content_type, &bytes)?;
    if body.early_media == Some(true) {
        return Err(ApiError::field(
            "earlyMedia",
            "apps run once the callee answers: early media is not supported",
        ));
    }
    if body.user_gateway.as_deref().is_some_and(|g| !g.trim().is_empty()) {
        return Err(ApiError::field("userGateway", "calls through a user gateway are not supported"));
    }
    let _ = (body.auto_answer, body.r#async);
    let dest = body.dest_number.trim();
    if dest.is_empty() {
        return Err(ApiError::field("destNumber", "is required"));
    }
    let uri = dest.starts_with("sip:");
    if !uri && (dest.len() > 64 || !dest.chars().all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c))) {
        return Err(ApiError::field(
            "destNumber",
            "must be an extension or number (letters, digits, + * # . _ -)",
        ));
    }
    let mut apps = body.apps;
    if let Some(app) = body.app {
        apps.insert(0, AppCall { app, args: body.args.unwrap_or_default() });
    }
    if apps.len() > MAX_APPS {
        return Err(ApiError::field("apps", format!("at most {MAX_APPS} apps")));
    }
    let mut then = Vec::new();
    let count = apps.len();
    let mut program = None;
    for (i, a) in apps.into_iter().enumerate() {
        if a.app == "conference" {
            if i + 1 != count {
                return Err(ApiError::field(
                    "apps",
                    "`conference` hands the call over: it must be the last app",
                ));
            }
            program = Some(conference_program(&a.args)?);
            continue;
        }
        let command = match a.app.as_str() {
            "playback" => CallCommand::Play { uri: playable(&state, ws, &a.args)? },
            "record_session" => CallCommand::Record { path: recording_path(&state, ws, &a.args)? },
            "start_dtmf" => CallCommand::DetectDtmf { on: true },
            "stop_dtmf" => CallCommand::DetectDtmf { on: false },
            "set" => set_variable(&a.args)?,
            "transfer" => CallCommand::Transfer { target: transfer_number(&a.args)? },
            "bridge" => CallCommand::Connect { to: dial_destination(&a.args)? },
            "park" => continue,
            "three_way" | "eavesdrop" | "intercept" => live_call_app(&state, ws, &a.app, &a.args)?,
            other => {
                return Err(ApiError::field("app", format!("`{other}` is not an app this server runs yet")))
            }
        };
        let hands_over = matches!(command, CallCommand::Transfer { .. } | CallCommand::Connect { .. });
        if hands_over && i + 1 != count {
            return Err(ApiError::field(
                "apps",
                format!("`{}` hands the call over: it must be the last app", a.app),
            ));
        }
        then.push(command);
    }
    // Without a SIP side (the API alone, in tests) no call can be placed.
    let sw =
        state.sip.get().cloned().ok_or_else(|| ApiError::exhausted("calls cannot be placed now", Some(5)))?;
    let order = Originate {
        workspace_id: ws,
        caller_id: body.cid_number.or(body.cid_name).unwrap_or_else(|| "calliope".into()),
        destination: if uri {
            Destination::Uri { uri: dest.to_owned(), account: None }
        } else {
            Destination::Agent { extension: dest.to_owned() }
        },
        ring_timeout: Duration::from_secs(body.timeout.unwrap_or(60).clamp(1, 600)),
        then,
        program,
    };
    match engine::calls::originate(&sw, order).await {
        Ok(handle) => Ok(axum::Json(json!({"result": "ok", "uuid": handle.uuid}))),
        Err(e) => Err(ApiError::placing(e, "destNumber", "agent")),
    }
}

/// `conference`'s program: the callee joins the room its argument names
/// (`room[@profile][+pin][+flags{...}]`, as FreeSWITCH's app) once
/// answered, and is hung up when it leaves the room.
fn conference_program(args: &str) -> Result<AppProgram, ApiError> {
    let c = Conversation::from_conference_args(args).map_err(|e| ApiError::field("args", e.to_string()))?;
    Ok(AppProgram {
        application: String::new(),
        script: Some(vec![Verb::Conversation(c)]),
        answer_url: None,
        event_url: None,
        vonage: false,
    })
}

/// Most apps one originate runs.
const MAX_APPS: usize = 32;

/// Whether `text` is a number or extension (`+`, digits, letters, `*#._-`).
fn is_number(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c))
}

/// `set`'s argument: `name=value`.
fn set_variable(args: &str) -> Result<CallCommand, ApiError> {
    let (name, value) =
        args.split_once('=').ok_or_else(|| ApiError::field("args", "`set` takes name=value"))?;
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(ApiError::field("args", "a variable's name is 1 to 64 letters, digits, _ . -"));
    }
    if value.len() > 512 || value.chars().any(char::is_control) {
        return Err(ApiError::field("args", "a variable's value is at most 512 printable characters"));
    }
    Ok(CallCommand::Set { name: name.to_owned(), value: value.to_owned() })
}

/// `transfer`'s argument: the number to route.
fn transfer_number(args: &str) -> Result<String, ApiError> {
    let number = args.trim();
    if !is_number(number) {
        return Err(ApiError::field(
            "args",
            "`transfer` takes a number to route (digits, letters, + * # . _ -)",
        ));
    }
    Ok(number.to_owned())
}

/// `bridge`'s dial string: `user/<extension>`, `sofia/gateway/<name>/<number>`
/// or a `sip:` URI at an IP address (a leading `{var=value,...}` block is
/// ignored).
fn dial_destination(args: &str) -> Result<Destination, ApiError> {
    let mut text = args.trim();
    if text.starts_with('{') {
        text = text.split_once('}').map_or("", |(_, rest)| rest.trim());
    }
    let bad = || {
        ApiError::field(
            "args",
            "`bridge` takes a dial string: user/<extension>, sofia/gateway/<gateway>/<number> or a sip: URI",
        )
    };
    if let Some(user) = text.strip_prefix("user/") {
        let extension = user.split('@').next().unwrap_or("");
        return if is_number(extension) {
            Ok(Destination::Agent { extension: extension.to_owned() })
        } else {
            Err(bad())
        };
    }
    if let Some(rest) = text.strip_prefix("sofia/gateway/") {
        let (name, number) = rest.split_once('/').ok_or_else(bad)?;
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        return if name_ok && is_number(number) {
            Ok(Destination::Gateway { name: name.to_owned(), number: number.to_owned() })
        } else {
            Err(bad())
        };
    }
    if text.starts_with("sip:") && text.len() <= 256 {
        return Ok(Destination::Uri { uri: text.to_owned(), account: None });
    }
    Err(bad())
}

/// The command of an app that acts on another live call of the workspace
/// (`args` names its uuid or one of its legs'): `three_way` joins it,
/// `eavesdrop` listens unheard, `intercept` answers it while it rings.
/// 404 when `args` names no such call of this workspace.
fn live_call_app(state: &AppState, ws: i64, app: &str, args: &str) -> Result<CallCommand, ApiError> {
    let target = args.trim().to_owned();
    let ringing = app == "intercept";
    let live = state.calls.of(ws).into_iter().any(|c| {
        (c.uuid == target || c.call_uuid == target)
            && if ringing { matches!(c.callstate, "RINGING" | "EARLY") } else { c.callstate == "ACTIVE" }
    });
    if target.is_empty() || !live {
        let what = if ringing { "no ringing call" } else { "no live call" };
        return Err(ApiError::new(ErrorKind::NotFound, format!("args names {what} of this workspace")));
    }
    Ok(match app {
        "three_way" => CallCommand::ListenTo { mode: ListenMode::Barge, target },
        "eavesdrop" => CallCommand::ListenTo { mode: ListenMode::Eavesdrop, target },
        _ => CallCommand::Intercept { target },
    })
}

/// The plain file name at the end of `name` (no directories).
pub(super) fn file_name(name: &str) -> &str {
    std::path::Path::new(name.trim()).file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// What `playback` may play: a `tone_stream://` or `silence_stream://`
/// spec, or a WAV of the caller's workspace (an uploaded media file or a
/// recording, named by its file name or its `media_path`); never any other
/// file on the server.
fn playable(state: &AppState, ws: i64, args: &str) -> Result<String, ApiError> {
    let args = args.trim();
    if args.starts_with("tone_stream://") || args.starts_with("silence_stream://") {
        return Ok(args.to_owned());
    }
    let name = file_name(args);
    ["media", "recordings"]
        .into_iter()
        .map(|kind| state.workspace_dir(kind, ws).join(name))
        .find(|path| !name.is_empty() && path.is_file())
        .map(|path| path.display().to_string())
        .ok_or_else(|| {
            ApiError::field(
                "args",
                "names no media of this workspace: upload it to /api/media, or give a tone_stream://",
            )
        })
}

/// Where a recording named `name` goes: a plain WAV file name, kept in
/// the workspace's `recordings/` folder of the data directory.
pub(super) fn recording_path(state: &AppState, ws: i64, name: &str) -> Result<String, ApiError> {
    let base = file_name(name);
    if base.is_empty() {
        return Err(ApiError::field("file_name", "is required"));
    }
    if !base.to_ascii_lowercase().ends_with(".wav") {
        return Err(ApiError::field("file_name", "video is not supported: audio is recorded as .wav"));
    }
    let dir = state.workspace_dir("recordings", ws);
    std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
    Ok(dir.join(base).display().to_string())
}

/// What `PUT /api/channels/{uuid}` takes.
#[derive(Debug, Deserialize)]
struct ChannelAction {
    action: String,
    #[serde(default)]
    deaf: Option<String>,
    #[serde(default)]
    mute: Option<String>,
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
}

fn on_off(field: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(ApiError::field(field, format!("{field} param should be on or off"))),
    }
}

async fn control(
    State(state): State<AppState>,
    caller: Caller,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<ChannelAction>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let (command, file) = match body.action.as_str() {
        "deaf" => (CallCommand::Deaf { on: on_off("deaf", body.deaf.as_deref())? }, None),
        "mute" => (CallCommand::Mute { on: on_off("mute", body.mute.as_deref())? }, None),
        "record" if on_off("record", body.record.as_deref())? => {
            let path = recording_path(&state, ws, body.file_name.as_deref().unwrap_or(""))?;
            (CallCommand::Record { path: path.clone() }, Some(path))
        }
        "record" => (CallCommand::StopRecord, None),
        "snapshot" => return Err(ApiError::field("action", "video is not supported: calls are audio only")),
        other => return Err(ApiError::field("action", format!("`{other}` is not deaf, mute or record"))),
    };
    self::command(&state, ws, &uuid, command).await?;
    Ok(axum::Json(match file {
        Some(f) => json!({"msg": "ok", "file": f, "code": 200}),
        None => json!({"msg": "ok", "code": 200}),
    }))
}
