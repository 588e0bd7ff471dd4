//! DID hotlines at `/api/hotlines`: rows of the numbers table, which the
//! Fonoster dialect serves as its numbers. `line_number` is the DID,
//! `numbers` the extension(s) its calls ring; the Fonoster-only columns
//! are left out of the PBX view.

use store::schema::NUMBERS;

use crate::crud::pbx::{register, PbxSpec};
use crate::pbx::check;
use crate::pbx::checked::Checked;
use crate::routes::Api;

const FIELDS: &[&str] = &["line_number", "numbers", "description", "type", "ref_id"];

/// Columns of the shared table that only the Fonoster dialect shows.
const FONOSTER_ONLY: &[&str] =
    &["name", "city", "country", "country_iso_code", "application_id", "agent_id", "trunk_id"];

static SPEC: PbxSpec = PbxSpec {
    res: &NUMBERS,
    create: FIELDS,
    update: FIELDS,
    filters: &["numbers", "line_number"],
    parent: None,
    rules: &Checked {
        checks: &[("line_number", check::phone_number), ("numbers", check::extensions)],
        hidden: FONOSTER_ONLY,
        flags: &[],
    },
};

/// The hotline routes: list (filters `numbers`, `line_number`), create,
/// get, update, delete.
pub fn routes() -> Api {
    register(Api::new(), "/api/hotlines", &SPEC)
}
