//! Blocks: stored call flows, served by the generic PBX endpoints.

use store::schema::BLOCKS;

use crate::crud::pbx::{register, PbxSpec};
use crate::crud::Plain;
use crate::routes::Api;

const BLOCK_FIELDS: &[&str] = &["name", "description", "xml", "js", "lua", "ver", "ivr_menu_id"];

static BLOCK: PbxSpec = PbxSpec {
    res: &BLOCKS,
    create: BLOCK_FIELDS,
    update: BLOCK_FIELDS,
    filters: &[],
    parent: None,
    rules: &Plain,
};

/// Their routes.
pub fn routes() -> Api {
    register(Api::new(), "/api/blocks", &BLOCK)
}
