//! Rules that only check text fields: each value given is replaced by what
//! its check makes of it (agents' and credentials' SIP user names, trunks'
//! inbound and outbound SIP URIs).

use async_trait::async_trait;
use serde_json::Value as Json;
use store::{Record, Values};

use super::shape::check_text;
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::input::{Casing, Input};

/// One checked text field: the stored name, the wire name a problem is
/// reported under, and the check.
pub type TextCheck = (&'static str, &'static str, fn(&str) -> Result<String, String>);

/// Rules that run their checks and nothing else.
pub struct TextChecks(pub &'static [TextCheck]);

#[async_trait]
impl Rules for TextChecks {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let mut input = Input::new(body, Casing::Camel)?;
        for &(name, wire, check) in self.0 {
            check_text(values, &mut input, name, wire, check);
        }
        input.finish()
    }
}
