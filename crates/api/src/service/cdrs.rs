//! Call records as calls: a call's legs found from the call's id, a leg's
//! id or a record's own ref, and the legs of a page of calls, for every
//! dialect's view of finished calls.

use std::collections::BTreeMap;

use store::schema::CDRS;
use store::{Filter, Key, Op, Operand, Query, Record, Scope, StoreError, Value};

use crate::error::ApiError;
use crate::AppState;

/// The side of a call its caller's leg is on (the call's own record).
pub const CALLER_SIDE: &str = engine::calls::cdr::CALLER_SIDE;

/// Most legs one call shows (a call that dialled on and on keeps its
/// first ones).
const MAX_LEGS: u64 = 100;

/// A finished call: its caller's leg (else its first) and all its legs,
/// oldest first.
#[derive(Debug, Clone)]
pub struct FinishedCall {
    /// The record that stands for the call.
    pub main: Record,
    /// Every leg, the main one too.
    pub legs: Vec<Record>,
}

/// The call `r` names in workspace `ws`: `r` is the call's id, a leg's id,
/// or a record's own ref. `None` when no record has it.
pub async fn find_call(state: &AppState, ws: i64, r: &str) -> Result<Option<FinishedCall>, ApiError> {
    let scope = Scope::Workspace(ws);
    let call_ref = if let Some(leg) = state.db.find(&CDRS, scope, &[Filter::eq("leg_ref", r)]).await? {
        leg.text("call_ref").to_owned()
    } else if state.db.find(&CDRS, scope, &[Filter::eq("call_ref", r)]).await?.is_some() {
        r.to_owned()
    } else {
        match state.db.get(&CDRS, scope, &Key::Ref(r.to_owned())).await {
            Ok(rec) => rec.text("call_ref").to_owned(),
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    };
    let legs = legs_of(state, scope, &[call_ref]).await?.into_values().next().unwrap_or_default();
    Ok(as_call(legs))
}

/// The legs of the calls `call_refs`, by call, each oldest first.
pub async fn legs_of(
    state: &AppState,
    scope: Scope,
    call_refs: &[String],
) -> Result<BTreeMap<String, Vec<Record>>, ApiError> {
    let mut by_call: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    if call_refs.is_empty() {
        return Ok(by_call);
    }
    let refs = call_refs.iter().map(|r| Value::from(r.as_str())).collect();
    let query = Query {
        filters: vec![Filter { column: "call_ref", op: Op::In, operand: Operand::Many(refs) }],
        limit: Some(MAX_LEGS.saturating_mul(call_refs.len() as u64)),
        ..Query::default()
    };
    for rec in state.db.list(&CDRS, scope, &query).await?.records {
        let legs = by_call.entry(rec.text("call_ref").to_owned()).or_default();
        if (legs.len() as u64) < MAX_LEGS {
            legs.push(rec);
        }
    }
    Ok(by_call)
}

/// The call that `legs` make, or `None` without legs.
pub fn as_call(legs: Vec<Record>) -> Option<FinishedCall> {
    let main = legs.iter().find(|l| l.text("leg") == CALLER_SIDE).or(legs.first())?.clone();
    Some(FinishedCall { main, legs })
}

/// The leg's own id: its `leg_ref`, else (a record from before legs had
/// ids of their own) its call's.
pub fn leg_id(rec: &Record) -> &str {
    match rec.text("leg_ref") {
        "" => rec.text("call_ref"),
        id => id,
    }
}
