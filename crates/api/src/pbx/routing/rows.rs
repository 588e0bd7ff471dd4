//! What the dial-plan endpoints share: bodies of one or several rows, ids
//! in bodies, text fields that may come as numbers, link checks, and
//! several-row updates that change all rows or none.

use std::collections::HashSet;

use serde_json::{json, Value as Json};
use store::{Filter, Key, Kind, Op, Operand, Record, Resource, Scope, StoreError, Value, Values};

use crate::crud::values::{after, after_text};
use crate::crud::Cx;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::state::AppState;

/// The rules' view of a PBX request in `scope`.
pub fn cx(state: &AppState, scope: Scope) -> Cx<'_> {
    Cx { state, scope, dialect: Dialect::Pbx }
}

/// `{"code":200,"message":"ok","data":...}`, the answer of the time
/// recurrence endpoints.
pub fn ok(data: Json) -> axum::Json<Json> {
    axum::Json(json!({"code": 200, "message": "ok", "data": data}))
}

/// The rows of a body that is an array of objects or one object, and
/// whether it was an array.
pub fn rows(body: &Json) -> Result<(Vec<&Json>, bool), ApiError> {
    match body {
        Json::Array(items) if items.is_empty() => Err(ApiError::invalid("the body holds no rows")),
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    return Err(ApiError::invalid(format!("row {}: must be a JSON object", i + 1)));
                }
            }
            Ok((items.iter().collect(), true))
        }
        Json::Object(_) => Ok((vec![body], false)),
        _ => Err(ApiError::invalid("the body must be a JSON object or an array of objects")),
    }
}

/// `err`, naming the row (counted from 1) it is about.
pub fn in_row(index: usize, err: ApiError) -> ApiError {
    ApiError { message: format!("row {}: {}", index + 1, err.message), ..err }
}

/// An id as bodies send it: an integer or a string holding one.
pub fn id_of(raw: &Json) -> Option<i64> {
    match raw {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The ids of a body such as `[1, "2", 3]`, each with its value as sent.
pub fn id_list(body: &Json) -> Result<Vec<(i64, Json)>, ApiError> {
    let items = body.as_array().ok_or_else(|| ApiError::invalid("the body must be an array of ids"))?;
    if items.is_empty() {
        return Err(ApiError::invalid("the body holds no ids"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            id_of(raw)
                .map(|id| (id, raw.clone()))
                .ok_or_else(|| ApiError::invalid(format!("row {}: {raw} is not an id", i + 1)))
        })
        .collect()
}

/// The `id` of a row, required.
pub fn row_id(row: &Json) -> Result<(i64, Json), ApiError> {
    match row.get("id") {
        None | Some(Json::Null) => Err(ApiError::field("id", "is required")),
        Some(raw) => {
            id_of(raw).map(|id| (id, raw.clone())).ok_or_else(|| ApiError::field("id", "must be an id"))
        }
    }
}

/// The record of `res` that row `index` names by its `id`, with the id as
/// sent; a missing, malformed or unknown id names the row.
pub async fn row_record(
    cx: &Cx<'_>,
    res: &Resource,
    index: usize,
    row: &Json,
) -> Result<(Record, Json), ApiError> {
    let (id, raw) = row_id(row).map_err(|e| in_row(index, e))?;
    let rec = cx.state.db.get(res, cx.scope, &Key::Id(id)).await.map_err(|e| in_row(index, e.into()))?;
    Ok((rec, raw))
}

/// A text field that may also be sent as a number (ids, prefixes,
/// values): `None` when absent; null reads as "".
pub fn scalar_text(body: &Json, name: &str) -> Result<Option<Value>, ApiError> {
    match body.get(name) {
        None => Ok(None),
        Some(Json::Null) => Ok(Some(Value::Text(String::new()))),
        Some(Json::String(s)) => Ok(Some(Value::Text(s.trim().to_owned()))),
        Some(Json::Number(n)) => Ok(Some(Value::Text(n.to_string()))),
        Some(_) => Err(ApiError::field(name, "must be a string or a number")),
    }
}

/// Checks every link of `res` that applies after writing `values` over
/// `current`, and returns the records they name, by field.
pub async fn check_links(
    cx: &Cx<'_>,
    res: &Resource,
    values: &Values,
    current: Option<&Record>,
) -> Result<Vec<(&'static str, Record)>, ApiError> {
    let mut found = Vec::new();
    for link in res.links {
        let (when, allowed) = link.when;
        let applies =
            when.is_empty() || after(values, current, when).as_str().is_some_and(|v| allowed.contains(&v));
        let target = after_text(values, current, link.field);
        if !applies || target.trim().is_empty() {
            continue;
        }
        let table = store::schema::by_table(link.table).ok_or_else(|| ApiError::internal(link.table))?;
        let dangling =
            || ApiError::field(link.field, format!("refers to a {} that does not exist", table.label));
        let id: i64 = match target.trim().parse() {
            Ok(id) => id,
            // A trunk group may be named by one of its route codes, which
            // the router follows at call time.
            Err(_) if link.table == "trunk_groups" => {
                let code = [Filter::eq("code", target.trim())];
                match cx.state.db.find(&store::schema::ROUTE_CODES, cx.scope, &code).await? {
                    Some(rc) => rc.int("tg_id").ok_or_else(dangling)?,
                    None => return Err(dangling()),
                }
            }
            Err(_) => return Err(dangling()),
        };
        match cx.state.db.get(table, cx.scope, &Key::Id(id)).await {
            Ok(rec) => found.push((link.field, rec)),
            Err(StoreError::NotFound(_)) => return Err(dangling()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(found)
}

/// Checks, without writing, that writing `values` over `current` keeps
/// unique fields unique and references valid.
pub async fn check_row(
    cx: &Cx<'_>,
    res: &Resource,
    values: &Values,
    current: Option<&Record>,
) -> Result<(), ApiError> {
    for (name, value) in values.iter().filter(|(_, v)| *v != Value::Null) {
        let Some(field) = res.field(name) else { continue };
        if field.unique {
            let mut filters = vec![Filter::eq(field.name, value.clone())];
            if let Some(own) = current {
                filters.push(Filter { column: "id", op: Op::Ne, operand: Operand::One(Value::Int(own.id)) });
            }
            if cx.state.db.find(res, cx.scope, &filters).await?.is_some() {
                return Err(StoreError::Duplicate { resource: res.label, field: field.name }.into());
            }
        }
        if let Kind::Ref(table) = field.kind {
            let target = store::schema::by_table(table).ok_or_else(|| ApiError::internal(table))?;
            let missing = StoreError::DanglingRef { field: field.name, target: target.label };
            let id = value.as_int().ok_or_else(|| ApiError::from(missing))?;
            match cx.state.db.get(target, cx.scope, &Key::Id(id)).await {
                Ok(_) => {}
                Err(StoreError::NotFound(_)) => {
                    return Err(StoreError::DanglingRef { field: field.name, target: target.label }.into())
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    check_links(cx, res, values, current).await?;
    Ok(())
}

/// Changes several records, all or none: every row is checked first
/// (unique values, also among the rows, and references), and the first
/// wrong one is named by its index.
pub async fn update_all(
    cx: &Cx<'_>,
    res: &Resource,
    rows: Vec<(Record, Values)>,
) -> Result<Vec<Record>, ApiError> {
    let mut seen: HashSet<(&'static str, String)> = HashSet::new();
    let mut ids = HashSet::new();
    for (i, (rec, values)) in rows.iter().enumerate() {
        if !ids.insert(rec.id) {
            return Err(in_row(i, ApiError::field("id", format!("{} {} is given twice", res.label, rec.id))));
        }
        for (name, value) in values {
            let unique = res.field(name).is_some_and(|f| f.unique) && *value != Value::Null;
            if unique && !seen.insert((name, format!("{value:?}"))) {
                let dup = StoreError::Duplicate { resource: res.label, field: name };
                return Err(in_row(i, dup.into()));
            }
        }
        check_row(cx, res, values, Some(rec)).await.map_err(|e| in_row(i, e))?;
    }
    let mut done = Vec::with_capacity(rows.len());
    for (rec, values) in rows {
        done.push(cx.state.db.update(res, cx.scope, &Key::Id(rec.id), values, cx.state.now()).await?);
    }
    Ok(done)
}

/// The records of `res` with the given ids, or 404 naming the first
/// missing one.
pub async fn existing(cx: &Cx<'_>, res: &Resource, ids: &[(i64, Json)]) -> Result<Vec<Record>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for (id, _) in ids {
        match cx.state.db.get(res, cx.scope, &Key::Id(*id)).await {
            Ok(rec) => out.push(rec),
            Err(StoreError::NotFound(_)) => return Err(ApiError::not_found(&format!("{} {id}", res.label))),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}
