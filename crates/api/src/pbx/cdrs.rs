//! Call records in the PBX dialect, one row per leg, newest first:
//!
//! - `GET /api/cdrs`: a page (`page`, `perPage`, `sortField`, `sortOrder`,
//!   `searchField`, `searchKey`) in `{page, pageCount, rowCount, data}`,
//!   filtered by any field of a record (`src=2001`, `direction=TO_PSTN`,
//!   `leg=B`...) and by `start_date`/`end_date` (the call's start, from and
//!   up to, `YYYY-MM-DD[ HH:MM:SS]` or RFC 3339), `status` (the hangup
//!   cause), `uuid` (a leg's id) and `call_uuid` (the call's id); an
//!   unknown parameter is refused, never ignored;
//! - `GET /api/cdrs/{uuid}`: one record by its leg's id (the caller's leg
//!   has the call's id), or by the record's id.
//!
//! Each row holds the record's fields (`src`/`dst` as translated,
//! `src_dialled`/`dst_dialled` as dialled) with `uuid` (the leg's id),
//! `call_uuid` (the call's) and `recording_url` (the recording's download
//! path, empty when the leg was not recorded).

use axum::extract::{RawQuery, State};
use serde_json::{json, Map, Value as Json};
use store::schema::CDRS;
use store::{Filter, Kind, Op, Operand, Record, Scope, Value};

use crate::auth::{Caller, Role};
use crate::crud::pbx::{paging, query_pairs};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::Path;
use crate::input::{convert, parse_time};
use crate::list::pbx_page;
use crate::routes::{Api, Filters, QueryParam, Reply};
use crate::service::cdrs::leg_id;
use crate::state::AppState;
use crate::view::render;

/// The paging parameters (read by [`paging`]).
const PAGING: &[&str] = &["page", "perPage", "sortField", "sortOrder", "searchField", "searchKey"];

/// The filters of the list besides the records' fields.
const FILTERS: &[QueryParam] = &[
    QueryParam { name: "start_date", kind: Kind::Time, description: "calls that started at or after this" },
    QueryParam { name: "end_date", kind: Kind::Time, description: "calls that started at or before this" },
    QueryParam { name: "from", kind: Kind::Time, description: "start_date by another name" },
    QueryParam { name: "to", kind: Kind::Time, description: "end_date by another name" },
    QueryParam { name: "status", kind: Kind::Text, description: "the hangup cause (NORMAL_CLEARING...)" },
    QueryParam { name: "uuid", kind: Kind::Text, description: "the leg's id" },
    QueryParam { name: "call_uuid", kind: Kind::Text, description: "the call's id" },
];

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .get("/api/cdrs", "List call records, one per leg (filters on every field)", list)
        .reply(Reply::Page(&CDRS))
        .filters(Filters { fields: &CDRS, extra: FILTERS })
        .get("/api/cdrs/{uuid}", "Get a call record by its leg's uuid, its call's uuid or its id", get_one)
        .reply(Reply::Record(&CDRS))
}

/// A leg's record as the PBX shows it.
pub fn view(rec: &Record) -> Map<String, Json> {
    let mut out = render(Dialect::Pbx, &CDRS, rec);
    out.insert("uuid".into(), json!(leg_id(rec)));
    out.insert("call_uuid".into(), json!(rec.text("call_ref")));
    let url = match rec.text("recording") {
        "" => String::new(),
        name => super::recordings::download_path(name),
    };
    out.insert("recording_url".into(), json!(url));
    out
}

/// A time parameter, as a bound on the call's start.
fn time_bound(name: &str, raw: &str, op: Op) -> Result<Filter, ApiError> {
    let ms = parse_time(raw.trim()).ok_or_else(|| {
        ApiError::field(name, "must be a date: YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339")
    })?;
    Ok(Filter { column: "calldate", op, operand: Operand::One(Value::Int(ms)) })
}

/// The filters of the query string's `pairs` (the paging ones aside).
fn filters(pairs: &[(String, String)]) -> Result<Vec<Filter>, ApiError> {
    let mut out = Vec::new();
    for (name, raw) in pairs {
        let column = match name.as_str() {
            n if PAGING.contains(&n) => continue,
            "start_date" | "from" => {
                out.push(time_bound(name, raw, Op::Gte)?);
                continue;
            }
            "end_date" | "to" => {
                out.push(time_bound(name, raw, Op::Lte)?);
                continue;
            }
            "status" => "hangup_cause",
            "uuid" => "leg_ref",
            "call_uuid" => "call_ref",
            other => other,
        };
        let Some(field) = CDRS.field(column) else {
            let known: Vec<&str> = CDRS.fields.iter().map(|f| f.name).collect();
            return Err(ApiError::field(
                name,
                format!(
                    "is not a filter; filter by start_date, end_date, status, uuid, call_uuid or a field ({})",
                    known.join(", ")
                ),
            ));
        };
        let value = convert(&Json::String(raw.clone()), field.kind).map_err(|m| ApiError::field(name, m))?;
        out.push(Filter::eq(field.name, value));
    }
    Ok(out)
}

/// `GET /api/cdrs`.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = Scope::Workspace(caller.require(Role::Member)?.id);
    let pairs = query_pairs(raw.as_deref())?;
    let filters = filters(&pairs)?;
    let mut paging = paging(&pairs)?;
    // Newest first unless asked otherwise.
    if paging.sort_field.is_none() {
        paging.sort_field = Some("calldate".into());
        paging.sort_order = Some("desc".into());
    }
    let page = pbx_page(&state.db, &CDRS, scope, filters, &paging).await?;
    let data = page.records.iter().map(|r| Json::Object(view(r))).collect();
    Ok(axum::Json(page.envelope(data)))
}

/// `GET /api/cdrs/{uuid}`: by the record's id, else by a leg's uuid.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = Scope::Workspace(caller.require(Role::Member)?.id);
    let id = id.trim();
    let rec = match id.parse::<i64>() {
        Ok(n) => state.db.find(&CDRS, scope, &[Filter::eq("id", n)]).await?,
        Err(_) => None,
    };
    let rec = match rec {
        Some(r) => Some(r),
        None => state.db.find(&CDRS, scope, &[Filter::eq("leg_ref", id)]).await?,
    };
    let rec = rec.ok_or_else(|| ApiError::not_found(CDRS.label))?;
    Ok(axum::Json(Json::Object(view(&rec))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn every_field_and_the_aliases_filter() {
        let f = filters(&pairs(&[
            ("src", "2001"),
            ("leg", "B"),
            ("status", "USER_BUSY"),
            ("uuid", "u"),
            ("start_date", "2026-01-01"),
            ("page", "2"),
        ]))
        .unwrap();
        let columns: Vec<&str> = f.iter().map(|f| f.column).collect();
        assert_eq!(columns, ["src", "leg", "hangup_cause", "leg_ref", "calldate"]);
        assert_eq!(f[4].op, Op::Gte);
    }

    #[test]
    fn unknown_parameters_and_bad_values_are_refused() {
        assert!(filters(&pairs(&[("nope", "1")])).is_err());
        assert!(filters(&pairs(&[("start_date", "yesterday")])).is_err());
        assert!(filters(&pairs(&[("billsec", "ten")])).is_err());
        assert!(filters(&pairs(&[("leg", "C")])).is_err());
    }
}
