//! SIP domains (a host name unique across workspaces, an ACL and egress
//! policies) and the ACLs they and trunks use.

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use store::{Record, Value, Values};

use super::checks;
use super::shape::{check_text, resolve};
use crate::crud::values::set;
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::input::{Casing, Input};

/// The domain rules.
pub struct Domains;

/// Reads `egressPolicies`, `[{rule, numberRef}]`: each rule a regular
/// expression, each number one of the workspace's.
async fn egress(
    cx: &Cx<'_>,
    input: &mut Input<'_>,
    raw: Option<&Json>,
    values: &mut Values,
) -> Result<(), ApiError> {
    let policies = match raw {
        None => return Ok(()),
        Some(Json::Null) => {
            set(values, "egress_policies", Value::Null);
            return Ok(());
        }
        Some(Json::Array(items)) => items,
        Some(_) => {
            input.reject("egressPolicies", "must be an array of {rule, numberRef}");
            return Ok(());
        }
    };
    let mut kept = Vec::with_capacity(policies.len());
    for (i, item) in policies.iter().enumerate() {
        let at = |f: &str| format!("egressPolicies[{i}].{f}");
        let rule = item.get("rule").and_then(Json::as_str);
        let number = item.get("numberRef").and_then(Json::as_str).map(str::trim).filter(|r| !r.is_empty());
        match rule.map(checks::pattern) {
            None => input.reject(&at("rule"), "is required (a regular expression)"),
            Some(Err(m)) => input.reject(&at("rule"), m),
            Some(Ok(_)) => {}
        }
        match number {
            None => input.reject(&at("numberRef"), "is required (the ref of a number)"),
            Some(r) => {
                if let Err(m) = resolve(cx, "numbers", r).await? {
                    input.reject(&at("numberRef"), m);
                }
            }
        }
        kept.push(json!({"rule": rule, "numberRef": number}));
    }
    set(values, "egress_policies", Value::Text(Json::Array(kept).to_string()));
    Ok(())
}

#[async_trait]
impl Rules for Domains {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let mut input = Input::new(body, Casing::Camel)?;
        check_text(values, &mut input, "domain_uri", "domainUri", checks::host_name);
        egress(cx, &mut input, body.get("egressPolicies"), values).await?;
        input.finish()?;
        // A SIP domain routes calls to one workspace: the store keeps
        // `domain_uri` unique everywhere.
        Ok(())
    }

    async fn view(&self, _cx: &Cx<'_>, _rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        if out.get("egressPolicies").is_none_or(Json::is_null) {
            out.insert("egressPolicies".into(), json!([]));
        }
        Ok(())
    }
}

/// The ACL rules: `allow` and `deny` are arrays of addresses or CIDR
/// networks.
pub struct Acls;

#[async_trait]
impl Rules for Acls {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let mut input = Input::new(body, Casing::Camel)?;
        for name in ["allow", "deny"] {
            let list = match body.get(name) {
                None => continue,
                Some(Json::Null) => Vec::new(),
                Some(Json::Array(items)) => items.clone(),
                Some(_) => {
                    input.reject(name, "must be an array of IP addresses or CIDR networks");
                    continue;
                }
            };
            let mut kept = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                match item.as_str().map(checks::network) {
                    Some(Ok(net)) => kept.push(json!(net)),
                    Some(Err(m)) => input.reject(name, format!("item {i}: {m}")),
                    None => input.reject(name, format!("item {i}: must be a string")),
                }
            }
            set(values, name, Value::Text(Json::Array(kept).to_string()));
        }
        input.finish()
    }

    async fn view(&self, _cx: &Cx<'_>, _rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        for name in ["allow", "deny"] {
            if out.get(name).is_none_or(Json::is_null) {
                out.insert(name.into(), json!([]));
            }
        }
        Ok(())
    }
}
