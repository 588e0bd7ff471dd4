//! Identity: users, workspaces, members, API keys and tokens.

use crate::{Field, Resource};

/// Workspace roles, strongest first.
pub const ROLES: &[&str] = &["WORKSPACE_OWNER", "WORKSPACE_ADMIN", "WORKSPACE_MEMBER"];

/// People who log in.
pub static USERS: Resource = Resource {
    table: "users",
    label: "user",
    scoped: false,
    quota: None,
    links: &[],
    fields: &[
        Field::text("email").required().unique(),
        Field::text("name").required(),
        Field::text("avatar"),
        Field::text("password_hash").required().hidden(),
        // Raised by a password change: tokens signed with an older
        // generation are no longer accepted.
        Field::int("token_gen").hidden(),
        // The session (token family) that changed the password last, which
        // keeps working.
        Field::text("kept_session").hidden(),
    ],
};

/// Workspaces, which own every other resource.
pub static WORKSPACES: Resource = Resource {
    table: "workspaces",
    label: "workspace",
    scoped: false,
    quota: None,
    links: &[],
    fields: &[
        Field::text("access_key_id").required().unique(),
        Field::text("name").required(),
        Field::reference("owner_id", "users").required(),
    ],
};

/// Who belongs to which workspace, with which role.
pub static MEMBERSHIPS: Resource = Resource {
    table: "memberships",
    label: "member",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("user_id", "users").required().unique().cascade(),
        Field::one_of("role", ROLES).required(),
    ],
};

/// API keys: an access key id and a hashed secret, with a role, made by a
/// user.
pub static API_KEYS: Resource = Resource {
    table: "api_keys",
    label: "API key",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::text("access_key_id").required().unique(),
        Field::text("secret_hash").required().hidden(),
        Field::one_of("role", ROLES).required(),
        Field::time("expires_at"),
        // The user who made the key: it never acts above that user's
        // current role, and dies with the user's membership.
        Field::reference("created_by", "users").hidden().cascade(),
    ],
};

/// Opaque bearer tokens: login sessions and named API tokens.
pub static TOKENS: Resource = Resource {
    table: "tokens",
    label: "API token",
    scoped: true,
    quota: None,
    links: &[],
    fields: &[
        Field::reference("user_id", "users").required().cascade(),
        Field::one_of("kind", &["session", "apitoken"]).required(),
        Field::text("name"),
        Field::text("token_hash").required().hidden(),
        Field::text("host"),
        Field::text("user_agent"),
        Field::int("expiry").required(),
        Field::time("last_request_at"),
    ],
};

/// Issued refresh tokens, by hashed id, so each is used once.
pub static REFRESH_TOKENS: Resource = Resource {
    table: "refresh_tokens",
    label: "refresh token",
    scoped: false,
    quota: None,
    links: &[],
    fields: &[
        Field::text("jti_hash").required().hidden(),
        Field::text("subject").required(),
        Field::text("family").required(),
        Field::time("expires_at").required(),
        Field::time("used_at"),
    ],
};
