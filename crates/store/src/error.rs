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

    /// Whether the failure says nothing about the data and the same write
    /// may succeed later: the connection or its I/O failed, the pool had
    /// no connection in time, the database was busy, out of files, space
    /// or memory, or (PostgreSQL) shutting down or in a serialization
    /// conflict.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Row { source, .. } => source.is_transient(),
            StoreError::Database(
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed,
            ) => true,
            StoreError::Database(sqlx::Error::Database(e)) => e.code().is_some_and(|c| transient_code(&c)),
            _ => false,
        }
    }
}

/// PostgreSQL's SQLSTATEs (five characters) and SQLite's result codes
/// (decimal, the primary code in the low byte) that mean "not now"
/// rather than "not this".
fn transient_code(code: &str) -> bool {
    if code.len() != 5 {
        let Ok(n) = code.parse::<u32>() else { return false };
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_IOERR,
        // SQLITE_FULL, SQLITE_CANTOPEN.
        return matches!(n & 0xff, 5 | 6 | 7 | 10 | 13 | 14);
    }
    // Connection exceptions, insufficient resources, operator
    // intervention, serialization failure and deadlock.
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57")
        || code == "40001"
        || code == "40P01"
}

#[cfg(test)]
mod tests {
    use super::transient_code;

    #[test]
    fn busy_full_and_unopenable_files_are_transient_constraints_are_not() {
        for code in ["5", "517", "14", "13", "10", "3850", "08006", "53100", "57P01", "40001", "40P01"] {
            assert!(transient_code(code), "{code}");
        }
        for code in ["19", "2067", "1", "23505", "23503", "42P01", "", "x"] {
            assert!(!transient_code(code), "{code}");
        }
    }
}
