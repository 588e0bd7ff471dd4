//! What a list asks for: filters, order and a page.

use crate::{Record, Value};

/// A comparison of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// One of a list.
    In,
    /// Matches a pattern with `%` (any run) and `_` (one character),
    /// ignoring case.
    Like,
    /// Does not match such a pattern.
    NotLike,
}

/// The right-hand side of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// One value.
    One(Value),
    /// Several values, for `In`.
    Many(Vec<Value>),
}

/// One condition on a column; the column name must come from the
/// resource's description, never from the wire unchecked.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The column.
    pub column: &'static str,
    /// The comparison.
    pub op: Op,
    /// What to compare with.
    pub operand: Operand,
}

impl Filter {
    /// `column = value`.
    pub fn eq(column: &'static str, value: impl Into<Value>) -> Filter {
        Filter { column, op: Op::Eq, operand: Operand::One(value.into()) }
    }
}

/// A sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// The column.
    pub column: &'static str,
    /// Whether largest first.
    pub descending: bool,
}

/// A list request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// All must hold.
    pub filters: Vec<Filter>,
    /// Sort order; by id when not given. Ties are broken by id.
    pub order: Option<Order>,
    /// Only records whose id is greater (keyset paging by id).
    pub after_id: Option<i64>,
    /// At most this many records; all when `None`.
    pub limit: Option<u64>,
    /// Skip this many records first.
    pub offset: u64,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records of the page.
    pub records: Vec<Record>,
    /// How many records match the filters, over all pages.
    pub total: u64,
}
