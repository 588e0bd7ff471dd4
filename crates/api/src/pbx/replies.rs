//! Response schemas shared by the PBX operations that are not generic
//! CRUD, built on the dialect's `{code, message, data}` envelope.

use serde_json::{json, Value as Json};

use crate::dialect::Dialect;
use crate::openapi::schema::{page, pbx_ok};

fn object() -> Json {
    json!({"type": "object"})
}

fn rows_of(item: Json) -> Json {
    json!({"type": "array", "items": item})
}

/// `{code, message, data: <new integer id>}`.
pub fn ok_id() -> Json {
    pbx_ok(json!({"type": "integer"}))
}

/// `{code, message, data: true}`.
pub fn ok_true() -> Json {
    pbx_ok(json!({"const": true}))
}

/// `{code, message, data: [rows]}`.
pub fn ok_rows() -> Json {
    pbx_ok(rows_of(object()))
}

/// `{code, message, data: {..}}`.
pub fn ok_object() -> Json {
    pbx_ok(object())
}

/// `{code, message, data: "<text>"}` (a call's UUID).
pub fn ok_text() -> Json {
    pbx_ok(json!({"type": "string"}))
}

/// A bare array of rows.
pub fn rows() -> Json {
    rows_of(object())
}

/// A bare array of `{id}` of rows just made.
pub fn ids() -> Json {
    rows_of(json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}))
}

/// `{id: "<id>"}` of a row changed or removed.
pub fn id_text() -> Json {
    json!({"type": "object", "required": ["id"],
        "properties": {"id": {"type": "string", "pattern": "^[0-9]+$"}}})
}

/// One page of rows in `{page, pageCount, rowCount, data}`.
pub fn rows_page() -> Json {
    page(Dialect::Pbx, object())
}

/// The login's `{code, message, data: {token}}`.
pub fn login() -> Json {
    pbx_ok(json!({"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}))
}

/// A batch update's `{code, message: "update rows <n>", data: []}`.
pub fn batch() -> Json {
    pbx_ok(json!({"type": "array", "maxItems": 0}))
}

/// An upload's `{media_id, media_path, media_type}`.
pub fn upload() -> Json {
    pbx_ok(json!({
        "type": "object",
        "required": ["media_id", "media_path", "media_type"],
        "properties": {
            "media_id": {"type": "integer"},
            "media_path": {"type": "string"},
            "media_type": {"const": "UPLOAD"},
        },
    }))
}

/// A translation table's numbers with the table.
pub fn translation_numbers() -> Json {
    json!({
        "type": "object",
        "required": ["nts_numbers", "number_translation_info"],
        "properties": {"nts_numbers": {}, "number_translation_info": rows_of(object())},
    })
}

/// `{code, message, data: <page>}` (the time templates' list).
pub fn ok_page() -> Json {
    pbx_ok(rows_page())
}

/// `{code, message, data: [..]}` of ids as the request wrote them.
pub fn ok_list() -> Json {
    pbx_ok(json!({"type": "array"}))
}

/// `{code, message, data}` whose data is one id or a list of them, as the
/// request had one row or several.
pub fn ok_one_or_list() -> Json {
    pbx_ok(json!({"anyOf": [{"type": "array"}, {"type": ["string", "integer"]}]}))
}

/// A call placed: `{result: "ok", uuid}`.
pub fn originated() -> Json {
    json!({"type": "object", "required": ["result", "uuid"],
        "properties": {"result": {"const": "ok"}, "uuid": {"type": "string"}}})
}

/// A live call's command done: `{msg: "ok", code: 200[, file]}`.
pub fn commanded() -> Json {
    json!({"type": "object", "required": ["msg", "code"],
        "properties": {"msg": {"const": "ok"}, "code": {"const": 200}, "file": {"type": "string"}}})
}
