//! Every RPC is answered by the Fonoster REST handler of the same
//! operation, called in process through the API's router: the same
//! authentication, roles, validation, service layer and store, so a record
//! made over gRPC is the record REST shows. This module turns an RPC's
//! metadata and JSON into that request and the answer (or the API's error)
//! back into JSON or a gRPC status.

use std::net::SocketAddr;

use api::error::{ApiError, ErrorKind};
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{header, HeaderValue, Method, Request};
use http_body_util::BodyExt;
use prost::Message;
use serde_json::Value as Json;
use tonic::metadata::MetadataMap;
use tonic::{Code, Status};
use tower::ServiceExt;

/// The REST API, reached in process.
#[derive(Clone)]
pub struct Rest {
    router: axum::Router,
    /// The largest answer read back, as for request bodies.
    limit: usize,
}

/// Who calls: the metadata and address of one RPC.
pub struct Who {
    token: Option<String>,
    access_key_id: Option<String>,
    user_agent: Option<String>,
    addr: Option<SocketAddr>,
}

impl Who {
    /// The credentials and origin of `req`: the `token` and `accessKeyId`
    /// metadata (gRPC metadata keys arrive in lower case). Generic tools
    /// may send `authorization: Bearer <token>` instead of `token`.
    pub fn of<T>(req: &tonic::Request<T>) -> Who {
        let md = req.metadata();
        let bearer = || {
            text(md, "authorization").and_then(|a| {
                let (scheme, rest) = a.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned())
            })
        };
        Who {
            token: text(md, "token").or_else(bearer),
            access_key_id: text(md, "accesskeyid"),
            user_agent: text(md, "user-agent"),
            addr: req.remote_addr(),
        }
    }

    /// The workspace's access key id sent, if any.
    pub fn access_key_id(&self) -> Option<&str> {
        self.access_key_id.as_deref()
    }

    /// The same origin without credentials: for the token exchanges,
    /// which take none (a stale token in the metadata must not refuse a
    /// login).
    pub fn anonymous(self) -> Who {
        Who { token: None, access_key_id: None, ..self }
    }
}

fn text(md: &MetadataMap, key: &str) -> Option<String> {
    md.get(key).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

impl Rest {
    /// The REST router `router`, answers read up to `limit` bytes.
    pub fn new(router: axum::Router, limit: usize) -> Rest {
        Rest { router, limit }
    }

    /// `GET path`.
    pub async fn get(&self, who: &Who, path: &str) -> Result<Json, Status> {
        self.call(who, Method::GET, path, None).await
    }
    /// `POST path` with `body`.
    pub async fn post(&self, who: &Who, path: &str, body: Json) -> Result<Json, Status> {
        self.call(who, Method::POST, path, Some(body)).await
    }
    /// `PUT path` with `body`.
    pub async fn put(&self, who: &Who, path: &str, body: Json) -> Result<Json, Status> {
        self.call(who, Method::PUT, path, Some(body)).await
    }
    /// `DELETE path`.
    pub async fn delete(&self, who: &Who, path: &str) -> Result<Json, Status> {
        self.call(who, Method::DELETE, path, None).await
    }

    /// One REST request as `who`.
    pub async fn call(
        &self,
        who: &Who,
        method: Method,
        path: &str,
        body: Option<Json>,
    ) -> Result<Json, Status> {
        let req = self.request(who, method, path, body)?;
        let response = self.router.clone().oneshot(req).await.map_err(|e| internal(&e))?;
        let error = response.extensions().get::<ApiError>().cloned();
        let status = response.status();
        let bytes = http_body_util::Limited::new(response.into_body(), self.limit)
            .collect()
            .await
            .map_err(|e| internal(&e))?
            .to_bytes();
        if let Some(err) = error {
            return Err(status_of(&err));
        }
        if !status.is_success() {
            return Err(Status::new(
                code_of_http(status.as_u16()),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
        if bytes.is_empty() {
            return Ok(Json::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| internal(&e))
    }

    /// `GET path` as `who`, answering the body unread (a stream such as
    /// server-sent events); an error answer becomes its gRPC status.
    pub async fn open(&self, who: &Who, path: &str) -> Result<Body, Status> {
        let req = self.request(who, Method::GET, path, None)?;
        let response = self.router.clone().oneshot(req).await.map_err(|e| internal(&e))?;
        if let Some(err) = response.extensions().get::<ApiError>().cloned() {
            return Err(status_of(&err));
        }
        let status = response.status();
        if !status.is_success() {
            return Err(Status::new(code_of_http(status.as_u16()), status.to_string()));
        }
        Ok(response.into_body())
    }

    fn request(
        &self,
        who: &Who,
        method: Method,
        path: &str,
        body: Option<Json>,
    ) -> Result<Request<Body>, Status> {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = &who.token {
            req = req.header(header::AUTHORIZATION, bearer(token)?);
        }
        if let Some(id) = &who.access_key_id {
            req = req.header("accesskeyid", value(id)?);
        }
        if let Some(ua) = &who.user_agent {
            req = req.header(header::USER_AGENT, value(ua)?);
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).map_err(|e| internal(&e))?;
        if let Some(addr) = who.addr {
            req.extensions_mut().insert(ConnectInfo(addr));
        }
        Ok(req)
    }
}

fn value(v: &str) -> Result<HeaderValue, Status> {
    HeaderValue::from_str(v).map_err(|_| Status::invalid_argument("metadata values must be visible ASCII"))
}

fn bearer(token: &str) -> Result<HeaderValue, Status> {
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Status::unauthenticated("the token metadata is not a valid token"))
}

fn internal(cause: &dyn std::fmt::Display) -> Status {
    tracing::error!(%cause, "gRPC bridge failure");
    Status::internal("internal error")
}

/// The gRPC code of an API error class.
pub fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::Unauthenticated => Code::Unauthenticated,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::MethodNotAllowed => Code::Unimplemented,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::PayloadTooLarge | ErrorKind::ResourceExhausted => Code::ResourceExhausted,
        ErrorKind::Internal => Code::Internal,
        ErrorKind::Unavailable => Code::Unavailable,
    }
}

fn code_of_http(status: u16) -> Code {
    match status {
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        409 => Code::AlreadyExists,
        413 | 429 => Code::ResourceExhausted,
        503 => Code::Unavailable,
        _ => Code::Internal,
    }
}

/// `google.rpc.BadRequest.FieldViolation`.
#[derive(Clone, PartialEq, Message)]
struct FieldViolation {
    #[prost(string, tag = "1")]
    field: String,
    #[prost(string, tag = "2")]
    description: String,
}

/// `google.rpc.BadRequest`.
#[derive(Clone, PartialEq, Message)]
struct BadRequest {
    #[prost(message, repeated, tag = "1")]
    field_violations: Vec<FieldViolation>,
}

/// `google.rpc.Status`, the payload of `grpc-status-details-bin`.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// The API error as a gRPC status; field problems travel as a
/// `google.rpc.BadRequest` in the status details (camelCase field names,
/// as the REST dialect names them).
pub fn status_of(err: &ApiError) -> Status {
    let code = code(err.kind);
    if err.details.is_empty() {
        return Status::new(code, err.message.clone());
    }
    let violations = err
        .details
        .iter()
        .map(|d| FieldViolation { field: api::dialect::camel(&d.field), description: d.message.clone() })
        .collect();
    let any = prost_types::Any {
        type_url: "type.googleapis.com/google.rpc.BadRequest".into(),
        value: BadRequest { field_violations: violations }.encode_to_vec(),
    };
    let details = RpcStatus { code: code as i32, message: err.message.clone(), details: vec![any] };
    Status::with_details(code, err.message.clone(), details.encode_to_vec().into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use api::error::FieldError;

    #[test]
    fn field_problems_travel_as_bad_request_details() {
        let err =
            ApiError::fields(vec![FieldError { field: "domain_uri".into(), message: "is required".into() }]);
        let status = status_of(&err);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "domain_uri: is required");
        let details = RpcStatus::decode(status.details()).unwrap();
        assert_eq!(details.code, Code::InvalidArgument as i32);
        assert_eq!(details.details[0].type_url, "type.googleapis.com/google.rpc.BadRequest");
        let bad = BadRequest::decode(&details.details[0].value[..]).unwrap();
        assert_eq!(bad.field_violations[0].field, "domainUri");
        assert_eq!(bad.field_violations[0].description, "is required");
    }

    #[test]
    fn credentials_come_from_token_or_bearer_metadata() {
        let mut req = tonic::Request::new(());
        req.metadata_mut().insert("authorization", "Bearer abc".parse().unwrap());
        req.metadata_mut().insert("accesskeyid", " WO1 ".parse().unwrap());
        let who = Who::of(&req);
        assert_eq!((who.token.as_deref(), who.access_key_id()), (Some("abc"), Some("WO1")));
        req.metadata_mut().insert("token", "tok".parse().unwrap());
        assert_eq!(Who::of(&req).token.as_deref(), Some("tok"));
        let anonymous = Who::of(&req).anonymous();
        assert_eq!((anonymous.token, anonymous.access_key_id), (None, None));
        let mut basic = tonic::Request::new(());
        basic.metadata_mut().insert("authorization", "Basic eDp5".parse().unwrap());
        basic.metadata_mut().insert("accesskeyid", "".parse().unwrap());
        let who = Who::of(&basic);
        assert_eq!((who.token, who.access_key_id), (None, None));
    }

    #[test]
    fn every_error_class_has_its_grpc_code() {
        let cases = [
            (ErrorKind::Unauthenticated, Code::Unauthenticated),
            (ErrorKind::PermissionDenied, Code::PermissionDenied),
            (ErrorKind::NotFound, Code::NotFound),
            (ErrorKind::AlreadyExists, Code::AlreadyExists),
            (ErrorKind::PayloadTooLarge, Code::ResourceExhausted),
            (ErrorKind::ResourceExhausted, Code::ResourceExhausted),
            (ErrorKind::MethodNotAllowed, Code::Unimplemented),
            (ErrorKind::Internal, Code::Internal),
            (ErrorKind::Unavailable, Code::Unavailable),
        ];
        for (kind, want) in cases {
            let status = status_of(&ApiError::new(kind, "x"));
            assert_eq!(status.code(), want, "{kind:?}");
            assert!(status.details().is_empty());
        }
    }
}
