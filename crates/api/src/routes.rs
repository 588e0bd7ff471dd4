//! Registering routes once for both the router and the OpenAPI document,
//! so that `/openapi.json` always describes exactly what is served.

use axum::handler::Handler;
use axum::routing::{on, MethodFilter};
use axum::Router;
use serde_json::{json, Map, Value as Json};
use store::{Kind, Resource};

use crate::dialect::camel;
use crate::input::Casing;
use crate::state::AppState;

/// What a request body holds, as far as the document tells.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// No body.
    None,
    /// An object of some fields of a resource.
    Fields(&'static Resource, &'static [&'static str], Casing),
    /// An array of such objects.
    Array(&'static Resource, &'static [&'static str], Casing),
    /// An object with these properties (name, JSON type).
    Props(&'static [(&'static str, &'static str)]),
    /// A multipart upload with a `file` part.
    Upload,
    /// Any JSON.
    Any,
}

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `get`, `post`, `put` or `delete`.
    pub method: &'static str,
    /// The path, with `{name}` parameters.
    pub path: String,
    /// One line on what it does.
    pub summary: String,
    /// Its request body.
    pub body: Body,
}

/// Routes under construction, with their documentation.
#[derive(Default)]
pub struct Api {
    router: Router<AppState>,
    operations: Vec<Operation>,
}

impl Api {
    /// No routes yet.
    pub fn new() -> Api {
        Api::default()
    }

    /// Serves `handler` for `method` on `path`, documented by `summary` and
    /// `body`.
    pub fn route<H, T>(
        mut self,
        method: &'static str,
        path: &str,
        summary: impl Into<String>,
        body: Body,
        handler: H,
    ) -> Api
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            "get" => MethodFilter::GET,
            "post" => MethodFilter::POST,
            "put" => MethodFilter::PUT,
            "patch" => MethodFilter::PATCH,
            _ => MethodFilter::DELETE,
        };
        self.router = self.router.route(path, on(filter, handler));
        self.operations.push(Operation { method, path: path.to_owned(), summary: summary.into(), body });
        self
    }

    /// `GET path`.
    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        summary: impl Into<String>,
        h: H,
    ) -> Api {
        self.route("get", path, summary, Body::None, h)
    }
    /// `POST path` with `body`.
    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        summary: impl Into<String>,
        body: Body,
        h: H,
    ) -> Api {
        self.route("post", path, summary, body, h)
    }
    /// `PUT path` with `body`.
    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        summary: impl Into<String>,
        body: Body,
        h: H,
    ) -> Api {
        self.route("put", path, summary, body, h)
    }
    /// `DELETE path`.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        summary: impl Into<String>,
        h: H,
    ) -> Api {
        self.route("delete", path, summary, Body::None, h)
    }
    /// `DELETE path` with `body` (the PBX deletes lists of ids so).
    pub fn delete_with<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        summary: impl Into<String>,
        body: Body,
        h: H,
    ) -> Api {
        self.route("delete", path, summary, body, h)
    }

    /// Adds every route of `other`.
    pub fn merge(mut self, other: Api) -> Api {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    /// The operations registered so far.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The router and the OpenAPI 3.1 document of its operations.
    pub fn finish(self) -> (Router<AppState>, Json) {
        let doc = openapi(&self.operations);
        (self.router, doc)
    }
}

fn kind_schema(kind: Kind) -> Json {
    match kind {
        Kind::Int | Kind::Ref(_) => json!({"type": ["integer", "string"]}),
        Kind::Float => json!({"type": ["number", "string"]}),
        Kind::Bool => json!({"type": ["boolean", "integer", "string"]}),
        Kind::Text | Kind::Time => json!({"type": "string"}),
        Kind::Json => json!({}),
        Kind::Enum(values) => json!({"type": "string", "enum": values}),
    }
}

fn object_schema(res: &Resource, names: &[&str], casing: Casing) -> Json {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in names.iter().filter_map(|n| res.field(n)) {
        let name = match casing {
            Casing::Snake => f.name.to_owned(),
            Casing::Camel => camel(f.name),
        };
        if f.required {
            required.push(json!(name));
        }
        props.insert(name, kind_schema(f.kind));
    }
    json!({"type": "object", "properties": props, "required": required})
}

fn body_schema(body: Body) -> Option<Json> {
    let (media, schema) = match body {
        Body::None => return None,
        Body::Fields(res, names, casing) => ("application/json", object_schema(res, names, casing)),
        Body::Array(res, names, casing) => {
            ("application/json", json!({"type": "array", "items": object_schema(res, names, casing)}))
        }
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

fn security(path: &str) -> Json {
    let scheme = if path.starts_with("/api/") {
        "pbxToken"
    } else if path.starts_with("/v2/") {
        "basicKey"
    } else if path.starts_with("/v1.2/") {
        "voipToken"
    } else {
        "bearer"
    };
    json!([{ scheme: [] }])
}

/// The OpenAPI 3.1 document of `operations`.
pub fn openapi(operations: &[Operation]) -> Json {
    let mut paths = Map::new();
    for op in operations {
        let params: Vec<Json> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut item = json!({
            "summary": op.summary,
            "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}', '.'], "_")),
            "parameters": params,
            "responses": {"200": {"description": "success"}, "default": {"description": "an error in the dialect's shape"}},
            "security": security(&op.path),
        });
        if let Some(body) = body_schema(op.body) {
            item["requestBody"] = body;
        }
        let entry = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
        entry[op.method] = item;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Calliope", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "basicKey": {"type": "http", "scheme": "basic"},
            "pbxToken": {"type": "apiKey", "in": "header", "name": "X-XTRA-AUTH-ID"},
            "voipToken": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
        }},
    })
}
