//! Calls out through a trunk (`FS_DEST_CLUSTER_TRUNK`, a member of an
//! `FS_DEST_CLUSTER_TRUNK_GROUP`, a Fonoster trunk): its `remote_addr`
//! (Fonoster `outboundUri`), `protocol` and outbound credentials.

use store::schema::{CREDENTIALS, TRUNKS};
use store::{Db, Key, Scope, StoreError};

use super::hop::NextHop;
use super::{EgressError, Leaving};
use crate::calls::leg::auth::Account;
use crate::secrets::Sealer;

/// A trunk as a call through it needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkConf {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where calls go (`remote_addr`: `host[:port]` or a SIP URI).
    pub remote_addr: String,
    /// `protocol` (`UDP`, `TCP`, `TLS`; empty: UDP).
    pub protocol: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its outbound credentials, opened.
    pub account: Option<Account>,
}

impl TrunkConf {
    /// What the log and the CDR call it.
    pub fn label(&self) -> String {
        format!("trunk {} ({})", self.id, self.name)
    }

    /// How a call to `callee` leaves through this trunk: Request-URI
    /// `sip:<callee>@<remote_addr>` (a user in the address is replaced by
    /// the callee), sent there, From/To host the same; the outbound
    /// credentials answer a challenge. A disabled trunk refuses (503).
    pub fn leaving(&self, callee: &str) -> Result<Leaving, EgressError> {
        let label = self.label();
        if !self.enabled {
            return Err(EgressError::Disabled(label));
        }
        let send_to = NextHop::parse(&label, &self.remote_addr, Some(&self.protocol))?;
        let uri = send_to.request_uri(callee)?;
        Ok(Leaving { host: send_to.hostport(), label, uri, send_to, account: self.account.clone() })
    }
}

/// Reads trunk `id` of workspace `workspace_id` and its outbound
/// credentials, opening the password with `sealer`.
pub async fn load(db: &Db, sealer: &Sealer, workspace_id: i64, id: i64) -> Result<TrunkConf, EgressError> {
    let scope = Scope::Workspace(workspace_id);
    let rec = match db.get(&TRUNKS, scope, &Key::Id(id)).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return Err(EgressError::Gone(format!("trunk {id}"))),
        Err(e) => return Err(EgressError::Store(e.to_string())),
    };
    let name = rec.text("name").to_owned();
    let account = match rec.int("outbound_credentials_id") {
        None => None,
        Some(cid) => {
            let cred = match db.get(&CREDENTIALS, scope, &Key::Id(cid)).await {
                Ok(c) => c,
                Err(StoreError::NotFound(_)) => {
                    return Err(EgressError::Gone(format!("credentials {cid} of trunk {id} ({name})")))
                }
                Err(e) => return Err(EgressError::Store(e.to_string())),
            };
            let password = sealer
                .open(cred.text("password_enc"))
                .map_err(|e| EgressError::Sealed(format!("trunk {id} ({name})"), e.to_string()))?;
            Some(Account { username: cred.text("username").trim().to_owned(), password })
        }
    };
    Ok(TrunkConf {
        id,
        enabled: rec.int("enabled").unwrap_or(1) != 0,
        remote_addr: rec.text("remote_addr").trim().to_owned(),
        protocol: rec.text("protocol").to_owned(),
        name,
        account,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sip::transaction::Protocol;

    fn trunk(remote_addr: &str, protocol: &str) -> TrunkConf {
        TrunkConf {
            id: 7,
            name: "pstn".into(),
            remote_addr: remote_addr.into(),
            protocol: protocol.into(),
            enabled: true,
            account: None,
        }
    }

    #[test]
    fn a_call_goes_to_the_remote_address_over_the_trunks_protocol() {
        let out = trunk("127.0.0.1:6060", "TCP").leaving("0044123").unwrap();
        assert_eq!(out.uri.to_string(), "sip:0044123@127.0.0.1:6060;transport=tcp");
        assert_eq!(out.send_to.protocol, Protocol::Tcp);
        assert_eq!(out.host, "127.0.0.1:6060");
        assert_eq!(out.label, "trunk 7 (pstn)");
        // A Fonoster outboundUri with a user: the callee replaces it.
        let out = trunk("sip:ignored@sip.carrier.example", "").leaving("15551234").unwrap();
        assert_eq!(out.uri.to_string(), "sip:15551234@sip.carrier.example");
        assert_eq!(out.send_to.protocol, Protocol::Udp);
    }

    #[test]
    fn a_disabled_trunk_or_a_missing_address_refuses() {
        let mut t = trunk("127.0.0.1", "UDP");
        t.enabled = false;
        let e = t.leaving("1").unwrap_err();
        assert_eq!(e.status(), (503, "NORMAL_TEMPORARY_FAILURE"));
        assert!(e.to_string().contains("trunk 7 (pstn) is disabled"), "{e}");
        let e = trunk("", "UDP").leaving("1").unwrap_err();
        assert_eq!(e.status().0, 502);
    }
}
