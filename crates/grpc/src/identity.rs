//! `fonoster.identity.v1beta2.Identity`: token exchanges, workspaces,
//! members, users and API keys, each through its Fonoster REST endpoint.
//! Members live under the caller's workspace (the one its `accessKeyId`
//! names), which REST addresses by ref.

use serde_json::Value as Json;
use tonic::{Request, Response, Status};

use crate::bridge::{Rest, Who};
use crate::json::{page, paging, s, segment, time, Body};
use crate::pb::identity::identity_server::Identity as Service;
use crate::pb::identity::*;

/// The identity service.
pub struct Identity(pub Rest);

type Answer<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Answer<T> {
    Ok(Response::new(v))
}

fn unsupported<T>(what: &str) -> Answer<T> {
    Err(Status::unimplemented(format!("{what} is not supported by Calliope")))
}

fn tokens(j: &Json) -> (String, String, String) {
    (s(j, "idToken"), s(j, "accessToken"), s(j, "refreshToken"))
}

fn workspace(j: &Json) -> Workspace {
    Workspace {
        r#ref: s(j, "ref"),
        name: s(j, "name"),
        owner_ref: s(j, "ownerRef"),
        access_key_id: s(j, "accessKeyId"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
        owner: None,
    }
}

fn user(j: &Json) -> User {
    User {
        r#ref: s(j, "ref"),
        email: s(j, "email"),
        phone: String::new(),
        name: s(j, "name"),
        avatar: s(j, "avatar"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
    }
}

fn api_key(j: &Json) -> ApiKey {
    ApiKey {
        r#ref: s(j, "ref"),
        access_key_id: s(j, "accessKeyId"),
        role: s(j, "role"),
        expires_at: time(j, "expiresAt"),
        created_at: time(j, "createdAt"),
        updated_at: time(j, "updatedAt"),
    }
}

impl Identity {
    /// The REST path of the caller's workspace (named by `accessKeyId`).
    async fn current(&self, who: &Who) -> Result<String, Status> {
        let Some(id) = who.access_key_id() else {
            return Err(Status::permission_denied("no workspace: send the accessKeyId metadata"));
        };
        let mut token = String::new();
        loop {
            let (items, next) =
                page(&self.0.get(who, &format!("/v1beta2/workspaces{}", paging(100, &token))).await?);
            if let Some(ws) = items.iter().find(|w| s(w, "accessKeyId") == id) {
                return Ok(format!("/v1beta2/workspaces/{}", segment("workspace", &s(ws, "ref"))?));
            }
            if next.is_empty() || next == token {
                return Err(Status::permission_denied(
                    "you are not a member of the workspace of this accessKeyId",
                ));
            }
            token = next;
        }
    }
}

#[tonic::async_trait]
impl Service for Identity {
    async fn create_workspace(
        &self,
        req: Request<CreateWorkspaceRequest>,
    ) -> Answer<CreateWorkspaceResponse> {
        let who = Who::of(&req);
        let j = self
            .0
            .post(&who, "/v1beta2/workspaces", Body::new().set("name", req.get_ref().name.as_str()).json())
            .await?;
        ok(CreateWorkspaceResponse { r#ref: s(&j, "ref") })
    }

    async fn delete_workspace(
        &self,
        req: Request<DeleteWorkspaceRequest>,
    ) -> Answer<DeleteWorkspaceResponse> {
        let who = Who::of(&req);
        let path = format!("/v1beta2/workspaces/{}", segment("workspace", &req.get_ref().r#ref)?);
        ok(DeleteWorkspaceResponse { r#ref: s(&self.0.delete(&who, &path).await?, "ref") })
    }

    async fn get_workspace(&self, req: Request<GetWorkspaceRequest>) -> Answer<Workspace> {
        let who = Who::of(&req);
        let path = format!("/v1beta2/workspaces/{}", segment("workspace", &req.get_ref().r#ref)?);
        ok(workspace(&self.0.get(&who, &path).await?))
    }

    async fn list_workspaces(&self, req: Request<ListWorkspacesRequest>) -> Answer<ListWorkspacesResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        let (items, next_page_token) = page(
            &self.0.get(&who, &format!("/v1beta2/workspaces{}", paging(q.page_size, &q.page_token))).await?,
        );
        ok(ListWorkspacesResponse { items: items.iter().map(workspace).collect(), next_page_token })
    }

    async fn update_workspace(
        &self,
        req: Request<UpdateWorkspaceRequest>,
    ) -> Answer<UpdateWorkspaceResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        let path = format!("/v1beta2/workspaces/{}", segment("workspace", &q.r#ref)?);
        let j = self.0.put(&who, &path, Body::new().text("name", &q.name).json()).await?;
        ok(UpdateWorkspaceResponse { r#ref: s(&j, "ref") })
    }

    async fn invite_user_to_workspace(
        &self,
        req: Request<InviteUserToWorkspaceRequest>,
    ) -> Answer<InviteUserToWorkspaceResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        let path = format!("{}/members", self.current(&who).await?);
        let body =
            Body::new().set("email", q.email.as_str()).text("name", &q.name).text("role", &q.role).json();
        ok(InviteUserToWorkspaceResponse { user_ref: s(&self.0.post(&who, &path, body).await?, "userRef") })
    }

    async fn remove_user_from_workspace(
        &self,
        req: Request<RemoveUserFromWorkspaceRequest>,
    ) -> Answer<RemoveUserFromWorkspaceResponse> {
        let who = Who::of(&req);
        let path =
            format!("{}/members/{}", self.current(&who).await?, segment("user", &req.get_ref().user_ref)?);
        ok(RemoveUserFromWorkspaceResponse { user_ref: s(&self.0.delete(&who, &path).await?, "userRef") })
    }

    async fn resend_workspace_membership_invitation(
        &self,
        _req: Request<ResendWorkspaceMembershipInvitationRequest>,
    ) -> Answer<ResendWorkspaceMembershipInvitationResponse> {
        unsupported("resending invitations (Calliope adds members at once and sends no email)")
    }

    async fn list_workspace_members(
        &self,
        req: Request<ListWorkspaceMembersRequest>,
    ) -> Answer<ListWorkspaceMembersResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        let path = format!("{}/members{}", self.current(&who).await?, paging(q.page_size, &q.page_token));
        let (items, next_page_token) = page(&self.0.get(&who, &path).await?);
        let items = items
            .iter()
            .map(|m| WorkspaceMember {
                r#ref: s(m, "userRef"),
                user_ref: s(m, "userRef"),
                name: s(m, "name"),
                email: s(m, "email"),
                role: s(m, "role"),
                status: "ACTIVE".into(),
                created_at: time(m, "createdAt"),
                updated_at: time(m, "createdAt"),
            })
            .collect();
        ok(ListWorkspaceMembersResponse { items, next_page_token })
    }

    async fn create_user(&self, req: Request<CreateUserRequest>) -> Answer<CreateUserResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        let body = Body::new()
            .set("email", q.email.as_str())
            .set("password", q.password.as_str())
            .set("name", q.name.as_str())
            .text("avatar", &q.avatar)
            .json();
        ok(CreateUserResponse { r#ref: s(&self.0.post(&who, "/v1beta2/users", body).await?, "ref") })
    }

    async fn create_user_with_oauth2_code(
        &self,
        _req: Request<CreateUserWithOauth2CodeRequest>,
    ) -> Answer<ExchangeCredentialsResponse> {
        unsupported("OAuth2 sign-up")
    }

    async fn get_user(&self, req: Request<GetUserRequest>) -> Answer<User> {
        let who = Who::of(&req);
        let path = format!("/v1beta2/users/{}", segment("user", &req.get_ref().r#ref)?);
        ok(user(&self.0.get(&who, &path).await?))
    }

    async fn update_user(&self, req: Request<UpdateUserRequest>) -> Answer<UpdateUserResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        let path = format!("/v1beta2/users/{}", segment("user", &q.r#ref)?);
        let body =
            Body::new().text("name", &q.name).text("avatar", &q.avatar).text("password", &q.password).json();
        ok(UpdateUserResponse { r#ref: s(&self.0.put(&who, &path, body).await?, "ref") })
    }

    async fn delete_user(&self, req: Request<DeleteUserRequest>) -> Answer<DeleteUserResponse> {
        let who = Who::of(&req);
        let path = format!("/v1beta2/users/{}", segment("user", &req.get_ref().r#ref)?);
        ok(DeleteUserResponse { r#ref: s(&self.0.delete(&who, &path).await?, "ref") })
    }

    async fn send_verification_code(&self, _req: Request<SendVerificationCodeRequest>) -> Answer<()> {
        unsupported("contact verification")
    }

    async fn verify_code(&self, _req: Request<VerifyCodeRequest>) -> Answer<()> {
        unsupported("contact verification")
    }

    async fn send_reset_password_code(&self, _req: Request<SendResetPasswordCodeRequest>) -> Answer<()> {
        unsupported("password reset by email")
    }

    async fn reset_password(&self, _req: Request<ResetPasswordRequest>) -> Answer<()> {
        unsupported("password reset by email")
    }

    async fn create_api_key(&self, req: Request<CreateApiKeyRequest>) -> Answer<CreateApiKeyResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        // The SDK counts seconds; REST takes milliseconds.
        let body = Body::new()
            .set("role", q.role.as_str())
            .when(q.expires_at != 0, "expiresAt", i64::from(q.expires_at) * 1000)
            .json();
        let j = self.0.post(&who, "/v1beta2/apikeys", body).await?;
        ok(CreateApiKeyResponse {
            r#ref: s(&j, "ref"),
            access_key_id: s(&j, "accessKeyId"),
            access_key_secret: s(&j, "accessKeySecret"),
        })
    }

    async fn delete_api_key(&self, req: Request<DeleteApiKeyRequest>) -> Answer<DeleteApiKeyResponse> {
        let who = Who::of(&req);
        let path = format!("/v1beta2/apikeys/{}", segment("API key", &req.get_ref().r#ref)?);
        ok(DeleteApiKeyResponse { r#ref: s(&self.0.delete(&who, &path).await?, "ref") })
    }

    async fn list_api_keys(&self, req: Request<ListApiKeysRequest>) -> Answer<ListApiKeysResponse> {
        let who = Who::of(&req);
        let q = req.get_ref();
        let (items, next_page_token) = page(
            &self.0.get(&who, &format!("/v1beta2/apikeys{}", paging(q.page_size, &q.page_token))).await?,
        );
        ok(ListApiKeysResponse { items: items.iter().map(api_key).collect(), next_page_token })
    }

    async fn regenerate_api_key(
        &self,
        req: Request<RegenerateApiKeyRequest>,
    ) -> Answer<RegenerateApiKeyResponse> {
        let who = Who::of(&req);
        let path = format!("/v1beta2/apikeys/{}/regenerate", segment("API key", &req.get_ref().r#ref)?);
        let j = self.0.post(&who, &path, Json::Null).await?;
        ok(RegenerateApiKeyResponse {
            r#ref: s(&j, "ref"),
            access_key_id: s(&j, "accessKeyId"),
            access_key_secret: s(&j, "accessKeySecret"),
        })
    }

    async fn exchange_credentials(
        &self,
        req: Request<ExchangeCredentialsRequest>,
    ) -> Answer<ExchangeCredentialsResponse> {
        let who = Who::of(&req).anonymous();
        let q = req.get_ref();
        let body =
            Body::new().set("username", q.username.as_str()).set("password", q.password.as_str()).json();
        let (id_token, access_token, refresh_token) =
            tokens(&self.0.post(&who, "/v1beta2/auth/login", body).await?);
        ok(ExchangeCredentialsResponse { id_token, access_token, refresh_token })
    }

    async fn exchange_api_key(&self, req: Request<ExchangeApiKeyRequest>) -> Answer<ExchangeApiKeyResponse> {
        let who = Who::of(&req).anonymous();
        let q = req.get_ref();
        let body = Body::new()
            .set("accessKeyId", q.access_key_id.as_str())
            .set("accessKeySecret", q.access_key_secret.as_str())
            .json();
        let (id_token, access_token, refresh_token) =
            tokens(&self.0.post(&who, "/v1beta2/auth/apikey", body).await?);
        ok(ExchangeApiKeyResponse { id_token, access_token, refresh_token })
    }

    async fn exchange_oauth2_code(
        &self,
        _req: Request<ExchangeOauth2CodeRequest>,
    ) -> Answer<ExchangeOauth2CodeResponse> {
        unsupported("OAuth2 login")
    }

    async fn exchange_refresh_token(
        &self,
        req: Request<ExchangeRefreshTokenRequest>,
    ) -> Answer<ExchangeRefreshTokenResponse> {
        let who = Who::of(&req).anonymous();
        let body = Body::new().set("refreshToken", req.get_ref().refresh_token.as_str()).json();
        let (id_token, access_token, refresh_token) =
            tokens(&self.0.post(&who, "/v1beta2/auth/refresh", body).await?);
        ok(ExchangeRefreshTokenResponse { id_token, access_token, refresh_token })
    }

    async fn revoke_token(&self, _req: Request<RevokeTokenRequest>) -> Answer<RevokeTokenResponse> {
        unsupported("revoking a single token (log out everywhere by changing the password)")
    }

    async fn get_public_key(&self, _req: Request<()>) -> Answer<GetPublicKeyResponse> {
        unsupported("publishing the token signing key")
    }
}
