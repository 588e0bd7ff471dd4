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
    &VOICEMAIL_MESSAGES,
];

/// The resource kept in `table`.
pub fn by_table(table: &str) -> Option<&'static Resource> {
    ALL.iter().copied().find(|r| r.table == table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    /// Fields named like references that name no record of ours: access
    /// key ids (identifiers, not references), a SIP Call-ID, a SIP profile
    /// number and the
    /// call records' copies of ids, which the switch writes from its own
    /// lookups.
    const NOT_REFERENCES: &[(&str, &str)] = &[
        ("workspaces", "access_key_id"),
        ("api_keys", "access_key_id"),
        ("registrations", "call_id"),
        ("gateways", "profile_id"),
        ("cdrs", "src_id"),
        ("cdrs", "dst_id"),
        ("cdrs", "application_id"),
        ("cdrs", "route_id"),
    ];

    /// Every field that holds the id of another record is described as a
    /// reference or a link, so that the generic checks (the record exists,
    /// in the writer's workspace; it is not deleted while named) cover it.
    #[test]
    fn every_reference_field_is_described() {
        for res in ALL {
            for f in res.fields {
                let looks_like_one = f.name.ends_with("_id") || f.name == "dest_uuid";
                let described = matches!(f.kind, Kind::Ref(_)) || res.links.iter().any(|l| l.field == f.name);
                let exempt = NOT_REFERENCES.contains(&(res.table, f.name));
                assert!(
                    !looks_like_one || described || exempt,
                    "{}.{} looks like a reference but is not described as one",
                    res.table,
                    f.name
                );
            }
        }
    }

    /// Links and references name tables that exist.
    #[test]
    fn references_name_known_tables() {
        for res in ALL {
            for f in res.fields {
                if let Kind::Ref(table) = f.kind {
                    assert!(by_table(table).is_some(), "{}.{} -> {table}", res.table, f.name);
                }
            }
            for l in res.links {
                assert!(by_table(l.table).is_some(), "{}.{} -> {}", res.table, l.field, l.table);
                assert!(res.field(l.field).is_some(), "{}.{}", res.table, l.field);
            }
        }
    }
}
