//! Speech engines.
