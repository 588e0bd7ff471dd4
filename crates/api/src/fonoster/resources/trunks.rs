//! Trunks: inbound and outbound SIP URIs (the outbound one is the PBX
//! trunks' `remote_addr`), an ACL and credentials each way.

use async_trait::async_trait;
use serde_json::Value as Json;
use store::{Record, Values};

use super::checks;
use super::shape::check_text;
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::input::{Casing, Input};

/// The trunk rules.
pub struct Trunks;

#[async_trait]
impl Rules for Trunks {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let mut input = Input::new(body, Casing::Camel)?;
        check_text(values, &mut input, "inbound_uri", "inboundUri", checks::sip_address);
        check_text(values, &mut input, "remote_addr", "outboundUri", checks::sip_address);
        input.finish()
    }
}
