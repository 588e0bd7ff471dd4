//! The Fonoster v1beta2 messages and services, generated at build time
//! from `proto/*.proto` (see `build.rs`).

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// `fonoster.identity.v1beta2`: tokens, workspaces, members, users, API keys.
pub mod identity {
    tonic::include_proto!("fonoster.identity.v1beta2");
}
/// `fonoster.applications.v1beta2`.
pub mod applications {
    tonic::include_proto!("fonoster.applications.v1beta2");
}
/// `fonoster.calls.v1beta2`.
pub mod calls {
    tonic::include_proto!("fonoster.calls.v1beta2");
}
/// `fonoster.numbers.v1beta2`.
pub mod numbers {
    tonic::include_proto!("fonoster.numbers.v1beta2");
}
/// `fonoster.agents.v1beta2`.
pub mod agents {
    tonic::include_proto!("fonoster.agents.v1beta2");
}
/// `fonoster.domains.v1beta2`.
pub mod domains {
    tonic::include_proto!("fonoster.domains.v1beta2");
}
/// `fonoster.trunks.v1beta2`.
pub mod trunks {
    tonic::include_proto!("fonoster.trunks.v1beta2");
}
/// `fonoster.credentials.v1beta2`.
pub mod credentials {
    tonic::include_proto!("fonoster.credentials.v1beta2");
}
/// `fonoster.acls.v1beta2`.
pub mod acls {
    tonic::include_proto!("fonoster.acls.v1beta2");
}
/// `fonoster.secrets.v1beta2`.
pub mod secrets {
    tonic::include_proto!("fonoster.secrets.v1beta2");
}
