//! IVR menus: the generic PBX endpoints, with sounds read as media
//! references, a generated `key` and the number of actions in views.

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use store::schema::{IVRS, IVR_ACTIONS};
use store::{Filter, Record, Values};

use super::common::made_of;
use super::sounds::{self, SOUND_FIELDS};
use crate::crud::pbx::{register, PbxSpec};
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::routes::Api;

const IVR_FIELDS: &[&str] = &[
    "name",
    "description",
    "greet_long",
    "greet_short",
    "invalid_sound",
    "exit_sound",
    "transfer_sound",
    "timeout",
    "max_failures",
    "max_timeouts",
    "exec_on_max_failures",
    "exec_on_max_timeouts",
    "confirm_key",
    "confirm_macro",
    "tts_engine",
    "tts_voice",
    "confirm_attempts",
    "digit_len",
    "inter_digit_timeout",
    "pin",
    "pin_file",
    "bad_pin_file",
];

/// The IVR menus as the PBX serves them.
pub static IVR: PbxSpec = PbxSpec {
    res: &IVRS,
    create: IVR_FIELDS,
    update: IVR_FIELDS,
    filters: &["name"],
    parent: None,
    rules: &IvrRules,
};

struct IvrRules;

#[async_trait]
impl Rules for IvrRules {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        for field in SOUND_FIELDS {
            if let Some(raw) = body.get(*field) {
                let sound = sounds::read(cx, field, raw).await?;
                values.retain(|(n, _)| n != field);
                values.push((field, sound));
            }
        }
        let text = |name: &str| store::given(values, name).as_str().unwrap_or("").to_owned();
        let key = text("confirm_key");
        if !key.is_empty() && !made_of(&key, "0123456789*#", 1) {
            return Err(ApiError::field("confirm_key", "must be one key: 0-9, * or #"));
        }
        let pin = text("pin");
        if !pin.is_empty() && !made_of(&pin, "0123456789", 32) {
            return Err(ApiError::field("pin", "must be digits only (at most 32)"));
        }
        Ok(())
    }

    async fn view(&self, cx: &Cx<'_>, rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        if rec.text("key").is_empty() {
            out.insert("key".into(), json!(format!("ivr-{}", rec.id)));
        }
        if rec.int("confirm_attempts").is_none() {
            out.insert("confirm_attempts".into(), json!(""));
        }
        let actions = cx.state.db.count(&IVR_ACTIONS, cx.scope, &[Filter::eq("ivr_menu_id", rec.id)]).await?;
        out.insert("count_actions".into(), json!(actions));
        Ok(())
    }
}

/// Their routes.
pub fn routes() -> Api {
    register(Api::new(), "/api/ivrs", &IVR)
}
