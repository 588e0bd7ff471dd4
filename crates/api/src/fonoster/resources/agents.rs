//! Agents and SIP credentials, whose usernames are SIP user names.

use async_trait::async_trait;
use serde_json::Value as Json;
use store::{Record, Values};

use super::checks;
use super::shape::check_text;
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::input::{Casing, Input};

/// Rules for a resource whose `username` is a SIP user name (agents,
/// credentials).
pub struct SipUser;

#[async_trait]
impl Rules for SipUser {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let mut input = Input::new(body, Casing::Camel)?;
        check_text(values, &mut input, "username", "username", checks::sip_user);
        input.finish()
    }
}
