//! The OpenAPI 3.1 document of the registered operations: security schemes
//! instead of header parameters, typed path and paging parameters, request
//! schemas with the constraints the input enforces, and response schemas
//! in each dialect's envelope, all from the resource descriptions.

pub mod schema;

use serde_json::{json, Map, Value as Json};

use crate::dialect::Dialect;
use crate::routes::{Body, Filters, Operation, Reply};

/// The OpenAPI 3.1 document of `operations`.
pub fn document(operations: &[Operation]) -> Json {
    let mut paths = Map::new();
    for op in operations {
        let entry = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
        entry[op.method] = operation(op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Calliope",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Four dialects on one store: Fonoster v1beta2 (/v1beta2), the IP-PBX API \
                (/api), Vonage Applications v2 (/v2) and VoIPstudio v1.2 (/v1.2/voipstudio). Every \
                token is accepted by every dialect, in any of the security schemes' headers.",
        },
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An access token from a login, or any other token of this server."},
            "accessKeyId": {"type": "apiKey", "in": "header", "name": "AccessKeyId",
                "description": "The workspace to act in (WO followed by 32 hex digits)."},
            "basicKey": {"type": "http", "scheme": "basic",
                "description": "An API key: its access key id and secret."},
            "pbxToken": {"type": "apiKey", "in": "header", "name": "X-XTRA-AUTH-ID"},
            "voipToken": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
        }},
    })
}

fn operation(op: &Operation) -> Json {
    let dialect = Dialect::for_path(&op.path);
    let mut params = path_params(dialect, &op.path);
    if let Reply::Page(_) = op.reply {
        params.extend(paging_params(dialect));
    }
    if let Some(filters) = op.filters {
        params.extend(filter_params(filters));
    }
    let mut item = json!({
        "summary": op.summary,
        "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}', '.'], "_")),
        "parameters": params,
        "responses": responses(dialect, op.reply),
        "security": if op.public { json!([]) } else { security(dialect) },
    });
    if let Some(body) = body(op.body) {
        item["requestBody"] = body;
    }
    item
}

/// The ways a request of `dialect` may carry credentials: its own header
/// first, then a bearer token (which every dialect takes).
fn security(dialect: Dialect) -> Json {
    match dialect {
        Dialect::Fonoster => json!([{"bearer": [], "accessKeyId": []}, {"bearer": []}]),
        Dialect::Pbx => json!([{"pbxToken": []}, {"bearer": []}]),
        Dialect::Vonage => json!([{"basicKey": []}, {"bearer": []}]),
        Dialect::VoipStudio => json!([{"voipToken": []}, {"bearer": []}]),
    }
}

/// The schema of a path parameter: refs, call UUIDs and names (of
/// conference rooms, of recordings) are text, and so is
/// every Vonage id; the PBX and VoIPstudio ids are positive integers.
fn path_param(dialect: Dialect, name: &str) -> Json {
    match (dialect, name) {
        (Dialect::Fonoster | Dialect::Vonage, _) | (_, "ref" | "uuid" | "name") => {
            json!({"type": "string", "minLength": 1})
        }
        _ => json!({"type": "integer", "minimum": 1}),
    }
}

fn path_params(dialect: Dialect, path: &str) -> Vec<Json> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(
            |name| json!({"name": name, "in": "path", "required": true, "schema": path_param(dialect, name)}),
        )
        .collect()
}

/// The paging parameters a list of `dialect` takes (see [`crate::list`]).
fn paging_params(dialect: Dialect) -> Vec<Json> {
    let query = |name: &str, schema: Json| json!({"name": name, "in": "query", "schema": schema});
    let count = |max: u64| json!({"type": "integer", "minimum": 1, "maximum": max});
    match dialect {
        Dialect::Fonoster => {
            vec![query("pageSize", count(1000)), query("pageToken", json!({"type": "string"}))]
        }
        Dialect::Pbx => vec![
            query("page", count(1_000_000)),
            query("perPage", count(5000)),
            query("sortField", json!({"type": "string"})),
            query("sortOrder", json!({"type": "string", "enum": ["asc", "desc"]})),
            query("searchField", json!({"type": "string"})),
            query("searchKey", json!({"type": "string"})),
        ],
        Dialect::Vonage => vec![query("page_size", count(100)), query("page", count(1_000_000))],
        Dialect::VoipStudio => vec![
            query("page", count(1_000_000)),
            query("limit", count(crate::list::VOIP_MAX_LIMIT)),
            query(
                "filter",
                json!({"type": "string", "description": "a JSON array of {property, operator, value}"}),
            ),
            query("group_by", json!({"type": "string"})),
            query("sort", json!({"type": "string"})),
            query("dir", json!({"type": "string", "enum": ["asc", "desc"]})),
        ],
    }
}

/// The query filters of a list: its extra parameters, then every field of
/// its resource that none of them stands in for.
fn filter_params(filters: Filters) -> Vec<Json> {
    let extra = filters.extra.iter().map(|p| {
        json!({"name": p.name, "in": "query", "description": p.description, "schema": schema::query_kind(p.kind)})
    });
    let fields =
        filters.fields.fields.iter().filter(|f| !filters.extra.iter().any(|p| p.name == f.name)).map(|f| {
            json!({"name": f.name, "in": "query", "description": format!("records whose {} is this", f.name),
            "schema": schema::query_kind(f.kind)})
        });
    extra.chain(fields).collect()
}

fn body(body: Body) -> Option<Json> {
    let (media, schema) = match body {
        Body::None => return None,
        Body::Fields(res, names, casing) => {
            ("application/json", schema::input_object(res, names, casing, &[], false))
        }
        Body::Spec(res, names, casing, rules, create) => {
            ("application/json", schema::input_object(res, names, casing, &rules.documented(create), create))
        }
        Body::Array(res, names, casing) => (
            "application/json",
            json!({"type": "array", "items": schema::input_object(res, names, casing, &[], true)}),
        ),
        Body::Props(props) => {
            let props: Map<String, Json> =
                props.iter().map(|(n, t)| ((*n).to_owned(), json!({ "type": t }))).collect();
            ("application/json", json!({"type": "object", "properties": props}))
        }
        Body::Upload => (
            "multipart/form-data",
            json!({"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}),
        ),
        Body::Any => ("application/json", json!({})),
    };
    Some(json!({"required": true, "content": {media: {"schema": schema}}}))
}

fn json_response(description: &str, schema: Json) -> Json {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// The success answer of `reply` and the errors, in `dialect`'s shapes.
fn responses(dialect: Dialect, reply: Reply) -> Json {
    let (status, schema) = match (reply, dialect) {
        (Reply::Unknown, _) => ("2XX", json!({})),
        (Reply::Record(res), _) => ("200", schema::one(dialect, schema::record(dialect, res))),
        (Reply::Created(res), Dialect::Fonoster) => ("201", schema::record(dialect, res)),
        (Reply::Created(_), Dialect::Pbx) => ("200", schema::pbx_ok(json!({"type": "integer"}))),
        (Reply::Created(res), _) => ("201", schema::one(dialect, schema::record(dialect, res))),
        (Reply::Page(res), _) => ("200", schema::page(dialect, schema::record(dialect, res))),
        (Reply::Changed, Dialect::Pbx) => {
            ("200", schema::pbx_ok(json!({"type": "string", "pattern": "^[0-9]+$"})))
        }
        (Reply::Changed, _) => ("200", json!({"type": "object"})),
        (Reply::Schema(f), _) => ("200", f()),
        (Reply::Status(status, f), _) => (status, f()),
        (Reply::NoContent, _) => ("204", Json::Null),
        (Reply::File(_), _) => ("200", Json::Null),
    };
    let error = schema::error(dialect);
    let success = if let Reply::File(media) = reply {
        json!({"description": "the file's bytes",
            "content": {media: {"schema": {"type": "string", "format": "binary"}}}})
    } else if schema.is_null() {
        json!({"description": "success, with no body"})
    } else {
        json_response("success", schema)
    };
    json!({
        status: success,
        "4XX": json_response("the request was refused, in the dialect's error shape", error.clone()),
        "5XX": json_response("the server failed, in the dialect's error shape", error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_the_pbx_are_integers_and_refs_are_text() {
        assert_eq!(path_param(Dialect::Pbx, "id")["type"], "integer");
        assert_eq!(path_param(Dialect::Pbx, "uuid")["type"], "string");
        assert_eq!(path_param(Dialect::Fonoster, "ref")["type"], "string");
        assert_eq!(path_param(Dialect::VoipStudio, "id")["type"], "integer");
        assert_eq!(path_param(Dialect::Vonage, "id")["type"], "string");
    }

    #[test]
    fn public_operations_need_no_credentials() {
        let op = Operation {
            method: "post",
            path: "/v1beta2/auth/login".into(),
            summary: "log in".into(),
            body: Body::None,
            reply: Reply::Unknown,
            public: true,
            filters: None,
        };
        assert_eq!(operation(&op)["security"], json!([]));
        let op = Operation { public: false, path: "/api/routes".into(), ..op };
        assert_eq!(operation(&op)["security"][0], json!({"pbxToken": []}));
    }
}
