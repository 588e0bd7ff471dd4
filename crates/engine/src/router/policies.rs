//! Fonoster domains' egress policies: `[{rule, numberRef}]`, where `rule`
//! is a regular expression over the called number and `numberRef` the
//! number whose trunk carries the call (shown as the caller).

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};
use serde_json::Value as Json;
use store::Record;

/// The most memory one compiled rule may take (the API refuses larger).
pub const RULE_SIZE_LIMIT: usize = 1 << 20;

/// The number an egress policy sends calls out as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressNumber {
    /// The number (`line_number`), shown as the caller.
    pub line_number: String,
    /// Its trunk, if it has one.
    pub trunk_id: Option<i64>,
}

/// One policy of a domain, ready to match.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The rule as written.
    pub rule: String,
    /// It compiled.
    pub regex: Regex,
    /// The number's ref as written.
    pub number_ref: String,
    /// The number, `None` when it no longer exists.
    pub number: Option<EgressNumber>,
}

/// Reads every domain's `egress_policies`, in order, resolving each
/// `numberRef` among `numbers`; a rule that does not compile (the API
/// refuses those) is left out with a line in `skipped`.
pub fn build(domains: &[Record], numbers: &[Record], skipped: &mut Vec<String>) -> HashMap<i64, Vec<Policy>> {
    let by_ref: HashMap<&str, EgressNumber> = numbers
        .iter()
        .map(|n| {
            let number = EgressNumber {
                line_number: n.text("line_number").trim().to_owned(),
                trunk_id: n.int("trunk_id"),
            };
            (n.r#ref.as_str(), number)
        })
        .collect();
    let mut out = HashMap::new();
    for d in domains {
        let Ok(Json::Array(items)) = serde_json::from_str::<Json>(d.text("egress_policies")) else {
            continue;
        };
        let mut policies = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let rule = item.get("rule").and_then(Json::as_str).unwrap_or("");
            let number_ref = item.get("numberRef").and_then(Json::as_str).unwrap_or("").trim();
            match RegexBuilder::new(rule).size_limit(RULE_SIZE_LIMIT).build() {
                Ok(regex) => policies.push(Policy {
                    rule: rule.to_owned(),
                    regex,
                    number_ref: number_ref.to_owned(),
                    number: by_ref.get(number_ref).cloned(),
                }),
                Err(e) => skipped.push(format!(
                    "domain {}: egress policy {i}: rule '{rule}' does not compile: {}",
                    d.id,
                    e.to_string().lines().last().unwrap_or("")
                )),
            }
        }
        if !policies.is_empty() {
            out.insert(d.id, policies);
        }
    }
    out
}
