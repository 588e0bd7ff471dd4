//! The generic part of the configuration services: each service is a
//! REST base path plus three mappings (create body, update body, view),
//! and [`crud_service!`] writes its five RPCs.

use serde_json::Value as Json;
use tonic::Status;

use crate::bridge::{Rest, Who};
use crate::json::{page, paging, s, segment};

/// One Fonoster resource reached through its REST endpoints.
#[derive(Clone)]
pub struct Crud {
    /// The REST API.
    pub rest: Rest,
    /// `/v1beta2/<resource>`.
    pub base: &'static str,
    /// The resource's name in messages.
    pub label: &'static str,
}

impl Crud {
    /// Creates; answers the new ref.
    pub async fn create(&self, who: &Who, body: Json) -> Result<String, Status> {
        Ok(s(&self.rest.post(who, self.base, body).await?, "ref"))
    }
    /// Reads one.
    pub async fn get(&self, who: &Who, r: &str) -> Result<Json, Status> {
        let path = format!("{}/{}", self.base, segment(self.label, r)?);
        self.rest.get(who, &path).await
    }
    /// Reads a page.
    pub async fn list(&self, who: &Who, size: i32, token: &str) -> Result<(Vec<Json>, String), Status> {
        let path = format!("{}{}", self.base, paging(size, token));
        Ok(page(&self.rest.get(who, &path).await?))
    }
    /// Changes the fields of `body`; answers the ref.
    pub async fn update(&self, who: &Who, r: &str, body: Json) -> Result<String, Status> {
        let path = format!("{}/{}", self.base, segment(self.label, r)?);
        Ok(s(&self.rest.put(who, &path, body).await?, "ref"))
    }
    /// Deletes; answers the ref.
    pub async fn delete(&self, who: &Who, r: &str) -> Result<String, Status> {
        let path = format!("{}/{}", self.base, segment(self.label, r)?);
        Ok(s(&self.rest.delete(who, &path).await?, "ref"))
    }
}

/// What a service adds to the generic mapping where the SDK's message and
/// the REST body differ by more than names: references REST cannot take
/// as the SDK sends them, and fields REST does not show.
#[tonic::async_trait]
pub trait Refine<Item: Send>: Send + Sync {
    /// Completes the REST body of a create or update.
    async fn body(&self, _crud: &Crud, _who: &Who, body: Json) -> Result<Json, Status> {
        Ok(body)
    }
    /// Completes an item made from the REST record `rec`.
    async fn item(&self, _crud: &Crud, _who: &Who, _rec: &Json, _item: &mut Item) -> Result<(), Status> {
        Ok(())
    }
}

/// Implements a generated service trait over a [`Crud`]: `$create` maps
/// the create request to the REST body, `$update` the update request,
/// `$view` the REST record to the item message.
#[macro_export]
macro_rules! crud_service {
    ($svc:ident: $tr:path, $m:ident {
        $create:ident($creq:ident) -> $cres:ident by $cmap:path,
        $update:ident($ureq:ident) -> $ures:ident by $umap:path,
        $get:ident($greq:ident) -> $item:ident by $view:path,
        $delete:ident($dreq:ident) -> $dres:ident,
        $list:ident($lreq:ident) -> $lres:ident $(,)?
    } $(, extra { $($extra:tt)* })?) => {
        #[tonic::async_trait]
        impl $tr for $svc {
            async fn $create(
                &self,
                req: tonic::Request<$m::$creq>,
            ) -> Result<tonic::Response<$m::$cres>, tonic::Status> {
                let who = $crate::bridge::Who::of(&req);
                let body = $cmap(req.get_ref())?;
                let body = $crate::crud::Refine::body(self, &self.0, &who, body).await?;
                let r#ref = self.0.create(&who, body).await?;
                Ok(tonic::Response::new($m::$cres { r#ref }))
            }
            async fn $update(
                &self,
                req: tonic::Request<$m::$ureq>,
            ) -> Result<tonic::Response<$m::$ures>, tonic::Status> {
                let who = $crate::bridge::Who::of(&req);
                let body = $umap(req.get_ref())?;
                let body = $crate::crud::Refine::body(self, &self.0, &who, body).await?;
                let r#ref = self.0.update(&who, &req.get_ref().r#ref, body).await?;
                Ok(tonic::Response::new($m::$ures { r#ref }))
            }
            async fn $get(
                &self,
                req: tonic::Request<$m::$greq>,
            ) -> Result<tonic::Response<$m::$item>, tonic::Status> {
                let who = $crate::bridge::Who::of(&req);
                let rec = self.0.get(&who, &req.get_ref().r#ref).await?;
                let mut item = $view(&rec);
                $crate::crud::Refine::item(self, &self.0, &who, &rec, &mut item).await?;
                Ok(tonic::Response::new(item))
            }
            async fn $delete(
                &self,
                req: tonic::Request<$m::$dreq>,
            ) -> Result<tonic::Response<$m::$dres>, tonic::Status> {
                let who = $crate::bridge::Who::of(&req);
                let r#ref = self.0.delete(&who, &req.get_ref().r#ref).await?;
                Ok(tonic::Response::new($m::$dres { r#ref }))
            }
            async fn $list(
                &self,
                req: tonic::Request<$m::$lreq>,
            ) -> Result<tonic::Response<$m::$lres>, tonic::Status> {
                let who = $crate::bridge::Who::of(&req);
                let q = req.get_ref();
                let (items, next_page_token) = self.0.list(&who, q.page_size, &q.page_token).await?;
                let mut shown = Vec::with_capacity(items.len());
                for rec in &items {
                    let mut item = $view(rec);
                    $crate::crud::Refine::item(self, &self.0, &who, rec, &mut item).await?;
                    shown.push(item);
                }
                let items = shown;
                Ok(tonic::Response::new($m::$lres { items, next_page_token }))
            }
            $($($extra)*)?
        }
    };
}
