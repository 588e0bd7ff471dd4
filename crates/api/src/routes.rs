//! Registering routes once for both the router and the OpenAPI document,
//! so that `/openapi.json` always describes exactly what is served: each
//! route says what its request body holds ([`Body`]) and what it answers
//! ([`Reply`]), both in terms of resource descriptions, and
//! [`crate::openapi`] turns that into schemas.

use axum::handler::Handler;
use axum::routing::{on, MethodFilter};
use axum::Router;
use serde_json::Value as Json;
use store::Resource;

use crate::crud::Rules;
use crate::input::Casing;
use crate::state::AppState;

/// What a request body holds, as far as the document tells.
#[derive(Clone, Copy)]
pub enum Body {
    /// No body.
    None,
    /// An object of some fields of a resource.
    Fields(&'static Resource, &'static [&'static str], Casing),
    /// An object of some fields of a resource and the properties its rules
    /// read besides (see [`Rules::documented`]); `true` on create.
    Spec(&'static Resource, &'static [&'static str], Casing, &'static dyn Rules, bool),
    /// An array of such objects.
    Array(&'static Resource, &'static [&'static str], Casing),
    /// An object with these properties (name, JSON type).
    Props(&'static [(&'static str, &'static str)]),
    /// A multipart upload with a `file` part.
    Upload,
    /// Any JSON.
    Any,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::None => f.write_str("None"),
            Body::Fields(res, names, _) | Body::Spec(res, names, _, _, _) => {
                write!(f, "Fields({}, {names:?})", res.table)
            }
            Body::Array(res, names, _) => write!(f, "Array({}, {names:?})", res.table),
            Body::Props(props) => write!(f, "Props({props:?})"),
            Body::Upload => f.write_str("Upload"),
            Body::Any => f.write_str("Any"),
        }
    }
}

/// A request property that a resource's rules read besides its fields
/// (a write-only password, a field under another wire name).
#[derive(Debug, Clone)]
pub struct Prop {
    /// Its wire name.
    pub name: String,
    /// Its JSON schema.
    pub schema: Json,
    /// Whether the request must carry it.
    pub required: bool,
}

/// What a successful answer holds, in the dialect of the operation's path
/// (the dialect's envelope is added by the document).
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// Some JSON in the dialect's success status range; not described
    /// further.
    Unknown,
    /// One record of the resource as the dialect's generic view shows it
    /// (VoIPstudio: in `{data, links}`).
    Record(&'static Resource),
    /// A record just created: Fonoster answers 201 with the record, the PBX
    /// `{code, message, data: <new id>}`.
    Created(&'static Resource),
    /// One page of records in the dialect's list envelope.
    Page(&'static Resource),
    /// A change or deletion: Fonoster `{ref}`, the PBX
    /// `{code, message, data: "<id>"}`.
    Changed,
    /// 200 with a body of this schema.
    Schema(fn() -> Json),
    /// This status (`"201"`, ...) with a body of this schema.
    Status(&'static str, fn() -> Json),
    /// 204 with no body.
    NoContent,
    /// 200 with the bytes of a file of this media type (`audio/wav`).
    File(&'static str),
}

/// The query filters a list takes besides its paging, as far as the
/// document tells.
#[derive(Debug, Clone, Copy)]
pub struct Filters {
    /// Every field of this resource filters by its value (`?src=2001`).
    pub fields: &'static Resource,
    /// Further parameters; one named as a field stands in its stead.
    pub extra: &'static [QueryParam],
}

/// A query parameter of a list.
#[derive(Debug, Clone, Copy)]
pub struct QueryParam {
    /// Its name.
    pub name: &'static str,
    /// The type of its value.
    pub kind: store::Kind,
    /// What it filters on.
    pub description: &'static str,
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
    /// What it answers on success.
    pub reply: Reply,
    /// Whether it is served without credentials (logins).
    pub public: bool,
    /// The query filters it takes, when it is a filtered list.
    pub filters: Option<Filters>,
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
        self.operations.push(Operation {
            method,
            path: path.to_owned(),
            summary: summary.into(),
            body,
            reply: Reply::Unknown,
            public: false,
            filters: None,
        });
        self
    }

    /// Documents what the operation registered last answers.
    pub fn reply(mut self, reply: Reply) -> Api {
        if let Some(op) = self.operations.last_mut() {
            op.reply = reply;
        }
        self
    }

    /// Documents the query filters the operation registered last takes.
    pub fn filters(mut self, filters: Filters) -> Api {
        if let Some(op) = self.operations.last_mut() {
            op.filters = Some(filters);
        }
        self
    }

    /// Documents the operation registered last as served without
    /// credentials.
    pub fn public(mut self) -> Api {
        if let Some(op) = self.operations.last_mut() {
            op.public = true;
        }
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
        let doc = crate::openapi::document(&self.operations);
        (self.router, doc)
    }
}
