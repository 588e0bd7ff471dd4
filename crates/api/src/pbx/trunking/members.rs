//! Which trunks a trunk group holds (TRUNK_GROUP_MEMBERS), written from
//! either side.
//!
//! The seed has no member endpoint, so membership rides on the two
//! resources' own bodies: a trunk group's create and update take
//! `trunks: [ids]`, a trunk's take `trunk_groups: [ids]`; an element may
//! also be `{id, weight, priority}`. A list given replaces the memberships
//! of that side (a member kept keeps its weight and priority unless new
//! ones are given); no key leaves them as they are. The group's GET shows
//! `trunks`, the trunk's GET `trunk_groups`.

use serde_json::{json, Value as Json};
use store::schema::{TRUNKS, TRUNK_GROUPS, TRUNK_GROUP_MEMBERS};
use store::{Filter, Key, Kind, Record, Resource, Step, StoreError, Value, Values};

use crate::crud::Cx;
use crate::error::{ApiError, FieldError};
use crate::input::convert;

/// Whose memberships are written or shown.
#[derive(Debug, Clone, Copy)]
pub enum Side {
    /// A trunk group's trunks.
    Group,
    /// A trunk's groups.
    Trunk,
}

impl Side {
    /// The member column that holds the owner's id.
    fn own(self) -> &'static str {
        match self {
            Side::Group => "group_id",
            Side::Trunk => "trunk_id",
        }
    }
    /// The member column that holds the other side's id.
    fn other(self) -> &'static str {
        match self {
            Side::Group => "trunk_id",
            Side::Trunk => "group_id",
        }
    }
    /// The resource on the other side.
    fn target(self) -> &'static Resource {
        match self {
            Side::Group => &TRUNKS,
            Side::Trunk => &TRUNK_GROUPS,
        }
    }
    /// The resource whose memberships these are.
    fn owner(self) -> &'static Resource {
        match self {
            Side::Group => &TRUNK_GROUPS,
            Side::Trunk => &TRUNKS,
        }
    }
    /// The body key that lists them.
    pub fn key(self) -> &'static str {
        match self {
            Side::Group => "trunks",
            Side::Trunk => "trunk_groups",
        }
    }
}

/// One membership as a body gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The id of the trunk (or group) on the other side.
    pub id: i64,
    /// Its weight in a `WEIGHT` group, if given.
    pub weight: Option<i64>,
    /// Its priority, if given.
    pub priority: Option<i64>,
}

fn number(raw: &Json, field: &str, range: Option<(i64, i64)>) -> Result<i64, FieldError> {
    let err = |message: String| FieldError { field: field.to_owned(), message };
    let v = match convert(raw, Kind::Int) {
        Ok(Value::Int(v)) => v,
        _ => return Err(err("must be an integer".into())),
    };
    match range {
        Some((min, max)) if v < min || v > max => Err(err(format!("must be between {min} and {max}"))),
        _ => Ok(v),
    }
}

fn member(raw: &Json, at: &str) -> Result<Member, FieldError> {
    let limit = |name: &str| TRUNK_GROUP_MEMBERS.field(name).and_then(|f| f.range);
    match raw {
        Json::Object(o) => {
            let id = number(o.get("id").unwrap_or(&Json::Null), &format!("{at}.id"), None)?;
            let opt = |name: &str| -> Result<Option<i64>, FieldError> {
                match o.get(name) {
                    None | Some(Json::Null) => Ok(None),
                    Some(v) => number(v, &format!("{at}.{name}"), limit(name)).map(Some),
                }
            };
            Ok(Member { id, weight: opt("weight")?, priority: opt("priority")? })
        }
        other => Ok(Member { id: number(other, at, None)?, weight: None, priority: None }),
    }
}

/// The memberships `body` gives for `side`, checked: `None` when the key
/// is absent; a 400 naming the element that is malformed, repeated or
/// names nothing in the workspace.
pub async fn read(cx: &Cx<'_>, side: Side, body: &Json) -> Result<Option<Vec<Member>>, ApiError> {
    let key = side.key();
    let items = match body.get(key) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(ApiError::field(key, "must be an array of ids or {id, weight, priority}")),
    };
    let mut members: Vec<Member> = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, raw) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        match member(raw, &at) {
            Err(e) => errors.push(e),
            Ok(m) if members.iter().any(|o| o.id == m.id) => {
                errors.push(FieldError { field: at, message: format!("repeats {}", m.id) })
            }
            Ok(m) => {
                let target = side.target();
                if cx.state.db.find(target, cx.scope, &[Filter::eq("id", m.id)]).await?.is_none() {
                    errors.push(FieldError {
                        field: at,
                        message: format!("refers to a {} that does not exist", target.label),
                    });
                }
                members.push(m);
            }
        }
    }
    if errors.is_empty() {
        Ok(Some(members))
    } else {
        Err(ApiError::fields(errors))
    }
}

async fn current(cx: &Cx<'_>, side: Side, owner: i64) -> Result<Vec<Record>, ApiError> {
    crate::crud::all(cx.state, &TRUNK_GROUP_MEMBERS, cx.scope, vec![Filter::eq(side.own(), owner)]).await
}

/// Whose memberships the steps write: a record that exists, or the one
/// the transaction's step 0 creates.
#[derive(Clone, Copy)]
enum Owner {
    Id(i64),
    New,
}

/// The steps that make the owner's memberships on `side` exactly
/// `members`, given its `existing` ones.
fn steps(side: Side, owner: Owner, existing: &[Record], members: &[Member]) -> Vec<Step> {
    let mut out = Vec::new();
    for rec in existing {
        let other = rec.int(side.other()).unwrap_or_default();
        match members.iter().find(|m| m.id == other) {
            None => out.push(Step::Delete { res: &TRUNK_GROUP_MEMBERS, key: Key::Id(rec.id) }),
            Some(m) => {
                let mut values = Vec::new();
                if let Some(w) = m.weight {
                    values.push(("weight", Value::Int(w)));
                }
                if let Some(p) = m.priority {
                    values.push(("priority", Value::Int(p)));
                }
                if !values.is_empty() {
                    out.push(Step::Update { res: &TRUNK_GROUP_MEMBERS, key: Key::Id(rec.id), values });
                }
            }
        }
    }
    for m in members.iter().filter(|m| !existing.iter().any(|r| r.int(side.other()) == Some(m.id))) {
        let mut values = vec![
            (side.other(), Value::Int(m.id)),
            ("weight", Value::Int(m.weight.unwrap_or(0))),
            ("priority", Value::Int(m.priority.unwrap_or(0))),
        ];
        let from = match owner {
            Owner::Id(id) => {
                values.push((side.own(), Value::Int(id)));
                Vec::new()
            }
            Owner::New => vec![(side.own(), 0)],
        };
        out.push(Step::Insert { res: &TRUNK_GROUP_MEMBERS, values, from });
    }
    out
}

/// A store error of one step, as the error of the whole request.
fn unwrapped(e: StoreError) -> ApiError {
    match e {
        StoreError::Row { source, .. } => ApiError::from(*source),
        e => ApiError::from(e),
    }
}

/// `owner`'s memberships on `side` as its GET shows them: the other side's
/// id and name, with weight and priority (and a group's strategy).
pub async fn shown(cx: &Cx<'_>, side: Side, owner: i64) -> Result<Json, ApiError> {
    let mut out = Vec::new();
    for rec in current(cx, side, owner).await? {
        let id = rec.int(side.other()).unwrap_or_default();
        let Some(other) = cx.state.db.find(side.target(), cx.scope, &[Filter::eq("id", id)]).await? else {
            continue;
        };
        let mut item = json!({
            "id": id,
            "name": other.text("name"),
            "weight": rec.int("weight").unwrap_or(0),
            "priority": rec.int("priority").unwrap_or(0),
        });
        if let Side::Trunk = side {
            item["strategy"] = json!(other.text("strategy"));
        }
        out.push(item);
    }
    Ok(Json::Array(out))
}

/// Creates a record of `side`'s own resource from `values`, with the
/// memberships `body` lists (checked first), in one transaction.
pub async fn create_owner(cx: &Cx<'_>, side: Side, values: Values, body: &Json) -> Result<Record, ApiError> {
    let members = read(cx, side, body).await?;
    crate::crud::within_quota(cx.state, side.owner(), cx.scope).await?;
    let mut all = vec![Step::Insert { res: side.owner(), values, from: Vec::new() }];
    all.extend(steps(side, Owner::New, &[], members.as_deref().unwrap_or_default()));
    let ids = cx.state.db.transact(cx.scope, &all, cx.state.now()).await.map_err(unwrapped)?;
    let id = ids.first().copied().ok_or_else(|| ApiError::internal("no record made"))?;
    Ok(cx.state.db.get(side.owner(), cx.scope, &Key::Id(id)).await?)
}

/// Writes `values` over `rec` of `side`'s own resource and, when `body`
/// lists memberships (checked first), makes them its memberships, in one
/// transaction.
pub async fn update_owner(
    cx: &Cx<'_>,
    side: Side,
    rec: &Record,
    values: Values,
    body: &Json,
) -> Result<(), ApiError> {
    let members = read(cx, side, body).await?;
    let mut all = vec![Step::Update { res: side.owner(), key: Key::Id(rec.id), values }];
    if let Some(members) = members {
        let existing = current(cx, side, rec.id).await?;
        all.extend(steps(side, Owner::Id(rec.id), &existing, &members));
    }
    cx.state.db.transact(cx.scope, &all, cx.state.now()).await.map_err(unwrapped)?;
    Ok(())
}
