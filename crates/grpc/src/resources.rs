//! The eight configuration services (applications, numbers, agents,
//! domains, trunks, credentials, ACLs, secrets): how each request becomes
//! the Fonoster REST body and each REST record the SDK's message.
//!
//! Proto3 fields carry no presence: an update sends only the fields that
//! are not empty, zero or false, so those values leave a field unchanged.

use serde_json::{json, Value as Json};
use tonic::Status;

use crate::bridge::Who;
use crate::crud::{Crud, Refine};
use crate::crud_service;
use crate::json::{b, from_struct, int, page, paging, r, s, segment, strings, time, to_struct, Body};
use crate::pb::{
    acls, agents, applications as apps, credentials as creds, domains, numbers, secrets, trunks,
};

/// `fonoster.applications.v1beta2.Applications`.
pub struct Applications(pub Crud);
/// `fonoster.numbers.v1beta2.Numbers`.
pub struct Numbers(pub Crud);
/// `fonoster.agents.v1beta2.Agents`.
pub struct Agents(pub Crud);
/// `fonoster.domains.v1beta2.Domains`.
pub struct Domains(pub Crud);
/// `fonoster.trunks.v1beta2.Trunks`.
pub struct Trunks(pub Crud);
/// `fonoster.credentials.v1beta2.CredentialsService`.
pub struct Credentials(pub Crud);
/// `fonoster.acls.v1beta2.Acls`.
pub struct Acls(pub Crud);
/// `fonoster.secrets.v1beta2.Secrets`.
pub struct Secrets(pub Crud);

// Applications.

fn app_type(t: i32) -> Result<&'static str, Status> {
    match apps::ApplicationType::try_from(t) {
        Ok(apps::ApplicationType::External) => Ok("EXTERNAL"),
        Ok(apps::ApplicationType::Autopilot) => Ok("AUTOPILOT"),
        Err(_) => Err(Status::invalid_argument(format!("type: {t} is not an application type"))),
    }
}

fn product(p: &apps::ProductContainer) -> Json {
    let mut out = Body::new().set("productRef", p.product_ref.as_str());
    if let Some(c) = &p.config {
        out = out.set("config", from_struct(c));
    }
    if let Some(c) = &p.credentials {
        out = out.set("credentials", from_struct(c));
    }
    out.json()
}

fn products(
    mut body: Body,
    tts: Option<&apps::ProductContainer>,
    stt: Option<&apps::ProductContainer>,
    intel: Option<&apps::ProductContainer>,
) -> Body {
    for (key, p) in [("textToSpeech", tts), ("speechToText", stt), ("intelligence", intel)] {
        if let Some(p) = p {
            body = body.set(key, product(p));
        }
    }
    body
}

fn app_create(q: &apps::CreateApplicationRequest) -> Result<Json, Status> {
    let body = Body::new()
        .set("name", q.name.as_str())
        .set("type", app_type(q.r#type)?)
        .text("endpoint", &q.endpoint);
    Ok(products(body, q.text_to_speech.as_ref(), q.speech_to_text.as_ref(), q.intelligence.as_ref()).json())
}

fn app_update(q: &apps::UpdateApplicationRequest) -> Result<Json, Status> {
    let body = Body::new().text("name", &q.name).text("endpoint", &q.endpoint);
    let body = if q.r#type == 0 { body } else { body.set("type", app_type(q.r#type)?) };
    Ok(products(body, q.text_to_speech.as_ref(), q.speech_to_text.as_ref(), q.intelligence.as_ref()).json())
}

fn product_view(j: &Json) -> Option<apps::ProductContainer> {
    j.is_object().then(|| apps::ProductContainer {
        product_ref: s(j, "productRef"),
        config: to_struct(&j["config"]),
        credentials: to_struct(&j["credentials"]),
    })
}

fn app_view(j: &Json) -> apps::Application {
    let kind = if s(j, "type") == "AUTOPILOT" {
        apps::ApplicationType::Autopilot
    } else {
        apps::ApplicationType::External
    };
    apps::Application {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        r#type: kind as i32,
        endpoint: s(j, "endpoint"),
        text_to_speech: product_view(&j["textToSpeech"]),
        speech_to_text: product_view(&j["speechToText"]),
        intelligence: product_view(&j["intelligence"]),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
    }
}

impl Refine<apps::Application> for Applications {}

crud_service!(Applications: apps::applications_server::Applications, apps {
    create_application(CreateApplicationRequest) -> CreateApplicationResponse by app_create,
    update_application(UpdateApplicationRequest) -> UpdateApplicationResponse by app_update,
    get_application(GetApplicationRequest) -> Application by app_view,
    delete_application(DeleteApplicationRequest) -> DeleteApplicationResponse,
    list_applications(ListApplicationsRequest) -> ListApplicationsResponse,
}, extra {
    async fn evaluate_intelligence(
        &self,
        _req: tonic::Request<apps::EvaluateIntelligenceRequest>,
    ) -> Result<tonic::Response<Self::EvaluateIntelligenceStream>, Status> {
        Err(Status::unimplemented("evaluating an autopilot's intelligence is not supported by Calliope"))
    }
    type EvaluateIntelligenceStream =
        tokio_stream::Empty<Result<apps::EvaluateIntelligenceEvent, Status>>;
    async fn create_test_token(
        &self,
        _req: tonic::Request<()>,
    ) -> Result<tonic::Response<apps::TestTokenResponse>, Status> {
        Err(Status::unimplemented(
            "CreateTestToken names no application; use POST /v1beta2/applications/{ref}/test-token",
        ))
    }
});

// Numbers.

/// The ingress handler as REST takes it; an agent's address is turned
/// into the agent's ref by [`Numbers`]' [`Refine::body`].
fn handler(agent_aor: Option<&str>, app_ref: Option<&str>) -> Result<Option<Json>, Status> {
    match (agent_aor, app_ref) {
        (Some(aor), _) if !aor.is_empty() => Ok(Some(json!({"type": "AGENT", "aor": aor}))),
        (None, Some(r)) if !r.is_empty() => Ok(Some(json!({"type": "APPLICATION", "ref": r}))),
        _ => Ok(None),
    }
}

/// The address of the agent `agent`: `sip:<username>@<its domain's URI>`,
/// or `sip:<username>` for an agent without a domain.
async fn agent_aor(crud: &Crud, who: &Who, agent: &Json) -> Result<String, Status> {
    let user = s(agent, "username");
    let domain = r(agent, "domain");
    if domain.is_empty() {
        return Ok(format!("sip:{user}"));
    }
    let d = crud.rest.get(who, &format!("/v1beta2/domains/{}", segment("domain", &domain)?)).await?;
    Ok(format!("sip:{user}@{}", s(&d, "domainUri")))
}

/// The ref of the agent whose address is `aor` (`sip:` optional; user
/// names are unique in a workspace, and the host must be the agent's
/// domain, or absent for an agent without one).
async fn agent_by_aor(crud: &Crud, who: &Who, aor: &str) -> Result<String, Status> {
    let bare = aor.trim();
    let bare = bare.strip_prefix("sip:").or_else(|| bare.strip_prefix("SIP:")).unwrap_or(bare);
    let user = bare.split('@').next().unwrap_or_default();
    let nobody = || Status::invalid_argument(format!("agentAor: no agent has the address {aor}"));
    let mut token = String::new();
    loop {
        let (items, next) =
            page(&crud.rest.get(who, &format!("/v1beta2/agents{}", paging(100, &token))).await?);
        if let Some(agent) = items.iter().find(|a| s(a, "username") == user) {
            let want = agent_aor(crud, who, agent).await?;
            return if want.trim_start_matches("sip:").eq_ignore_ascii_case(bare) {
                Ok(s(agent, "ref"))
            } else {
                Err(nobody())
            };
        }
        if next.is_empty() || next == token {
            return Err(nobody());
        }
        token = next;
    }
}

fn number_create(q: &numbers::CreateNumberRequest) -> Result<Json, Status> {
    use numbers::create_number_request::IngressHandler as H;
    let (aor, app) = match &q.ingress_handler {
        Some(H::AgentAor(a)) => (Some(a.as_str()), None),
        Some(H::AppRef(a)) => (None, Some(a.as_str())),
        None => (None, None),
    };
    let body = Body::new()
        .set("name", q.name.as_str())
        .set("telUrl", q.tel_url.as_str())
        .text("city", &q.city)
        .text("country", &q.country)
        .text("countryIsoCode", &q.country_iso_code)
        .text("trunkRef", &q.trunk_ref);
    Ok(match handler(aor, app)? {
        Some(h) => body.set("ingressHandler", h),
        None => body,
    }
    .json())
}

fn number_update(q: &numbers::UpdateNumberRequest) -> Result<Json, Status> {
    use numbers::update_number_request::IngressHandler as H;
    let (aor, app) = match &q.ingress_handler {
        Some(H::AgentAor(a)) => (Some(a.as_str()), None),
        Some(H::AppRef(a)) => (None, Some(a.as_str())),
        None => (None, None),
    };
    let body = Body::new().text("name", &q.name).text("trunkRef", &q.trunk_ref);
    Ok(match handler(aor, app)? {
        Some(h) => body.set("ingressHandler", h),
        None => body,
    }
    .json())
}

fn number_view(j: &Json) -> numbers::Number {
    use numbers::number::IngressHandler as H;
    let h = &j["ingressHandler"];
    let ingress_handler = match h["type"].as_str() {
        Some("APPLICATION") => Some(H::AppRef(s(h, "ref"))),
        _ => None,
    };
    numbers::Number {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        tel_url: s(j, "telUrl"),
        city: s(j, "city"),
        country: s(j, "country"),
        country_iso_code: s(j, "countryIsoCode"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
        trunk: j["trunk"]
            .is_object()
            .then(|| numbers::number::Trunk { r#ref: s(&j["trunk"], "ref"), name: s(&j["trunk"], "name") }),
        ingress_handler,
    }
}

#[tonic::async_trait]
impl Refine<numbers::Number> for Numbers {
    async fn body(&self, crud: &Crud, who: &Who, mut body: Json) -> Result<Json, Status> {
        let aor = body["ingressHandler"]["aor"].as_str().map(str::to_owned);
        if let Some(aor) = aor {
            body["ingressHandler"] = json!({"type": "AGENT", "ref": agent_by_aor(crud, who, &aor).await?});
        }
        Ok(body)
    }

    async fn item(
        &self,
        crud: &Crud,
        who: &Who,
        rec: &Json,
        item: &mut numbers::Number,
    ) -> Result<(), Status> {
        let h = &rec["ingressHandler"];
        if h["type"] == "AGENT" {
            let agent =
                crud.rest.get(who, &format!("/v1beta2/agents/{}", segment("agent", &s(h, "ref"))?)).await?;
            let aor = agent_aor(crud, who, &agent).await?;
            item.ingress_handler = Some(numbers::number::IngressHandler::AgentAor(aor));
        }
        Ok(())
    }
}

crud_service!(Numbers: numbers::numbers_server::Numbers, numbers {
    create_number(CreateNumberRequest) -> CreateNumberResponse by number_create,
    update_number(UpdateNumberRequest) -> UpdateNumberResponse by number_update,
    get_number(GetNumberRequest) -> Number by number_view,
    delete_number(DeleteNumberRequest) -> DeleteNumberResponse,
    list_numbers(ListNumbersRequest) -> ListNumbersResponse,
});

// Agents.

fn privacy(p: i32) -> Result<&'static str, Status> {
    match agents::Privacy::try_from(p) {
        Ok(agents::Privacy::None) => Ok("NONE"),
        Ok(agents::Privacy::Private) => Ok("PRIVATE"),
        Err(_) => Err(Status::invalid_argument(format!("privacy: {p} is not a privacy setting"))),
    }
}

fn agent_create(q: &agents::CreateAgentRequest) -> Result<Json, Status> {
    Ok(Body::new()
        .set("name", q.name.as_str())
        .set("username", q.username.as_str())
        .set("privacy", privacy(q.privacy)?)
        .set("enabled", q.enabled)
        .text("domainRef", &q.domain_ref)
        .text("credentialsRef", &q.credentials_ref)
        .when(q.max_contacts > 0, "maxContacts", q.max_contacts)
        .when(q.expires > 0, "expires", q.expires)
        .json())
}

fn agent_update(q: &agents::UpdateAgentRequest) -> Result<Json, Status> {
    let body = Body::new()
        .text("name", &q.name)
        .when(q.enabled, "enabled", true)
        .text("domainRef", &q.domain_ref)
        .text("credentialsRef", &q.credentials_ref)
        .when(q.max_contacts > 0, "maxContacts", q.max_contacts)
        .when(q.expires > 0, "expires", q.expires);
    Ok(if q.privacy == 0 { body } else { body.set("privacy", privacy(q.privacy)?) }.json())
}

fn agent_view(j: &Json) -> agents::Agent {
    let d = &j["domain"];
    let c = &j["credentials"];
    let privacy = if s(j, "privacy") == "PRIVATE" { agents::Privacy::Private } else { agents::Privacy::None };
    agents::Agent {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        username: s(j, "username"),
        privacy: privacy as i32,
        enabled: b(j, "enabled"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
        max_contacts: int(j, "maxContacts"),
        expires: int(j, "expires"),
        domain: d.is_object().then(|| agents::agent::Domain {
            r#ref: s(d, "ref"),
            name: s(d, "name"),
            domain_uri: s(d, "domainUri"),
        }),
        credentials: c.is_object().then(|| agents::agent::Credentials {
            r#ref: s(c, "ref"),
            name: s(c, "name"),
            username: s(c, "username"),
        }),
    }
}

/// REST shows an agent's domain and credentials as `{ref, name}`; the SDK
/// also shows the domain's URI and the credentials' user name.
#[tonic::async_trait]
impl Refine<agents::Agent> for Agents {
    async fn item(
        &self,
        crud: &Crud,
        who: &Who,
        _rec: &Json,
        item: &mut agents::Agent,
    ) -> Result<(), Status> {
        if let Some(d) = item.domain.as_mut() {
            let path = format!("/v1beta2/domains/{}", segment("domain", &d.r#ref)?);
            d.domain_uri = s(&crud.rest.get(who, &path).await?, "domainUri");
        }
        if let Some(c) = item.credentials.as_mut() {
            let path = format!("/v1beta2/credentials/{}", segment("credentials", &c.r#ref)?);
            c.username = s(&crud.rest.get(who, &path).await?, "username");
        }
        Ok(())
    }
}

crud_service!(Agents: agents::agents_server::Agents, agents {
    create_agent(CreateAgentRequest) -> CreateAgentResponse by agent_create,
    update_agent(UpdateAgentRequest) -> UpdateAgentResponse by agent_update,
    get_agent(GetAgentRequest) -> Agent by agent_view,
    delete_agent(DeleteAgentRequest) -> DeleteAgentResponse,
    list_agents(ListAgentsRequest) -> ListAgentsResponse,
});

// Domains.

fn policies(p: &[domains::EgressPolicy]) -> Json {
    p.iter().map(|e| json!({"rule": e.rule, "numberRef": e.number_ref})).collect()
}

fn domain_create(q: &domains::CreateDomainRequest) -> Result<Json, Status> {
    Ok(Body::new()
        .set("name", q.name.as_str())
        .set("domainUri", q.domain_uri.as_str())
        .text("accessControlListRef", &q.access_control_list_ref)
        .when(!q.egress_policies.is_empty(), "egressPolicies", policies(&q.egress_policies))
        .json())
}

fn domain_update(q: &domains::UpdateDomainRequest) -> Result<Json, Status> {
    Ok(Body::new()
        .text("name", &q.name)
        .text("accessControlListRef", &q.access_control_list_ref)
        .when(!q.egress_policies.is_empty(), "egressPolicies", policies(&q.egress_policies))
        .json())
}

fn domain_view(j: &Json) -> domains::Domain {
    let a = &j["accessControlList"];
    let egress = j["egressPolicies"].as_array().cloned().unwrap_or_default();
    domains::Domain {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        domain_uri: s(j, "domainUri"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
        access_control_list: a.is_object().then(|| domains::domain::Acl {
            r#ref: s(a, "ref"),
            name: s(a, "name"),
            allow: strings(a, "allow"),
            deny: strings(a, "deny"),
        }),
        egress_policies: egress
            .iter()
            .map(|e| domains::EgressPolicy { rule: s(e, "rule"), number_ref: r(e, "numberRef") })
            .collect(),
    }
}

impl Refine<domains::Domain> for Domains {}

crud_service!(Domains: domains::domains_server::Domains, domains {
    create_domain(CreateDomainRequest) -> CreateDomainResponse by domain_create,
    update_domain(UpdateDomainRequest) -> UpdateDomainResponse by domain_update,
    get_domain(GetDomainRequest) -> Domain by domain_view,
    delete_domain(DeleteDomainRequest) -> DeleteDomainResponse,
    list_domains(ListDomainsRequest) -> ListDomainsResponse,
});

// Trunks.

fn trunk_create(q: &trunks::CreateTrunkRequest) -> Result<Json, Status> {
    Ok(Body::new()
        .set("name", q.name.as_str())
        .when(q.send_register, "sendRegister", true)
        .when(!q.uris.is_empty(), "uris", uris_body(&q.uris))
        .text("inboundUri", &q.inbound_uri)
        .text("accessControlListRef", &q.access_control_list_ref)
        .text("inboundCredentialsRef", &q.inbound_credentials_ref)
        .text("outboundCredentialsRef", &q.outbound_credentials_ref)
        .json())
}

fn trunk_update(q: &trunks::UpdateTrunkRequest) -> Result<Json, Status> {
    Ok(Body::new()
        .text("name", &q.name)
        .when(q.send_register, "sendRegister", true)
        .when(!q.uris.is_empty(), "uris", uris_body(&q.uris))
        .text("inboundUri", &q.inbound_uri)
        .text("accessControlListRef", &q.access_control_list_ref)
        .text("inboundCredentialsRef", &q.inbound_credentials_ref)
        .text("outboundCredentialsRef", &q.outbound_credentials_ref)
        .json())
}

/// A trunk's `uris` as REST takes them.
fn uris_body(uris: &[trunks::TrunkUri]) -> Json {
    uris.iter()
        .map(|u| {
            serde_json::json!({"host": u.host, "port": u.port, "transport": u.transport, "user": u.user,
                "weight": u.weight, "priority": u.priority, "enabled": u.enabled})
        })
        .collect()
}

fn trunk_creds(c: &Json) -> Option<trunks::trunk::Credentials> {
    c.is_object().then(|| trunks::trunk::Credentials {
        r#ref: s(c, "ref"),
        name: s(c, "name"),
        username: s(c, "username"),
    })
}

fn trunk_view(j: &Json) -> trunks::Trunk {
    let a = &j["accessControlList"];
    trunks::Trunk {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        send_register: b(j, "sendRegister"),
        inbound_uri: s(j, "inboundUri"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
        access_control_list: a.is_object().then(|| trunks::trunk::Acl {
            r#ref: s(a, "ref"),
            name: s(a, "name"),
            allow: strings(a, "allow"),
            deny: strings(a, "deny"),
        }),
        inbound_credentials: trunk_creds(&j["inboundCredentials"]),
        outbound_credentials: trunk_creds(&j["outboundCredentials"]),
        uris: j["uris"].as_array().map(|u| u.iter().map(trunk_uri).collect()).unwrap_or_default(),
    }
}

/// One of the `uris` a trunk shows over REST (where the store keeps them).
fn trunk_uri(u: &Json) -> trunks::TrunkUri {
    trunks::TrunkUri {
        host: s(u, "host"),
        port: int(u, "port"),
        transport: s(u, "transport"),
        user: s(u, "user"),
        weight: int(u, "weight"),
        priority: int(u, "priority"),
        enabled: u["enabled"].as_bool().unwrap_or(true),
    }
}

impl Refine<trunks::Trunk> for Trunks {}

crud_service!(Trunks: trunks::trunks_server::Trunks, trunks {
    create_trunk(CreateTrunkRequest) -> CreateTrunkResponse by trunk_create,
    update_trunk(UpdateTrunkRequest) -> UpdateTrunkResponse by trunk_update,
    get_trunk(GetTrunkRequest) -> Trunk by trunk_view,
    delete_trunk(DeleteTrunkRequest) -> DeleteTrunkResponse,
    list_trunks(ListTrunksRequest) -> ListTrunksResponse,
});

// Credentials.

fn creds_create(q: &creds::CreateCredentialsRequest) -> Result<Json, Status> {
    Ok(Body::new()
        .set("name", q.name.as_str())
        .set("username", q.username.as_str())
        .set("password", q.password.as_str())
        .json())
}

fn creds_update(q: &creds::UpdateCredentialsRequest) -> Result<Json, Status> {
    Ok(Body::new().text("name", &q.name).text("username", &q.username).text("password", &q.password).json())
}

fn creds_view(j: &Json) -> creds::Credentials {
    creds::Credentials {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        username: s(j, "username"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
    }
}

impl Refine<creds::Credentials> for Credentials {}

crud_service!(Credentials: creds::credentials_service_server::CredentialsService, creds {
    create_credentials(CreateCredentialsRequest) -> CreateCredentialsResponse by creds_create,
    update_credentials(UpdateCredentialsRequest) -> UpdateCredentialsResponse by creds_update,
    get_credentials(GetCredentialsRequest) -> Credentials by creds_view,
    delete_credentials(DeleteCredentialsRequest) -> DeleteCredentialsResponse,
    list_credentials(ListCredentialsRequest) -> ListCredentialsResponse,
});

// ACLs.

fn acl_create(q: &acls::CreateAclRequest) -> Result<Json, Status> {
    Ok(Body::new().set("name", q.name.as_str()).set("allow", q.allow.clone()).json())
}

fn acl_update(q: &acls::UpdateAclRequest) -> Result<Json, Status> {
    Ok(Body::new().text("name", &q.name).when(!q.allow.is_empty(), "allow", q.allow.clone()).json())
}

fn acl_view(j: &Json) -> acls::Acl {
    acls::Acl {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        allow: strings(j, "allow"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
    }
}

impl Refine<acls::Acl> for Acls {}

crud_service!(Acls: acls::acls_server::Acls, acls {
    create_acl(CreateAclRequest) -> CreateAclResponse by acl_create,
    update_acl(UpdateAclRequest) -> UpdateAclResponse by acl_update,
    get_acl(GetAclRequest) -> Acl by acl_view,
    delete_acl(DeleteAclRequest) -> DeleteAclResponse,
    list_acls(ListAclsRequest) -> ListAclsResponse,
});

// Secrets.

fn secret_create(q: &secrets::CreateSecretRequest) -> Result<Json, Status> {
    Ok(Body::new().set("name", q.name.as_str()).set("secret", q.secret.as_str()).json())
}

fn secret_update(q: &secrets::UpdateSecretRequest) -> Result<Json, Status> {
    Ok(Body::new().text("name", &q.name).text("secret", &q.secret).json())
}

/// A secret's value is write-only: REST never shows it, nor does gRPC.
fn secret_view(j: &Json) -> secrets::Secret {
    secrets::Secret {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        secret: String::new(),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
    }
}

impl Refine<secrets::Secret> for Secrets {}

crud_service!(Secrets: secrets::secrets_server::Secrets, secrets {
    create_secret(CreateSecretRequest) -> CreateSecretResponse by secret_create,
    update_secret(UpdateSecretRequest) -> UpdateSecretResponse by secret_update,
    get_secret(GetSecretRequest) -> Secret by secret_view,
    delete_secret(DeleteSecretRequest) -> DeleteSecretResponse,
    list_secrets(ListSecretsRequest) -> ListSecretsResponse,
});

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn application_products_travel_as_objects_and_bad_types_are_refused() {
        let config = to_struct(&json!({"voice": "en-US"}));
        let q = apps::CreateApplicationRequest {
            name: "a".into(),
            r#type: 1,
            text_to_speech: Some(apps::ProductContainer {
                product_ref: "tts".into(),
                config,
                credentials: None,
            }),
            ..Default::default()
        };
        let body = app_create(&q).unwrap();
        assert_eq!(body["type"], "AUTOPILOT");
        assert_eq!(body["textToSpeech"], json!({"productRef": "tts", "config": {"voice": "en-US"}}));
        assert!(body.get("endpoint").is_none() && body.get("speechToText").is_none());
        let bad = apps::CreateApplicationRequest { r#type: 7, ..q };
        assert_eq!(app_create(&bad).unwrap_err().code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn updates_send_only_what_was_set() {
        let q = agents::UpdateAgentRequest { r#ref: "r".into(), name: "n".into(), ..Default::default() };
        assert_eq!(agent_update(&q).unwrap(), json!({"name": "n"}));
        let q = agents::UpdateAgentRequest { privacy: 1, enabled: true, ..q };
        assert_eq!(agent_update(&q).unwrap(), json!({"name": "n", "privacy": "PRIVATE", "enabled": true}));
        let q = agents::UpdateAgentRequest { privacy: 9, ..q };
        assert_eq!(agent_update(&q).unwrap_err().code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn number_handlers_become_rest_ingress_handlers() {
        use numbers::create_number_request::IngressHandler as H;
        let q = numbers::CreateNumberRequest {
            name: "n".into(),
            tel_url: "tel:+1".into(),
            ingress_handler: Some(H::AppRef("app".into())),
            ..Default::default()
        };
        assert_eq!(
            number_create(&q).unwrap()["ingressHandler"],
            json!({"type": "APPLICATION", "ref": "app"})
        );
        let q = numbers::CreateNumberRequest { ingress_handler: Some(H::AgentAor("sip:1001@x".into())), ..q };
        assert_eq!(
            number_create(&q).unwrap()["ingressHandler"],
            json!({"type": "AGENT", "aor": "sip:1001@x"})
        );
        let view =
            number_view(&json!({"ref": "n1", "ingressHandler": {"type": "APPLICATION", "ref": "app"}}));
        assert_eq!(view.ingress_handler, Some(numbers::number::IngressHandler::AppRef("app".into())));
    }

    #[test]
    fn number_trunks_are_read_and_shown() {
        let q =
            numbers::CreateNumberRequest { name: "n".into(), trunk_ref: "t1".into(), ..Default::default() };
        assert_eq!(number_create(&q).unwrap()["trunkRef"], "t1");
        let q = numbers::UpdateNumberRequest { trunk_ref: "t2".into(), ..Default::default() };
        assert_eq!(number_update(&q).unwrap()["trunkRef"], "t2");
        let q = numbers::UpdateNumberRequest { name: "m".into(), ..Default::default() };
        assert!(number_update(&q).unwrap().get("trunkRef").is_none(), "empty: unchanged");
        let view = number_view(&json!({"ref": "n1", "trunk": {"ref": "t1", "name": "carrier"}}));
        assert_eq!(view.trunk, Some(numbers::number::Trunk { r#ref: "t1".into(), name: "carrier".into() }));
        assert_eq!(number_view(&json!({"ref": "n1", "trunk": null})).trunk, None);
    }

    #[test]
    fn trunk_views_read_references_and_uris() {
        let j = json!({
            "ref": "t", "name": "p", "sendRegister": true, "createdAt": "1970-01-01T00:00:10Z",
            "accessControlList": {"ref": "a", "name": "office"}, "inboundCredentials": null,
            "uris": [{"host": "sip.example.com", "port": 5061, "transport": "TLS", "weight": 5, "priority": 1}],
        });
        let t = trunk_view(&j);
        assert!(t.send_register);
        assert_eq!(t.created_at, 10);
        assert_eq!(t.access_control_list.unwrap().name, "office");
        assert!(t.inbound_credentials.is_none());
        assert_eq!(t.uris[0].port, 5061);
        assert!(t.uris[0].enabled);
    }

    #[test]
    fn secret_values_are_never_shown() {
        assert_eq!(secret_view(&json!({"ref": "s", "secret": "leak"})).secret, "");
    }
}
