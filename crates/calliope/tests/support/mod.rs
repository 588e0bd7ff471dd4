//! Helpers shared by the integration tests of the `calliope` binary.
//!
//! Each test file that needs them says `mod support;`; not every file uses
//! every helper, hence `dead_code` is allowed here.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

pub mod baresip;
pub mod calliope;
pub mod calls;
pub mod events;
pub mod ua;
pub mod vonage;
pub mod webhooks;
