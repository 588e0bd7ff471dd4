//! Imports: rows parsed from a spreadsheet, keyed by its column headings
//! (the seed's are Chinese: `中继名称`, `分机`...), read as creates of a
//! resource and written all or none. The first bad row is named.

use serde_json::{Map, Value as Json};
use store::{Kind, Record, Resource, StoreError, Values};

use crate::crud::pbx::{values, PbxSpec};
use crate::crud::Cx;
use crate::error::{ApiError, ErrorKind, FieldError};

/// How the rows of one import are read.
pub struct Columns {
    /// The body key that holds the rows (`trunks`, `dods`, `lists`).
    pub key: &'static str,
    /// Each heading with the field it fills.
    pub map: &'static [(&'static str, &'static str)],
}

impl Columns {
    /// The heading of `field`, or the field's own name.
    fn heading<'a>(&self, field: &'a str) -> &'a str {
        self.map.iter().find(|(_, f)| *f == field).map_or(field, |(h, _)| h)
    }

    /// The rows under the body's key, each with its headings renamed to
    /// fields (of `res`, or of any of them). A field's own name is accepted
    /// as a heading too; other keys (an export's id or time columns) are
    /// left out. A number in a text column becomes text, as spreadsheets
    /// store `1001`.
    pub fn rows(&self, body: &Json, res: &[&Resource]) -> Result<Vec<Json>, ApiError> {
        let rows = match body.get(self.key) {
            Some(Json::Array(rows)) if !rows.is_empty() => rows,
            Some(Json::Array(_)) => return Err(ApiError::field(self.key, "has no rows")),
            Some(_) => return Err(ApiError::field(self.key, "must be an array of rows")),
            None => return Err(ApiError::field(self.key, "is required")),
        };
        rows.iter()
            .enumerate()
            .map(|(index, row)| {
                let row = row.as_object().ok_or_else(|| {
                    self.in_row(index, ApiError::invalid("must be an object of column: value"))
                })?;
                let mut out = Map::new();
                for (heading, field) in self.map {
                    let raw = row.get(*heading).or_else(|| row.get(*field));
                    let Some(raw) = raw else { continue };
                    let text_field = res.iter().any(|r| r.field(field).is_some_and(|f| f.kind == Kind::Text));
                    let value = match raw {
                        Json::Number(n) if text_field => Json::String(n.to_string()),
                        other => other.clone(),
                    };
                    out.insert((*field).to_owned(), value);
                }
                Ok(Json::Object(out))
            })
            .collect()
    }

    /// `err`, found in row `index` (from 0): "row N: ..." with the fields
    /// named by their headings.
    pub fn in_row(&self, index: usize, err: ApiError) -> ApiError {
        let row = index + 1;
        if err.kind != ErrorKind::InvalidArgument || err.details.is_empty() {
            return ApiError { message: format!("row {row}: {}", err.message), ..err };
        }
        let details: Vec<FieldError> = err
            .details
            .iter()
            .map(|d| FieldError { field: self.heading(&d.field).to_owned(), message: d.message.clone() })
            .collect();
        let listed =
            details.iter().map(|d| format!("{}: {}", d.field, d.message)).collect::<Vec<_>>().join("; ");
        ApiError { message: format!("row {row}: {listed}"), details, ..err }
    }

    /// An error of the store about one row of a several-row write, named so.
    pub fn store_error(&self, err: StoreError) -> ApiError {
        match err {
            StoreError::Row { index, source } => self.in_row(index, ApiError::from(*source)),
            other => ApiError::from(other),
        }
    }
}

/// Reads every row as a create of `spec`, its rules included; `normalize`
/// first adjusts each row as the resource's create does.
pub async fn read_rows(
    cx: &Cx<'_>,
    spec: &PbxSpec,
    columns: &Columns,
    rows: &mut [Json],
    normalize: fn(&mut Json),
) -> Result<Vec<Values>, ApiError> {
    let mut out = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter_mut().enumerate() {
        normalize(row);
        out.push(values(cx, spec, row, None).await.map_err(|e| columns.in_row(index, e))?);
    }
    Ok(out)
}

/// Creates one record of `res` per row, all or none, within the
/// workspace's quota for `res`.
pub async fn insert_rows(
    cx: &Cx<'_>,
    res: &Resource,
    columns: &Columns,
    rows: Vec<Values>,
) -> Result<Vec<Record>, ApiError> {
    if let Some(name) = res.quota {
        if let Some(max) = cx.state.settings.quota(name) {
            let have = cx.state.db.count(res, cx.scope, &[]).await?;
            if have.saturating_add(rows.len() as u64) > max {
                return Err(ApiError::exhausted(
                    format!("quota reached: at most {max} {name} per workspace"),
                    None,
                ));
            }
        }
    }
    cx.state.db.insert_all(res, cx.scope, rows, cx.state.now()).await.map_err(|e| columns.store_error(e))
}

/// The whole import of `spec`'s resource from `body`: read, check, write.
pub async fn import(
    cx: &Cx<'_>,
    spec: &PbxSpec,
    columns: &Columns,
    body: &Json,
    normalize: fn(&mut Json),
) -> Result<Vec<Record>, ApiError> {
    let mut rows = columns.rows(body, &[spec.res])?;
    let values = read_rows(cx, spec, columns, &mut rows, normalize).await?;
    insert_rows(cx, spec.res, columns, values).await
}

/// Leaves a row as it is: for resources whose create reads the body as
/// sent.
pub fn as_sent(_: &mut Json) {}
