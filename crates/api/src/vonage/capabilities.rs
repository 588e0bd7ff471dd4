//! Vonage application capabilities: `voice`, `messages`, `rtc` and `vbc`,
//! each with its webhooks (`{address, http_method}`) and a few settings.
//!
//! The voice `answer_url` address is the application's `endpoint`, the
//! one column both dialects read: it is stored there, not in the
//! capabilities document, and shown from there, so a Fonoster endpoint is
//! a Vonage answer URL (requested with `POST` unless a method was set).

use serde_json::{json, Map, Value as Json};

use crate::error::FieldError;
use crate::fonoster::resources::checks;

/// A setting's JSON type and, for integers, its range.
#[derive(Clone, Copy)]
enum Setting {
    Bool,
    Text,
    Int(i64, i64),
}

/// What one capability may hold.
struct Capability {
    name: &'static str,
    /// Its webhooks, each with the method used when none is given.
    webhooks: &'static [(&'static str, &'static str)],
    /// Its other settings.
    settings: &'static [(&'static str, Setting)],
}

const CAPABILITIES: &[Capability] = &[
    Capability {
        name: "voice",
        webhooks: &[("answer_url", "GET"), ("fallback_answer_url", "GET"), ("event_url", "POST")],
        settings: &[
            ("signed_callbacks", Setting::Bool),
            ("conversations_ttl", Setting::Int(1, 744)),
            ("leg_persistence_time", Setting::Int(1, 31)),
            ("region", Setting::Text),
        ],
    },
    Capability {
        name: "messages",
        webhooks: &[("inbound_url", "POST"), ("status_url", "POST")],
        settings: &[("version", Setting::Text), ("authenticate_inbound_media", Setting::Bool)],
    },
    Capability {
        name: "rtc",
        webhooks: &[("event_url", "POST")],
        settings: &[("signed_event_url", Setting::Bool)],
    },
    Capability { name: "vbc", webhooks: &[], settings: &[] },
];

/// Settings of one webhook besides its address and method.
const WEBHOOK_SETTINGS: &[(&str, Setting)] =
    &[("connect_timeout", Setting::Int(300, 1000)), ("socket_timeout", Setting::Int(1000, 10000))];

/// Capabilities read from a request: the document to store and the
/// voice answer URL (the application's endpoint), "" when none.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The capabilities without the answer URL's address.
    pub stored: Map<String, Json>,
    /// The voice answer URL.
    pub answer_url: String,
}

struct Reader {
    errors: Vec<FieldError>,
}

impl Reader {
    fn reject(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    fn object<'a>(&mut self, at: &str, raw: &'a Json) -> Option<&'a Map<String, Json>> {
        let o = raw.as_object();
        if o.is_none() {
            self.reject(at, "must be an object");
        }
        o
    }

    fn setting(&mut self, at: &str, kind: Setting, raw: &Json) -> Option<Json> {
        let ok = match kind {
            Setting::Bool => raw.is_boolean(),
            Setting::Text => raw.is_string(),
            Setting::Int(min, max) => raw.as_i64().is_some_and(|v| (min..=max).contains(&v)),
        };
        if !ok {
            let message = match kind {
                Setting::Bool => "must be true or false".to_owned(),
                Setting::Text => "must be a string".to_owned(),
                Setting::Int(min, max) => format!("must be an integer between {min} and {max}"),
            };
            self.reject(at, message);
        }
        ok.then(|| raw.clone())
    }

    fn webhook(&mut self, at: &str, default_method: &str, raw: &Json) -> Option<(Map<String, Json>, String)> {
        let hook = self.object(at, raw)?;
        let mut out = Map::new();
        let address = match hook.get("address").and_then(Json::as_str).map(checks::http_url) {
            Some(Ok(a)) => a,
            Some(Err(m)) => {
                self.reject(&format!("{at}.address"), m);
                String::new()
            }
            None => {
                self.reject(&format!("{at}.address"), "is required (an http or https URL)");
                String::new()
            }
        };
        let method = match hook.get("http_method") {
            None | Some(Json::Null) => default_method.to_owned(),
            Some(Json::String(m)) if m == "GET" || m == "POST" => m.clone(),
            Some(_) => {
                self.reject(&format!("{at}.http_method"), "must be GET or POST");
                String::new()
            }
        };
        out.insert("address".into(), json!(address));
        out.insert("http_method".into(), json!(method));
        for (key, value) in hook {
            match WEBHOOK_SETTINGS.iter().find(|(n, _)| n == key) {
                _ if key == "address" || key == "http_method" => {}
                Some(&(_, kind)) => {
                    if let Some(v) = self.setting(&format!("{at}.{key}"), kind, value) {
                        out.insert(key.clone(), v);
                    }
                }
                None => self.reject(&format!("{at}.{key}"), "is not a webhook setting"),
            }
        }
        Some((out, address))
    }

    fn capability(&mut self, cap: &Capability, raw: &Json, parsed: &mut Parsed) {
        let at = format!("capabilities.{}", cap.name);
        let Some(body) = self.object(&at, raw) else { return };
        let mut out = Map::new();
        for (key, value) in body {
            if key == "webhooks" {
                let at = format!("{at}.webhooks");
                let Some(hooks) = self.object(&at, value) else { continue };
                let mut kept = Map::new();
                for (name, hook) in hooks {
                    let at = format!("{at}.{name}");
                    let Some(&(_, method)) = cap.webhooks.iter().find(|(n, _)| n == name) else {
                        self.reject(&at, format!("is not a webhook of {}", cap.name));
                        continue;
                    };
                    let Some((mut hook, address)) = self.webhook(&at, method, hook) else { continue };
                    if cap.name == "voice" && name == "answer_url" {
                        parsed.answer_url = address;
                        hook.remove("address");
                    }
                    kept.insert(name.clone(), Json::Object(hook));
                }
                out.insert("webhooks".into(), Json::Object(kept));
            } else if let Some(&(_, kind)) = cap.settings.iter().find(|(n, _)| n == key) {
                if let Some(v) = self.setting(&format!("{at}.{key}"), kind, value) {
                    out.insert(key.clone(), v);
                }
            } else {
                self.reject(&format!("{at}.{key}"), format!("is not a setting of {}", cap.name));
            }
        }
        parsed.stored.insert(cap.name.into(), Json::Object(out));
    }
}

/// Reads the `capabilities` of a request; every problem is named by its
/// path (`capabilities.voice.webhooks.answer_url.address`).
pub fn parse(raw: &Json) -> Result<Parsed, Vec<FieldError>> {
    let mut reader = Reader { errors: Vec::new() };
    let mut parsed = Parsed::default();
    if let Some(caps) = reader.object("capabilities", raw) {
        for (name, value) in caps {
            match CAPABILITIES.iter().find(|c| c.name == name) {
                Some(cap) => reader.capability(cap, value, &mut parsed),
                None => reader.reject(
                    &format!("capabilities.{name}"),
                    "is not a capability (voice, messages, rtc or vbc)",
                ),
            }
        }
    }
    if reader.errors.is_empty() {
        Ok(parsed)
    } else {
        Err(reader.errors)
    }
}

/// The capabilities to show: the stored document with the voice answer
/// URL taken from the application's `endpoint`.
pub fn render(stored: &str, endpoint: &str) -> Json {
    let mut caps = match serde_json::from_str::<Json>(stored) {
        Ok(Json::Object(o)) => o,
        _ => Map::new(),
    };
    if endpoint.is_empty() {
        if let Some(hooks) =
            caps.get_mut("voice").and_then(|v| v.get_mut("webhooks")).and_then(Json::as_object_mut)
        {
            hooks.remove("answer_url");
        }
        return Json::Object(caps);
    }
    let voice = caps.entry("voice").or_insert_with(|| json!({}));
    if !voice.is_object() {
        *voice = json!({});
    }
    let hooks = voice.as_object_mut().map(|v| v.entry("webhooks").or_insert_with(|| json!({})));
    if let Some(Json::Object(hooks)) = hooks {
        let answer = hooks.entry("answer_url").or_insert_with(|| json!({"http_method": "POST"}));
        if let Json::Object(answer) = answer {
            answer.insert("address".into(), json!(endpoint));
        }
    }
    Json::Object(caps)
}
