//! The description of every resource Calliope keeps, by family.

mod calls;
mod identity;
mod pbx;
mod telephony;
mod voice;

pub use calls::*;
pub use identity::*;
pub use pbx::*;
pub use telephony::*;
pub use voice::*;

use crate::Resource;

/// Every resource, for reference checks.
pub static ALL: &[&Resource] = &[
    &USERS,
    &WORKSPACES,
    &MEMBERSHIPS,
    &API_KEYS,
    &TOKENS,
    &REFRESH_TOKENS,
    &APPLICATIONS,
    &CREDENTIALS,
    &ACLS,
    &DOMAINS,
    &AGENTS,
    &NUMBERS,
    &TRUNKS,
    &SECRETS,
    &CONTEXTS,
    &ROUTES,
    &PARAMS,
    &TIME_RECURRENCES,
    &TIME_TEMPLATES,
    &TEMPLATE_RECURRENCES,
    &TRUNK_GROUPS,
    &TRUNK_GROUP_MEMBERS,
    &ROUTE_CODES,
    &MEDIA,
    &IVRS,
    &IVR_ACTIONS,
    &FUNC_CODES,
    &GATEWAYS,
    &GATEWAY_VARIABLES,
    &BLACKLISTS,
    &BLOCKS,
    &DODS,
    &IP_RULES,
    &NUMBER_TRANSLATIONS,
    &NTS_NUMBERS,
    &CDRS,
    &REGISTRATIONS,
];

/// The resource kept in `table`.
pub fn by_table(table: &str) -> Option<&'static Resource> {
    ALL.iter().copied().find(|r| r.table == table)
}
