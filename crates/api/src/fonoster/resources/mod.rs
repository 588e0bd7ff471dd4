//! The Fonoster configuration resources: applications, numbers, agents,
//! domains, trunks, credentials, ACLs and secrets, each served by the
//! generic Fonoster CRUD with a [`shape::Shape`] (wire names, sealed
//! values, other dialects' columns) around its own rules.

mod applications;
pub(crate) mod checks;
mod domains;
mod numbers;
mod shape;
mod text_checks;
mod trunks;

use store::schema::{ACLS, AGENTS, APPLICATIONS, CREDENTIALS, DOMAINS, NUMBERS, SECRETS, TRUNKS};

use crate::crud::fonoster::{register, FonosterSpec};
use crate::crud::Plain;
use crate::routes::{Api, Body, Reply};
use shape::Shape;
use text_checks::TextChecks;

/// Agents' and credentials' `username` is a SIP user name.
static SIP_USER: TextChecks = TextChecks(&[("username", "username", checks::sip_user)]);

/// An agent's SIP user name and its forwarding numbers.
static AGENT_CHECKS: TextChecks = TextChecks(&[
    ("username", "username", checks::sip_user),
    ("forward_always", "forwardAlways", checks::forward_number),
    ("forward_busy", "forwardBusy", checks::forward_number),
    ("forward_no_answer", "forwardNoAnswer", checks::forward_number),
]);

const APPLICATION_FIELDS: &[&str] =
    &["name", "type", "endpoint", "text_to_speech", "speech_to_text", "intelligence"];
static APPLICATION: FonosterSpec = FonosterSpec {
    res: &APPLICATIONS,
    create: APPLICATION_FIELDS,
    update: APPLICATION_FIELDS,
    rules: &Shape {
        res: &APPLICATIONS,
        aliases: &[],
        sealed: &[],
        foreign: &["capabilities", "public_key"],
        own: &applications::Applications,
    },
};

/// `trunk_id` (`trunkRef`) is read once the store has the column.
const NUMBER_FIELDS: &[&str] = &["name", "city", "country", "country_iso_code", "trunk_id"];
static NUMBER: FonosterSpec = FonosterSpec {
    res: &NUMBERS,
    create: NUMBER_FIELDS,
    update: NUMBER_FIELDS,
    rules: &Shape {
        res: &NUMBERS,
        aliases: &[("trunk_id", "trunk")],
        sealed: &[],
        foreign: &["line_number", "numbers", "description", "type", "ref_id", "application_id", "agent_id"],
        own: &numbers::Numbers,
    },
};

const AGENT_FIELDS: &[&str] = &[
    "name",
    "username",
    "domain_id",
    "credentials_id",
    "privacy",
    "enabled",
    "max_contacts",
    "expires",
    "forward_always",
    "forward_busy",
    "forward_no_answer",
    "dnd",
    "voicemail_enabled",
    "voicemail_pin",
    "voicemail_greeting_id",
    "voicemail_greeting_text",
    "supervisor",
];
static AGENT: FonosterSpec = FonosterSpec {
    res: &AGENTS,
    create: AGENT_FIELDS,
    update: AGENT_FIELDS,
    rules: &Shape { res: &AGENTS, aliases: &[], sealed: &[], foreign: &["context"], own: &AGENT_CHECKS },
};

const DOMAIN_FIELDS: &[&str] = &["name", "domain_uri", "egress_policies"];
static DOMAIN: FonosterSpec = FonosterSpec {
    res: &DOMAINS,
    create: DOMAIN_FIELDS,
    update: DOMAIN_FIELDS,
    rules: &Shape {
        res: &DOMAINS,
        aliases: &[("acl_id", "accessControlList")],
        sealed: &[],
        foreign: &[],
        own: &domains::Domains,
    },
};

const TRUNK_FIELDS: &[&str] = &["name", "inbound_uri", "inbound_credentials_id", "outbound_credentials_id"];
static TRUNK: FonosterSpec = FonosterSpec {
    res: &TRUNKS,
    create: TRUNK_FIELDS,
    update: TRUNK_FIELDS,
    rules: &Shape {
        res: &TRUNKS,
        aliases: &[
            ("remote_addr", "outboundUri"),
            ("acl_id", "accessControlList"),
            ("register", "sendRegister"),
        ],
        sealed: &[],
        foreign: &[
            "description",
            "type",
            "protocol",
            "local_addr",
            "enabled",
            "source",
            "media_codec",
            "params",
        ],
        own: &trunks::Trunks,
    },
};

const CREDENTIALS_FIELDS: &[&str] = &["name", "username"];
static CREDENTIAL: FonosterSpec = FonosterSpec {
    res: &CREDENTIALS,
    create: CREDENTIALS_FIELDS,
    update: CREDENTIALS_FIELDS,
    rules: &Shape {
        res: &CREDENTIALS,
        aliases: &[],
        sealed: &[("password", "password_enc")],
        foreign: &[],
        own: &SIP_USER,
    },
};

const ACL_FIELDS: &[&str] = &["name", "allow", "deny"];
static ACL: FonosterSpec = FonosterSpec {
    res: &ACLS,
    create: ACL_FIELDS,
    update: ACL_FIELDS,
    rules: &Shape { res: &ACLS, aliases: &[], sealed: &[], foreign: &[], own: &domains::Acls },
};

static SECRET: FonosterSpec = FonosterSpec {
    res: &SECRETS,
    create: &["name"],
    update: &["name"],
    rules: &Shape {
        res: &SECRETS,
        aliases: &[],
        sealed: &[("secret", "secret_enc")],
        foreign: &[],
        own: &Plain,
    },
};

/// Their routes.
pub fn routes() -> Api {
    let api = Api::new()
        .post(
            "/v1beta2/applications/{ref}/test-token",
            "Create a token to call an application from a browser",
            Body::None,
            applications::test_token,
        )
        .reply(Reply::Schema(super::replies::test_token))
        .get(
            "/v1beta2/applications/{ref}/webhook-secret",
            "Get the secret that signs an application's webhooks",
            applications::webhook_secret,
        )
        .reply(Reply::Schema(super::replies::webhook_secret));
    [
        ("/v1beta2/applications", &APPLICATION),
        ("/v1beta2/numbers", &NUMBER),
        ("/v1beta2/agents", &AGENT),
        ("/v1beta2/domains", &DOMAIN),
        ("/v1beta2/trunks", &TRUNK),
        ("/v1beta2/credentials", &CREDENTIAL),
        ("/v1beta2/acls", &ACL),
        ("/v1beta2/secrets", &SECRET),
    ]
    .into_iter()
    .fold(api, |api, (base, spec)| register(api, base, spec))
}
