//! An application's webhook signing secret, as its owner reads it to
//! verify `X-Calliope-Signature` (docs/webhooks.md).

use store::schema::APPLICATIONS;
use store::{Key, Scope};

use crate::error::ApiError;
use crate::AppState;

/// The secret that signs the webhooks of the application `app_ref` of
/// workspace `ws`; not found when the workspace has no such application.
pub async fn application_secret(state: &AppState, ws: i64, app_ref: &str) -> Result<String, ApiError> {
    let app = state.db.get(&APPLICATIONS, Scope::Workspace(ws), &Key::Ref(app_ref.to_owned())).await?;
    Ok(state.webhook_secrets.for_application(&app.r#ref).expose().to_owned())
}
