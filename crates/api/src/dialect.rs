//! The four API dialects and how each shapes its errors.

use axum::response::Response;
use serde_json::json;

use crate::error::{finish, ApiError};

/// One of the API styles Calliope speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Fonoster v1beta2: camelCase, `{error:{code,message,details}}`.
    Fonoster,
    /// The FreeSWITCH-style PBX API: `{code,message,data}`.
    Pbx,
    /// Vonage Applications v2: RFC 7807 problem details.
    Vonage,
    /// VoIPstudio v1.2: `{message, errors}`.
    VoipStudio,
}

/// `snake_case` to `camelCase`.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl Dialect {
    /// The dialect whose base path `path` is under (Fonoster otherwise).
    pub fn for_path(path: &str) -> Dialect {
        if path.starts_with("/api/") || path == "/api" {
            Dialect::Pbx
        } else if path.starts_with("/v2/") || path == "/v1/calls" || path.starts_with("/v1/calls/") {
            Dialect::Vonage
        } else if path.starts_with("/v1.2/voipstudio") {
            Dialect::VoipStudio
        } else {
            Dialect::Fonoster
        }
    }

    /// The error as this dialect answers it.
    pub fn render(self, err: &ApiError) -> Response {
        let body = match self {
            Dialect::Fonoster => {
                let details: Vec<_> = err
                    .details
                    .iter()
                    .map(|d| json!({"field": camel(&d.field), "message": d.message}))
                    .collect();
                json!({"error": {"code": err.kind.code(), "message": err.message, "details": details}})
            }
            Dialect::Pbx => {
                json!({"code": err.kind.status().as_u16(), "message": err.message, "data": "{}"})
            }
            Dialect::Vonage => {
                let params: Vec<_> =
                    err.details.iter().map(|d| json!({"name": d.field, "reason": d.message})).collect();
                let title = err.kind.status().canonical_reason().unwrap_or("Error");
                let mut body = json!({
                    "type": format!("urn:calliope:error:{}", err.kind.code().to_lowercase()),
                    "title": title,
                    "detail": err.message,
                });
                if !params.is_empty() {
                    body["invalid_parameters"] = json!(params);
                }
                body
            }
            Dialect::VoipStudio => {
                let errors: Vec<String> = if err.details.is_empty() {
                    vec![err.message.clone()]
                } else {
                    err.details.iter().map(|d| format!("{}: {}", d.field, d.message)).collect()
                };
                json!({"message": err.message, "errors": errors})
            }
        };
        finish(err, body)
    }

    /// A response mapper that re-renders errors in this dialect.
    pub async fn rerender(self, response: Response) -> Response {
        match response.extensions().get::<ApiError>() {
            Some(err) if self != Dialect::Fonoster => self.render(err),
            _ => response,
        }
    }
}
