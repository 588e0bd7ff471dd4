//! Black/white lists at `/api/blacklists` (`list_type` 0 black, 1 white;
//! `limit_user_type` 0 caller, 1 callee, 2 both), and
//! `/api/blacklists/import`, which makes lists and their numbers from
//! spreadsheet rows. Deleting a list deletes its numbers and is refused
//! while a route names it (store links).

use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::{BLACKLISTS, PARAMS};
use store::{given, Filter, Key, Record, Step, StoreError, Value, Values};

use super::numbers;
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, register, values, PbxSpec};
use crate::crud::{Cx, Plain};
use crate::error::ApiError;
use crate::extract::Json as Body;
use crate::input::{Casing, Input};
use crate::pbx::import::Columns;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

const FIELDS: &[&str] = &["name", "description", "list_type", "limit_user_type"];

/// The two fields that say what a list does.
const KINDS: [&str; 2] = ["list_type", "limit_user_type"];

static SPEC: PbxSpec =
    PbxSpec { res: &BLACKLISTS, create: FIELDS, update: FIELDS, filters: &[], parent: None, rules: &Plain };

/// The seed's import columns: a list, and one of its numbers.
const COLUMNS: Columns = Columns {
    key: "lists",
    map: &[
        ("名称", "name"),
        ("描述", "description"),
        ("名单类型", "list_type"),
        ("限制用户类型", "limit_user_type"),
        ("号码名称", "k"),
        ("起始号码", "v"),
    ],
};

/// A list an import names: one that exists, or one to make.
struct Planned {
    name: String,
    existing: Option<Record>,
    values: Values,
}

impl Planned {
    fn kind(&self, field: &str) -> Option<i64> {
        match &self.existing {
            Some(rec) => rec.int(field),
            None => given(&self.values, field).as_int(),
        }
    }
}

/// Reads the rows into the lists they name (in order of first mention)
/// and their numbers (by list index), checking every row before anything
/// is written.
async fn plan(cx: &Cx<'_>, rows: &[Json]) -> Result<(Vec<Planned>, Vec<(usize, Values)>), ApiError> {
    let mut lists: Vec<Planned> = Vec::new();
    let mut numbers = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let in_row = |e| COLUMNS.in_row(index, e);
        let mut input = Input::new(row, Casing::Snake).map_err(in_row)?;
        let given_list = input.fields(&BLACKLISTS, FIELDS, false);
        input.finish().map_err(in_row)?;
        let name = match given(&given_list, "name") {
            Value::Text(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => return Err(in_row(ApiError::field("name", "is required"))),
        };
        let at = match lists.iter().position(|l| l.name == name) {
            Some(at) => at,
            None => {
                let found =
                    cx.state.db.find(&BLACKLISTS, cx.scope, &[Filter::eq("name", name.as_str())]).await?;
                let planned = match found {
                    Some(rec) => Planned { name, existing: Some(rec), values: Vec::new() },
                    None => {
                        let values = values(cx, &SPEC, row, None).await.map_err(in_row)?;
                        Planned { name, existing: None, values }
                    }
                };
                lists.push(planned);
                lists.len() - 1
            }
        };
        for field in KINDS {
            let have = lists[at].kind(field);
            if let Some(v) = given(&given_list, field).as_int().filter(|v| Some(*v) != have) {
                let have = have.map_or_else(String::new, |h| h.to_string());
                let message = format!("is {v}, but list '{}' has {have}", lists[at].name);
                return Err(in_row(ApiError::field(field, message)));
            }
        }
        let present = |k: &str| row.get(k).is_some_and(|v| !v.is_null());
        if present("k") || present("v") {
            let mut number = row.clone();
            if !present("k") {
                number["k"] = number["v"].clone();
            }
            let values = values(cx, &numbers::SPEC, &number, None).await.map_err(in_row)?;
            numbers.push((at, values));
        }
    }
    Ok((lists, numbers))
}

/// `POST /api/blacklists/import`: makes the lists the rows name (reusing
/// a list that already has the name) and adds the rows' numbers, all or
/// none; answers the lists.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let rows = COLUMNS.rows(&body, &[&BLACKLISTS, &PARAMS])?;
    let (lists, numbers) = plan(&cx, &rows).await?;
    // The new lists and every number, in one transaction: a list made
    // here is step `i` for the numbers that go in it.
    let mut steps = Vec::new();
    let mut at_step = Vec::with_capacity(lists.len());
    for l in &lists {
        match &l.existing {
            Some(_) => at_step.push(None),
            None => {
                at_step.push(Some(steps.len()));
                steps.push(Step::Insert { res: &BLACKLISTS, values: l.values.clone(), from: Vec::new() });
            }
        }
    }
    let first_number = steps.len();
    for (at, values) in numbers {
        let step = match (&lists[at].existing, at_step[at]) {
            (Some(rec), _) => {
                Step::Insert { res: &PARAMS, values: numbers::stored(rec.id, values), from: Vec::new() }
            }
            (None, Some(list)) => Step::Insert {
                res: &PARAMS,
                values: numbers::stored(0, values),
                from: vec![("ref_id", list)],
            },
            (None, None) => return Err(ApiError::internal("list not planned")),
        };
        steps.push(step);
    }
    let ids = state.db.transact(cx.scope, &steps, state.now()).await.map_err(|e| match e {
        // A number's failure is named by its row among the numbers.
        StoreError::Row { index, source } if index >= first_number => {
            COLUMNS.store_error(StoreError::Row { index: index - first_number, source })
        }
        e => COLUMNS.store_error(e),
    })?;
    let mut made = Vec::with_capacity(lists.len());
    for (l, step) in lists.into_iter().zip(at_step) {
        match (l.existing, step) {
            (Some(rec), _) => made.push((rec, false)),
            (None, Some(i)) => {
                let id = ids.get(i).copied().ok_or_else(|| ApiError::internal("list not created"))?;
                made.push((state.db.get(&BLACKLISTS, cx.scope, &Key::Id(id)).await?, true));
            }
            (None, None) => return Err(ApiError::internal("list not planned")),
        }
    }
    let data: Vec<Json> = made
        .iter()
        .map(|(rec, _)| {
            json!({
                "list_type": rec.int("list_type"),
                "name": rec.text("name"),
                "limit_user_type": rec.int("limit_user_type"),
                "description": rec.text("description"),
                "id": rec.id,
            })
        })
        .collect();
    Ok(ok(Json::Array(data)))
}

/// The black/white list routes.
pub fn routes() -> Api {
    let api = Api::new()
        .post(
            "/api/blacklists/import",
            "Import black/white lists and their numbers (all or none)",
            Doc::Props(&[("lists", "array")]),
            import,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_rows));
    register(api, "/api/blacklists", &SPEC)
}
