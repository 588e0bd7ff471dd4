//! Lists in each dialect's paging and envelope, over any resource, with
//! VoIPstudio's `filter` and `group_by` and the PBX search and sort.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use store::{Db, Filter, Kind, Op, Operand, Order, Query, Record, Resource, Scope};

use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::input::convert;

/// Renders one record of a list.
pub type Render<'a> = &'a (dyn Fn(&Record) -> Map<String, Json> + Sync);

/// Fonoster paging: `pageSize` and an opaque `pageToken`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FonosterPaging {
    /// Items per page (1 to 1000, default 20).
    pub page_size: Option<u64>,
    /// The `nextPageToken` of the page before.
    pub page_token: Option<String>,
}

/// A Fonoster list: `{items, nextPageToken}`, paged by id.
pub async fn fonoster(
    db: &Db,
    res: &Resource,
    scope: Scope,
    filters: Vec<Filter>,
    paging: &FonosterPaging,
    render: Render<'_>,
) -> Result<Json, ApiError> {
    let (records, next) = fonoster_page(db, res, scope, filters, paging).await?;
    let items: Vec<Json> = records.iter().map(|r| Json::Object(render(r))).collect();
    Ok(fonoster_envelope(items, next))
}

/// The envelope of a Fonoster list.
pub fn fonoster_envelope(items: Vec<Json>, next_page_token: String) -> Json {
    // Built by hand: `json!` would serialize the items into a copy.
    let mut out = Map::with_capacity(2);
    out.insert("items".to_owned(), Json::Array(items));
    out.insert("nextPageToken".to_owned(), Json::String(next_page_token));
    Json::Object(out)
}

/// One Fonoster page of records and the token of the next ("" at the end).
pub async fn fonoster_page(
    db: &Db,
    res: &Resource,
    scope: Scope,
    filters: Vec<Filter>,
    paging: &FonosterPaging,
) -> Result<(Vec<Record>, String), ApiError> {
    let query = fonoster_query(filters, paging)?;
    let mut records = db.select(res, scope, &query).await?;
    let next = fonoster_next(&mut records, &query, |r| r.id);
    Ok((records, next))
}

/// The query of one Fonoster page: the records after the page token, one
/// more than the page holds (to see whether another page follows).
pub fn fonoster_query(filters: Vec<Filter>, paging: &FonosterPaging) -> Result<Query, ApiError> {
    let size = paging.page_size.filter(|s| *s > 0).unwrap_or(20).min(1000);
    let after_id = match paging.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| ApiError::field("page_token", "is not a token this server gave"))?,
        ),
    };
    Ok(Query { filters, after_id, limit: Some(size + 1), ..Query::default() })
}

/// Drops the extra item that [`fonoster_query`] asked for and gives the
/// next page's token ("" when this page is the last).
pub fn fonoster_next<T>(items: &mut Vec<T>, query: &Query, id: impl Fn(&T) -> i64) -> String {
    let size = query.limit.unwrap_or(u64::MAX).saturating_sub(1);
    if items.len() as u64 > size {
        items.truncate(size as usize);
        items.last().map(|r| URL_SAFE_NO_PAD.encode(id(r).to_string())).unwrap_or_default()
    } else {
        String::new()
    }
}

/// PBX paging, search and sort.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PbxPaging {
    /// 1-based page number.
    pub page: Option<u64>,
    /// Rows per page (default 1000, at most 5000).
    pub per_page: Option<u64>,
    /// Column to sort by.
    pub sort_field: Option<String>,
    /// `asc` or `desc`.
    pub sort_order: Option<String>,
    /// Column to search in.
    pub search_field: Option<String>,
    /// Text it must contain.
    pub search_key: Option<String>,
}

/// One page of a PBX list.
#[derive(Debug)]
pub struct PbxPage {
    /// The records of the page.
    pub records: Vec<Record>,
    /// The 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Matching rows over all pages.
    pub row_count: u64,
}

impl PbxPage {
    /// `{page, pageCount, rowCount, data}` around the rendered records.
    pub fn envelope(&self, data: Vec<Json>) -> Json {
        json!({
            "page": self.page,
            "pageCount": self.row_count.div_ceil(self.per_page),
            "rowCount": self.row_count,
            "data": data,
        })
    }
}

/// A page of a PBX list, after `searchField`/`searchKey` and
/// `sortField`/`sortOrder`.
pub async fn pbx_page(
    db: &Db,
    res: &Resource,
    scope: Scope,
    mut filters: Vec<Filter>,
    paging: &PbxPaging,
) -> Result<PbxPage, ApiError> {
    let page = paging.page.unwrap_or(1).max(1);
    let per_page = paging.per_page.filter(|p| *p > 0).unwrap_or(1000).min(5000);
    if let (Some(field), Some(key)) = (&paging.search_field, &paging.search_key) {
        let column = column(res, field)?;
        filters.push(Filter { column, op: Op::Like, operand: Operand::One(format!("%{key}%").into()) });
    }
    let order = match &paging.sort_field {
        Some(f) => Some(Order {
            column: column(res, f)?,
            descending: paging.sort_order.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("desc")),
        }),
        None => None,
    };
    let offset = (page - 1).saturating_mul(per_page);
    let query = Query { filters, order, limit: Some(per_page), offset, ..Query::default() };
    let result = db.list(res, scope, &query).await?;
    Ok(PbxPage { records: result.records, page, per_page, row_count: result.total })
}

/// VoIPstudio pager, filters and grouping.
#[derive(Debug, Default, Deserialize)]
pub struct VoipPaging {
    /// 1-based page number.
    pub page: Option<u64>,
    /// Records per page, at most 5000.
    pub limit: Option<u64>,
    /// A JSON array of `{property, operator, value}`.
    pub filter: Option<String>,
    /// A property to group by.
    pub group_by: Option<String>,
    /// A property to sort by.
    pub sort: Option<String>,
    /// `ASC` or `DESC`.
    pub dir: Option<String>,
}

/// The most records VoIPstudio returns in one page.
pub const VOIP_MAX_LIMIT: u64 = 5000;

#[derive(Deserialize)]
struct FilterItem {
    property: String,
    operator: String,
    value: Json,
}

fn column(res: &Resource, name: &str) -> Result<&'static str, ApiError> {
    res.column(name).map(|c| c.name).ok_or_else(|| {
        ApiError::invalid(format!(
            "unknown property '{name}'; known: {}",
            res.column_names().collect::<Vec<_>>().join(", ")
        ))
    })
}

fn operator(name: &str) -> Result<Op, ApiError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "eq" | "=" => Op::Eq,
        "ne" | "neq" | "<>" | "!=" => Op::Ne,
        "lt" | "<" => Op::Lt,
        "lte" | "<=" => Op::Lte,
        "gt" | ">" => Op::Gt,
        "gte" | ">=" => Op::Gte,
        "in" => Op::In,
        "like" => Op::Like,
        "notlike" => Op::NotLike,
        _ => return Err(ApiError::invalid(format!("unknown filter operator '{name}'"))),
    })
}

/// Parses a VoIPstudio `filter` for `res`: each property must exist, each
/// value is converted to the property's type so comparisons are typed.
pub fn parse_filter(res: &Resource, text: &str) -> Result<Vec<Filter>, ApiError> {
    let items: Vec<FilterItem> = serde_json::from_str(text).map_err(|e| {
        ApiError::invalid(format!("filter must be a JSON array of {{property, operator, value}}: {e}"))
    })?;
    items
        .into_iter()
        .map(|item| {
            let name = column(res, &item.property)?;
            let kind = res.column(name).map_or(Kind::Text, |c| c.kind);
            let op = operator(&item.operator)?;
            let bad = |m: String| ApiError::invalid(format!("filter on '{}': value {m}", item.property));
            let operand = match op {
                Op::In => match &item.value {
                    Json::Array(vs) => Operand::Many(
                        vs.iter().map(|v| convert(v, kind)).collect::<Result<_, _>>().map_err(bad)?,
                    ),
                    _ => return Err(bad("must be an array for 'in'".into())),
                },
                Op::Like | Op::NotLike => match &item.value {
                    Json::String(s) => Operand::One(s.as_str().into()),
                    v => Operand::One(v.to_string().into()),
                },
                // Enum values compare as text; anything else by its type.
                _ => Operand::One(
                    convert(&item.value, if matches!(kind, Kind::Enum(_)) { Kind::Text } else { kind })
                        .map_err(bad)?,
                ),
            };
            Ok(Filter { column: name, op, operand })
        })
        .collect()
}

/// A VoIPstudio list: `{data, total}`; with `group_by`, one row per value
/// of the property, `{<property>: value, count}`.
pub async fn voipstudio(
    db: &Db,
    res: &Resource,
    scope: Scope,
    mut filters: Vec<Filter>,
    paging: &VoipPaging,
    render: Render<'_>,
) -> Result<Json, ApiError> {
    let limit = paging.limit.unwrap_or(50);
    if limit == 0 || limit > VOIP_MAX_LIMIT {
        return Err(ApiError::field("limit", format!("must be between 1 and {VOIP_MAX_LIMIT}")));
    }
    let page = paging.page.unwrap_or(1).max(1);
    if let Some(text) = paging.filter.as_deref().filter(|t| !t.trim().is_empty()) {
        filters.extend(parse_filter(res, text)?);
    }
    if let Some(group) = paging.group_by.as_deref().filter(|g| !g.is_empty()) {
        let col = column(res, group)?;
        let kind = res.column(col).map_or(Kind::Text, |c| c.kind);
        let groups = db.group(res, scope, &filters, col).await?;
        let total = groups.len();
        let data: Vec<Json> = groups
            .iter()
            .skip((page - 1).saturating_mul(limit).min(usize::MAX as u64) as usize)
            .take(limit as usize)
            .map(|(v, n)| json!({ col: crate::view::value(Dialect::VoipStudio, kind, v), "count": n }))
            .collect();
        return Ok(json!({"data": data, "total": total}));
    }
    let order = match &paging.sort {
        Some(s) => Some(Order {
            column: column(res, s)?,
            descending: paging.dir.as_deref().is_some_and(|d| d.eq_ignore_ascii_case("desc")),
        }),
        None => None,
    };
    let query = Query {
        filters,
        order,
        limit: Some(limit),
        offset: (page - 1).saturating_mul(limit),
        ..Query::default()
    };
    let result = db.list(res, scope, &query).await?;
    let data: Vec<Json> = result.records.iter().map(|r| Json::Object(render(r))).collect();
    Ok(json!({"data": data, "total": result.total}))
}
