//! Calliope's gRPC API: the Fonoster v1beta2 services that the official
//! `@fonoster/sdk` speaks, over gRPC (HTTP/2) and gRPC-Web (HTTP/1.1, for
//! browsers, with CORS) on one port.
//!
//! The `.proto` files in `proto/` are ours, written from the SDK's
//! generated code (its wire contract: packages, services, methods,
//! messages, field numbers and types). Every RPC is answered by the
//! Fonoster REST handler of the same operation, called in process (see
//! [`bridge`]): one data model, one set of rules.

// `tonic::Status` is large, and it is the error every generated RPC
// returns: boxing it in the helpers would only add unboxing.
#![allow(clippy::result_large_err)]

pub mod bridge;
mod calls;
mod codec;
pub mod crud;
mod identity;
pub mod json;
pub mod pb;
mod resources;

use std::future::Future;
use std::time::Duration;

use api::AppState;
use http::header::HeaderName;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tower_http::cors::{Any, CorsLayer};

use crate::bridge::Rest;
use crate::crud::Crud;

/// Every message and service, with their imports, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("fonoster");

/// The largest REST answer the bridge reads back (a page of records).
const ANSWER_LIMIT: usize = 16 << 20;

/// Every service, answering through `state`'s REST API. Requests larger
/// than the API's body limit are refused with `RESOURCE_EXHAUSTED`.
pub fn routes(state: AppState) -> Routes {
    use pb::{acls, agents, applications, calls, credentials, domains, identity, numbers, secrets, trunks};
    let limit = state.settings.body_limit_bytes;
    let rest = Rest::new(api::router(state), ANSWER_LIMIT);
    let crud = |base: &'static str, label: &'static str| Crud { rest: rest.clone(), base, label };
    macro_rules! svc {
        ($server:path, $imp:expr) => {{
            use $server as S;
            S::new($imp).max_decoding_message_size(limit)
        }};
    }
    let routes =
        Routes::new(svc!(identity::identity_server::IdentityServer, crate::identity::Identity(rest.clone())))
            .add_service(svc!(
                applications::applications_server::ApplicationsServer,
                resources::Applications(crud("/v1beta2/applications", "application"))
            ))
            .add_service(svc!(
                calls::calls_server::CallsServer,
                crate::calls::Calls(crud("/v1beta2/calls", "call"))
            ))
            .add_service(svc!(
                numbers::numbers_server::NumbersServer,
                resources::Numbers(crud("/v1beta2/numbers", "number"))
            ))
            .add_service(svc!(
                agents::agents_server::AgentsServer,
                resources::Agents(crud("/v1beta2/agents", "agent"))
            ))
            .add_service(svc!(
                domains::domains_server::DomainsServer,
                resources::Domains(crud("/v1beta2/domains", "domain"))
            ))
            .add_service(svc!(
                trunks::trunks_server::TrunksServer,
                resources::Trunks(crud("/v1beta2/trunks", "trunk"))
            ))
            .add_service(svc!(
                credentials::credentials_service_server::CredentialsServiceServer,
                resources::Credentials(crud("/v1beta2/credentials", "credentials"))
            ))
            .add_service(svc!(acls::acls_server::AclsServer, resources::Acls(crud("/v1beta2/acls", "ACL"))))
            .add_service(svc!(
                secrets::secrets_server::SecretsServer,
                resources::Secrets(crud("/v1beta2/secrets", "secret"))
            ));
    reflection(routes)
}

/// Adds server reflection (v1 and v1alpha, as `grpcurl` asks), so that
/// generic tools can list and call the services.
fn reflection(routes: Routes) -> Routes {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
    };
    let routes = match builder().build_v1() {
        Ok(v1) => routes.add_service(v1),
        Err(e) => {
            tracing::warn!(error = %e, "gRPC reflection (v1) is off");
            routes
        }
    };
    match builder().build_v1alpha() {
        Ok(v1alpha) => routes.add_service(v1alpha),
        Err(e) => {
            tracing::warn!(error = %e, "gRPC reflection (v1alpha) is off");
            routes
        }
    }
}

/// CORS for gRPC-Web from any origin: the metadata the SDK sends may be
/// asked for, and the status trailers may be read.
fn cors() -> CorsLayer {
    let expose = ["grpc-status", "grpc-message", "grpc-status-details-bin"].map(HeaderName::from_static);
    CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any).expose_headers(expose)
}

/// The error of a stopped server.
pub use tonic::transport::Error as TransportError;

/// tonic refuses a request message over the size limit with
/// `OUT_OF_RANGE`; gRPC's own servers, and Calliope's REST API (`413` as
/// `RESOURCE_EXHAUSTED`), say `RESOURCE_EXHAUSTED`. No service here answers
/// `OUT_OF_RANGE` otherwise, so that code in a response's headers (a
/// trailers-only answer, before any handler ran) is the size check.
fn size_status<B>(mut response: http::Response<B>) -> http::Response<B> {
    let status = HeaderName::from_static("grpc-status");
    if response.headers().get(&status).is_some_and(|v| v == "11") {
        response.headers_mut().insert(status, http::HeaderValue::from_static("8"));
    }
    response
}

/// Serves gRPC and gRPC-Web on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .accept_http1(true)
        // The same kind of bounds as the HTTP server's: no RPC here takes
        // long, idle peers are probed, one connection cannot hog the server.
        .timeout(Duration::from_secs(60))
        .concurrency_limit_per_connection(64)
        .max_concurrent_streams(Some(128))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .layer(cors())
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(tower::util::MapResponseLayer::new(size_status))
        .add_routes(routes(state))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}
