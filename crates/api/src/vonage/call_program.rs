//! The programs of the Voice API's call control, read from its bodies:
//! `POST /v1/calls` (`ncco`, or `answer_url` with `answer_method`, and
//! `event_url` with `event_method`) and the `transfer` action's
//! `destination` (`{type: "ncco", ncco: [...]}` or `{type: "ncco", url:
//! [...]}`). An NCCO is parsed here, so a bad one is a 400 naming the
//! field and nothing is placed or changed.

use engine::calls::{AppProgram, ProgramSource};
use engine::webhooks::{AppUrl, HttpMethod};
use serde_json::Value as Json;

use crate::error::ApiError;

/// The one URL of a Vonage `[url]` array at `field` (a bare string is
/// taken too), checked to be http(s).
fn one_url(body: &Json, field: &str) -> Result<Option<String>, ApiError> {
    let url = match body.get(field) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::String(u)) => u.as_str(),
        Some(Json::Array(list)) if list.len() == 1 => list[0].as_str().unwrap_or(""),
        Some(_) => return Err(ApiError::field(field, "must be an array of one URL")),
    };
    let url = url.trim();
    if url.len() > 2048 || engine::webhooks::shapes::parse_url(url).is_err() {
        return Err(ApiError::field(field, "must be an http(s) URL"));
    }
    Ok(Some(url.to_owned()))
}

/// `GET` or `POST` at `field`, else `default`.
fn method(body: &Json, field: &str, default: HttpMethod) -> Result<HttpMethod, ApiError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(default),
        Some(m) => m
            .as_str()
            .and_then(HttpMethod::parse)
            .ok_or_else(|| ApiError::field(field, "must be GET or POST")),
    }
}

/// An NCCO at `field`, parsed (a 400 naming the field when it is not one).
fn ncco(value: &Json, field: &str) -> Result<Vec<engine::program::Verb>, ApiError> {
    engine::program::ncco::parse_value(value)
        .map_err(|e| ApiError::field(field, format!("is not a valid NCCO: {e}")))
}

/// The program of `POST /v1/calls` for the application `application`:
/// its inline `ncco`, else its `answer_url`; its `event_url` when given.
pub(super) fn program_of(body: &Json, application: &str) -> Result<AppProgram, ApiError> {
    let script = match body.get("ncco") {
        None | Some(Json::Null) => None,
        Some(n @ Json::Array(_)) => Some(ncco(n, "ncco")?),
        Some(_) => return Err(ApiError::field("ncco", "must be an array of actions")),
    };
    let answer_url = match one_url(body, "answer_url")? {
        Some(url) => {
            Some(AppUrl { url, method: method(body, "answer_method", HttpMethod::Get)?, timeout: None })
        }
        None => None,
    };
    if script.is_none() && answer_url.is_none() {
        return Err(ApiError::field("ncco", "ncco or answer_url is required"));
    }
    let event_url = match one_url(body, "event_url")? {
        Some(url) => {
            Some(AppUrl { url, method: method(body, "event_method", HttpMethod::Post)?, timeout: None })
        }
        None => None,
    };
    Ok(AppProgram { application: application.to_owned(), script, answer_url, event_url, vonage: true })
}

/// The new program of a `transfer` action's `destination`.
pub(super) fn transfer_of(body: &Json) -> Result<ProgramSource, ApiError> {
    let Some(destination) = body.get("destination").filter(|d| d.is_object()) else {
        return Err(ApiError::field(
            "destination",
            "is required: {type: \"ncco\", ncco: [...] | url: [...]}",
        ));
    };
    if destination.get("type").and_then(Json::as_str) != Some("ncco") {
        return Err(ApiError::field("destination.type", "must be ncco"));
    }
    if let Some(n) = destination.get("ncco").filter(|n| !n.is_null()) {
        ncco(n, "destination.ncco")?;
        return Ok(ProgramSource::Ncco(n.clone()));
    }
    match one_url(destination, "url")
        .map_err(|_| ApiError::field("destination.url", "must be an array of one http(s) URL"))?
    {
        Some(url) => Ok(ProgramSource::Url(url)),
        None => Err(ApiError::field("destination", "needs ncco or url")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_inline_ncco_or_an_answer_url_is_required_and_checked() {
        let p = program_of(&json!({"ncco": [{"action": "talk", "text": "hi"}]}), "app")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(p.script.is_some_and(|s| s.len() == 1) && p.answer_url.is_none() && p.vonage);
        let p = program_of(
            &json!({"answer_url": ["https://a.example/answer"], "event_url": ["https://a.example/e"]}),
            "app",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.answer_url.map(|u| (u.url, u.method)),
            Some(("https://a.example/answer".into(), HttpMethod::Get))
        );
        assert_eq!(p.event_url.map(|u| u.method), Some(HttpMethod::Post));
        assert!(program_of(&json!({}), "app").is_err());
        assert!(program_of(&json!({"ncco": [{"action": "fly"}]}), "app").is_err());
        assert!(program_of(&json!({"answer_url": ["ftp://x"]}), "app").is_err());
        assert!(program_of(&json!({"answer_url": ["https://a.example/"], "answer_method": "PUT"}), "app")
            .is_err());
    }

    #[test]
    fn a_transfer_names_an_ncco_or_a_url() {
        let ncco = json!([{"action": "talk", "text": "hi"}]);
        assert_eq!(
            transfer_of(&json!({"destination": {"type": "ncco", "ncco": ncco}})).ok(),
            Some(ProgramSource::Ncco(ncco))
        );
        assert_eq!(
            transfer_of(&json!({"destination": {"type": "ncco", "url": ["https://a.example/n"]}})).ok(),
            Some(ProgramSource::Url("https://a.example/n".into()))
        );
        assert!(transfer_of(&json!({"destination": {"type": "ncco", "ncco": [{"action": "fly"}]}})).is_err());
        assert!(transfer_of(&json!({"destination": {"type": "phone"}})).is_err());
        assert!(transfer_of(&json!({})).is_err());
    }
}
