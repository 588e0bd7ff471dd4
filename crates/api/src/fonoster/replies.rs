//! The response schemas of the Fonoster operations that are not generic
//! CRUD: token sets, workspaces with their owner, members, users, API keys
//! with their secret, and calls.

use serde_json::{json, Value as Json};
use store::schema::{API_KEYS, USERS, WORKSPACES};

use crate::dialect::Dialect;
use crate::openapi::schema::{page, record};

/// An object whose `names` are required strings.
fn strings(names: &[&str]) -> Json {
    let props: serde_json::Map<String, Json> =
        names.iter().map(|n| ((*n).to_owned(), json!({"type": "string"}))).collect();
    json!({"type": "object", "required": names, "properties": props})
}

/// `{idToken, accessToken, refreshToken}` of a login or refresh.
pub fn tokens() -> Json {
    strings(&["idToken", "accessToken", "refreshToken"])
}

/// `{ref}` of a deletion.
pub fn deleted() -> Json {
    strings(&["ref"])
}

/// `{userRef}` of a member's removal.
pub fn removed_member() -> Json {
    strings(&["userRef"])
}

/// A workspace with its owner's ref.
pub fn workspace() -> Json {
    let mut ws = record(Dialect::Fonoster, &WORKSPACES);
    ws["properties"]["ownerRef"] = json!({"type": "string"});
    ws
}

/// A page of workspaces.
pub fn workspaces() -> Json {
    page(Dialect::Fonoster, workspace())
}

/// A member of a workspace.
pub fn member() -> Json {
    json!({
        "type": "object",
        "required": ["role", "createdAt"],
        "properties": {
            "userRef": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "role": {"type": "string"},
            "createdAt": {"type": "string"},
        },
    })
}

/// A page of members.
pub fn members() -> Json {
    page(Dialect::Fonoster, member())
}

/// A user as the generic view shows it.
pub fn user() -> Json {
    record(Dialect::Fonoster, &USERS)
}

/// An API key with its secret, shown once.
pub fn key_with_secret() -> Json {
    let mut key = record(Dialect::Fonoster, &API_KEYS);
    key["properties"]["accessKeySecret"] = json!({"type": "string"});
    key["required"] = json!(["ref", "accessKeySecret"]);
    key
}

/// A call's record.
pub fn call() -> Json {
    let time = json!({"type": ["string", "null"]});
    let mut out = strings(&["ref", "from", "to", "status", "direction", "type"]);
    for name in ["startTime", "answerTime", "endTime", "recording", "recordingUrl", "callStatus"] {
        out["properties"][name] = time.clone();
    }
    for name in ["duration", "billsec"] {
        out["properties"][name] = json!({"type": "integer"});
    }
    out["properties"]["live"] = json!({"type": "boolean"});
    let text = json!({"type": ["string", "null"]});
    for name in [
        "callRef",
        "leg",
        "fromDialled",
        "toDialled",
        "hangupCause",
        "disposition",
        "context",
        "codec",
        "appRef",
    ] {
        out["properties"][name] = text.clone();
    }
    out["properties"]["routeId"] = json!({"type": ["integer", "null"]});
    // A finished call's legs, each shown as a call is ("ref" the leg's id).
    let leg = out.clone();
    out["properties"]["legs"] = json!({"type": "array", "items": leg});
    out
}

/// A call just placed: `{ref, status: "TRYING"}`.
pub fn placed() -> Json {
    strings(&["ref", "status"])
}

/// A call's track: server-sent events, each `data:` line a JSON
/// `{ref, status}` (described here as that object).
pub fn track() -> Json {
    strings(&["ref", "status"])
}

/// A page of calls.
pub fn calls() -> Json {
    page(Dialect::Fonoster, call())
}

/// An application's webhook signing secret.
pub fn webhook_secret() -> Json {
    strings(&["ref", "webhookSecret", "header"])
}

/// The test token of an application, for a browser phone.
pub fn test_token() -> Json {
    strings(&["domain", "displayName", "signalingServer", "targetAor", "username", "token"])
}
