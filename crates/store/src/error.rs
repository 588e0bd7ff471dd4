//! The store's one error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record answers to the key in this scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique field already holds this value.
    #[error("{resource} with this {field} already exists")]
    Duplicate {
        /// The resource's label.
        resource: &'static str,
        /// The field whose value is taken.
        field: &'static str,
    },
    /// A reference field names a record that does not exist here.
    #[error("{field} refers to a {target} that does not exist")]
    DanglingRef {
        /// The referencing field.
        field: &'static str,
        /// The label of the resource it should name.
        target: &'static str,
    },
    /// A text is longer than its field allows.
    #[error("{field} is too long (at most {max} characters)")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The most characters it takes.
        max: usize,
    },
    /// The record is still referenced by another and cannot be deleted.
    #[error("{resource} is still used by {referrer}")]
    InUse {
        /// The label of the record being deleted.
        resource: &'static str,
        /// What refers to it, as "<label> <ref>".
        referrer: String,
    },
    /// One row of a several-row write failed; nothing was written.
    #[error("row {index}: {source}")]
    Row {
        /// The row's index, from 0.
        index: usize,
        /// What was wrong with it.
        source: Box<StoreError>,
    },
    /// The database URL or file could not be used.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// The database said no.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether the database rejected a row for breaking a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}
