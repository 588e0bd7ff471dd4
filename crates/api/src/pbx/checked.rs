//! Rules made only of data, for PBX resources that need nothing more:
//! text checks on write; on read, columns of other dialects hidden and
//! 0/1 columns shown as JSON booleans.

use async_trait::async_trait;
use serde_json::{Map, Value as Json};
use store::{Record, Values};

use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::pbx::check::{self, Check};

/// A resource's checks and view changes, as data.
pub struct Checked {
    /// Checks of text fields, run on every create and update.
    pub checks: &'static [(&'static str, Check)],
    /// Columns of the shared table that the PBX does not show.
    pub hidden: &'static [&'static str],
    /// Columns shown as JSON booleans (1 is `true`).
    pub flags: &'static [&'static str],
}

#[async_trait]
impl Rules for Checked {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        _body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        check::run(values, self.checks)
    }

    async fn view(&self, _cx: &Cx<'_>, rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        for name in self.hidden {
            out.remove(*name);
        }
        for name in self.flags {
            out.insert((*name).to_owned(), Json::Bool(rec.int(name) == Some(1)));
        }
        Ok(())
    }
}
