//! The OpenAPI schemas of the Voice API's call answers.

use serde_json::{json, Value as Json};

/// The schema of a call object.
pub(super) fn call_schema() -> Json {
    let endpoint = json!({"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string"}, "number": {"type": "string"}, "uri": {"type": "string"}}});
    json!({
        "type": "object",
        "required": ["_links", "uuid", "conversation_uuid", "to", "from", "status", "direction"],
        "properties": {
            "_links": {"type": "object"},
            "uuid": {"type": "string"},
            "conversation_uuid": {"type": "string"},
            "to": endpoint,
            "from": endpoint,
            "status": {"type": "string"},
            "direction": {"type": "string"},
            "start_time": {"type": "string"},
            "end_time": {"type": "string"},
            "duration": {"type": "string"},
            "network": {"type": "string"},
        },
    })
}

/// The schema of a list of calls.
pub(super) fn list_schema() -> Json {
    json!({
        "type": "object",
        "required": ["count", "page_size", "record_index", "_links", "_embedded"],
        "properties": {
            "count": {"type": "integer"},
            "page_size": {"type": "integer"},
            "record_index": {"type": "integer"},
            "_links": {"type": "object"},
            "_embedded": {"type": "object", "required": ["calls"],
                "properties": {"calls": {"type": "array", "items": call_schema()}}},
        },
    })
}

/// The schema of a placed call.
pub(super) fn created_schema() -> Json {
    json!({
        "type": "object",
        "required": ["uuid", "status", "direction", "conversation_uuid"],
        "properties": {
            "uuid": {"type": "string"},
            "status": {"type": "string"},
            "direction": {"type": "string"},
            "conversation_uuid": {"type": "string"},
        },
    })
}

/// The schema of sent DTMF, and of a talk or stream started or stopped.
pub(super) fn dtmf_schema() -> Json {
    json!({
        "type": "object",
        "required": ["message", "uuid"],
        "properties": {"message": {"type": "string"}, "uuid": {"type": "string"}},
    })
}
