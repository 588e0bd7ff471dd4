//! The shared service layer: what the dialects do, whatever their wire.

pub mod calls;
pub mod cdrs;
pub mod control;
pub mod identity;
pub mod webhooks;
