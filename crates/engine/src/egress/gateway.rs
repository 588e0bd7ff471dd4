//! Calls out through a gateway (`FS_DEST_GATEWAY`, `FS_DEST_USERGW`): the
//! gateway's record and `GATEWAY` params read from the store, its password
//! opened, and the INVITE's Request-URI, next hop, From/To host and
//! account decided from them.

use store::schema::{GATEWAYS, PARAMS};
use store::{Db, Filter, Key, Query, Scope, StoreError};

use super::hop::NextHop;
use super::{EgressError, Leaving};
use crate::calls::leg::auth::Account;
use crate::secrets::Sealer;

/// A gateway as a call through it needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConf {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where it is: `host[:port]` or a SIP URI.
    pub realm: String,
    /// The digest user name (`username`).
    pub username: String,
    /// The password, opened; empty when none is stored.
    pub password: String,
    /// Its enabled `GATEWAY` params (`k`, `v`), in order.
    pub params: Vec<(String, String)>,
}

impl GatewayConf {
    /// The value of param `k`, if set and not empty.
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params.iter().find(|(pk, v)| pk == k && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// How a call to `callee` leaves through this gateway: Request-URI
    /// `sip:<callee>@<realm>`; sent to `proxy` (or `outbound-proxy`) when
    /// set, else to the realm; over `register-transport` when the address
    /// names no transport; From/To host `from-domain` when set, else the
    /// realm; the account `auth-username` (else `username`) with the
    /// password, when a user name is configured.
    pub fn leaving(&self, callee: &str) -> Result<Leaving, EgressError> {
        let what = format!("gateway {} ({})", self.id, self.name);
        let transport = self.param("register-transport");
        let realm = NextHop::parse(&what, &self.realm, transport)?;
        let uri = realm.request_uri(callee)?;
        let send_to = match self.param("proxy").or_else(|| self.param("outbound-proxy")) {
            Some(proxy) => NextHop::parse(&format!("{what} proxy"), proxy, transport)?,
            None => realm.clone(),
        };
        let host = self.param("from-domain").map_or_else(|| realm.hostport(), str::to_owned);
        let username = self.param("auth-username").unwrap_or(&self.username).trim();
        let account = (!username.is_empty())
            .then(|| Account { username: username.to_owned(), password: self.password.clone() });
        Ok(Leaving { label: what, uri, send_to, host, account })
    }
}

/// Reads gateway `id` of workspace `workspace_id` and its params, opening
/// its password with `sealer`.
pub async fn load(db: &Db, sealer: &Sealer, workspace_id: i64, id: i64) -> Result<GatewayConf, EgressError> {
    let scope = Scope::Workspace(workspace_id);
    let rec = match db.get(&GATEWAYS, scope, &Key::Id(id)).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return Err(EgressError::Gone(format!("gateway {id}"))),
        Err(e) => return Err(EgressError::Store(e.to_string())),
    };
    let name = rec.text("name").to_owned();
    let password = match rec.text("password_enc") {
        "" => String::new(),
        sealed => sealer
            .open(sealed)
            .map_err(|e| EgressError::Sealed(format!("gateway {id} ({name})"), e.to_string()))?,
    };
    let query =
        Query { filters: vec![Filter::eq("realm", "GATEWAY"), Filter::eq("ref_id", id)], ..Query::default() };
    let mut rows =
        db.list(&PARAMS, scope, &query).await.map_err(|e| EgressError::Store(e.to_string()))?.records;
    rows.retain(|p| p.int("disabled").unwrap_or(0) == 0);
    rows.sort_by_key(|p| (p.int("o").unwrap_or(0), p.id));
    let params =
        rows.iter().map(|p| (p.text("k").trim().to_owned(), p.text("v").trim().to_owned())).collect();
    Ok(GatewayConf {
        id,
        name,
        realm: rec.text("realm").trim().to_owned(),
        username: rec.text("username").trim().to_owned(),
        password,
        params,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sip::transaction::Protocol;

    fn gw(realm: &str, params: &[(&str, &str)]) -> GatewayConf {
        GatewayConf {
            id: 2,
            name: "carrier".into(),
            realm: realm.into(),
            username: "1001".into(),
            password: "s3cret".into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn a_call_goes_to_the_realm_with_the_gateways_account() {
        let out = gw("127.0.0.1:5090", &[]).leaving("5551234").unwrap();
        assert_eq!(out.uri.to_string(), "sip:5551234@127.0.0.1:5090");
        assert_eq!(out.send_to.port(), 5090);
        assert_eq!(out.host, "127.0.0.1:5090");
        assert_eq!(out.account, Some(Account { username: "1001".into(), password: "s3cret".into() }));
        assert_eq!(out.label, "gateway 2 (carrier)");
    }

    #[test]
    fn params_name_the_proxy_domain_transport_and_auth_user() {
        let g = gw(
            "sip.example.com",
            &[
                ("proxy", "10.0.0.5:5070"),
                ("from-domain", "example.com"),
                ("register-transport", "tcp"),
                ("auth-username", "cluecon"),
                ("from-domain", "ignored.example.com"),
            ],
        );
        let out = g.leaving("+3312345").unwrap();
        assert_eq!(out.uri.to_string(), "sip:+3312345@sip.example.com;transport=tcp");
        assert_eq!(out.send_to.hostport(), "10.0.0.5:5070");
        assert_eq!(out.send_to.protocol, Protocol::Tcp);
        assert_eq!(out.host, "example.com", "the first from-domain");
        assert_eq!(out.account.unwrap().username, "cluecon");
    }

    #[test]
    fn no_user_name_means_no_account_and_a_bad_realm_is_refused() {
        let mut g = gw("127.0.0.1", &[]);
        g.username.clear();
        assert_eq!(g.leaving("1").unwrap().account, None);
        let e = gw("no such place", &[]).leaving("1").unwrap_err();
        assert!(e.to_string().contains("gateway 2 (carrier)"), "{e}");
        assert_eq!(e.status().0, 502);
    }
}
