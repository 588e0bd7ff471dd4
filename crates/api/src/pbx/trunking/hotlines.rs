//! DID hotlines at `/api/hotlines`: rows of the numbers table, which the
//! Fonoster dialect serves as its numbers. `line_number` is the DID,
//! `numbers` the extension(s) its calls ring; the Fonoster-only columns
//! are left out of the PBX view.

use async_trait::async_trait;
use serde_json::{Map, Value as Json};
use store::schema::NUMBERS;
use store::Record;

use crate::crud::pbx::{register, PbxSpec};
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::pbx::check;
use crate::routes::Api;

const FIELDS: &[&str] = &["line_number", "numbers", "description", "type", "ref_id"];

/// Columns of the shared table that only the Fonoster dialect shows.
const FONOSTER_ONLY: &[&str] = &["name", "city", "country", "country_iso_code", "application_id", "agent_id"];

static SPEC: PbxSpec = PbxSpec {
    res: &NUMBERS,
    create: FIELDS,
    update: FIELDS,
    filters: &["numbers", "line_number"],
    parent: None,
    rules: &HotlineRules,
};

struct HotlineRules;

#[async_trait]
impl Rules for HotlineRules {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        _body: &Json,
        values: &mut store::Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        check::run(values, &[("line_number", check::phone_number), ("numbers", check::extensions)])
    }

    async fn view(&self, _cx: &Cx<'_>, _rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        for name in FONOSTER_ONLY {
            out.remove(*name);
        }
        Ok(())
    }
}

/// The hotline routes: list (filters `numbers`, `line_number`), create,
/// get, update, delete.
pub fn routes() -> Api {
    register(Api::new(), "/api/hotlines", &SPEC)
}
