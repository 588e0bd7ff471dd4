//! How a stored resource looks on the Fonoster wire where that is not
//! simply its camelCase columns: fields under another name
//! (`accessControlList` is `acl_id`, `outboundUri` is `remote_addr`),
//! write-only secrets kept sealed, and columns of other dialects that
//! Fonoster does not show. One table per resource, read by one
//! implementation of [`Rules`], instead of code per handler.

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use store::{Filter, Kind, Record, Resource, Value, Values};

use crate::crud::fonoster::ref_name;
use crate::crud::values::{given_text, set};
use crate::crud::{Cx, Rules};
use crate::dialect::camel;
use crate::error::ApiError;
use crate::input::{convert_checked, Casing, Input};
use crate::openapi::schema;
use crate::routes::Prop;

/// The Fonoster shape of one resource, wrapping its own rules.
pub struct Shape {
    /// The resource.
    pub res: &'static Resource,
    /// `(stored field, wire name)` of fields read and shown under another
    /// name. A reference is read as `{"ref": ...}`, a ref string, or
    /// `<wire>Ref`, and shown as `{ref, name}`.
    pub aliases: &'static [(&'static str, &'static str)],
    /// `(wire name, stored field)` of write-only values: read as text,
    /// sealed with the state's sealer, never shown. Required on create when
    /// the stored field is.
    pub sealed: &'static [(&'static str, &'static str)],
    /// Stored fields that belong to other dialects and are not shown.
    pub foreign: &'static [&'static str],
    /// The resource's own checks and view, applied after the aliases are
    /// read and before the shape is applied to the view.
    pub own: &'static dyn Rules,
}

/// The raw ref a body gives for the reference `wire`: `{"ref": ...}`, a
/// string, or `<wire>Ref`. `Some(Null)` clears it.
fn raw_ref(body: &Map<String, Json>, wire: &str) -> Option<Json> {
    match body.get(wire) {
        Some(Json::Object(o)) => Some(o.get("ref").cloned().unwrap_or(Json::Null)),
        Some(other) => Some(other.clone()),
        None => body.get(&format!("{wire}Ref")).cloned(),
    }
}

/// The id of the record of `table` whose ref is `r` in the caller's
/// workspace, or a message for the field.
pub async fn resolve(cx: &Cx<'_>, table: &str, r: &str) -> Result<Result<i64, String>, ApiError> {
    let target = store::schema::by_table(table).ok_or_else(|| ApiError::internal(table))?;
    Ok(match cx.state.db.find(target, cx.scope, &[Filter::eq("ref", r)]).await? {
        Some(rec) => Ok(rec.id),
        None => Err(format!("refers to a {} that does not exist", target.label)),
    })
}

impl Shape {
    async fn read_aliases(
        &self,
        cx: &Cx<'_>,
        body: &Map<String, Json>,
        values: &mut Values,
        create: bool,
        problems: &mut Input<'_>,
    ) -> Result<(), ApiError> {
        for &(name, wire) in self.aliases {
            let field = self.res.field(name).ok_or_else(|| ApiError::internal(name))?;
            let raw = match field.kind {
                Kind::Ref(_) => raw_ref(body, wire),
                _ => body.get(wire).cloned(),
            };
            let value = match (raw, field.kind) {
                (None | Some(Json::Null), _) if create && field.required => {
                    problems.reject(wire, "is required");
                    continue;
                }
                (None, _) => continue,
                (Some(Json::Null), _) => Value::Null,
                (Some(Json::String(r)), Kind::Ref(table)) if !r.trim().is_empty() => {
                    match resolve(cx, table, r.trim()).await? {
                        Ok(id) => Value::Int(id),
                        Err(m) => {
                            problems.reject(wire, m);
                            continue;
                        }
                    }
                }
                (Some(_), Kind::Ref(_)) => {
                    problems.reject(wire, "must be a ref (a string, or an object with a ref)");
                    continue;
                }
                (Some(raw), _) => match convert_checked(&raw, field) {
                    Ok(v) => v,
                    Err(m) => {
                        problems.reject(wire, m);
                        continue;
                    }
                },
            };
            values.retain(|(n, _)| *n != field.name);
            values.push((field.name, value));
        }
        Ok(())
    }

    fn read_sealed(
        &self,
        cx: &Cx<'_>,
        body: &Map<String, Json>,
        values: &mut Values,
        create: bool,
        problems: &mut Input<'_>,
    ) -> Result<(), ApiError> {
        for &(wire, name) in self.sealed {
            let field = self.res.field(name).ok_or_else(|| ApiError::internal(name))?;
            match body.get(wire) {
                Some(Json::String(s)) if !s.is_empty() => {
                    if s.len() > 4096 {
                        problems.reject(wire, "is too long (at most 4096 bytes)");
                    } else {
                        values.push((field.name, Value::Text(cx.state.sealer.seal(s)?)));
                    }
                }
                None if !create || !field.required => {}
                None | Some(Json::Null) | Some(Json::String(_)) => problems.reject(wire, "is required"),
                Some(_) => problems.reject(wire, "must be a string"),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Rules for Shape {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let object = body.as_object().ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
        let mut problems = Input::new(body, Casing::Camel)?;
        self.read_aliases(cx, object, values, current.is_none(), &mut problems).await?;
        self.read_sealed(cx, object, values, current.is_none(), &mut problems)?;
        problems.finish()?;
        self.own.prepare(cx, body, values, current).await
    }

    /// The aliases and sealed values, then the own rules' properties.
    fn documented(&self, create: bool) -> Vec<Prop> {
        let mut props = Vec::new();
        for &(name, wire) in self.aliases {
            let Some(field) = self.res.field(name) else { continue };
            let mut schema = match field.kind {
                Kind::Ref(_) => schema::ref_input(),
                _ => schema::input_field(field, Casing::Camel).1,
            };
            if !field.required && matches!(field.kind, Kind::Ref(_)) {
                schema = schema::nullable(schema);
            }
            if matches!(field.kind, Kind::Ref(_)) {
                let by_ref = schema::nullable(schema::required_text());
                props.push(Prop { name: format!("{wire}Ref"), schema: by_ref, required: false });
            }
            props.push(Prop { name: wire.to_owned(), schema, required: create && field.required });
        }
        for &(wire, name) in self.sealed {
            let required = create && self.res.field(name).is_some_and(|f| f.required);
            let schema = json!({"type": "string", "minLength": 1, "maxLength": 4096, "writeOnly": true});
            props.push(Prop { name: wire.to_owned(), schema, required });
        }
        props.extend(self.own.documented(create));
        props
    }

    async fn view(&self, cx: &Cx<'_>, rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        self.own.view(cx, rec, out).await?;
        let shown = |name: &str| match self.res.field(name).map(|f| f.kind) {
            Some(Kind::Ref(_)) => ref_name(name),
            _ => camel(name),
        };
        for name in self.foreign {
            out.remove(&shown(name));
        }
        for &(name, wire) in self.aliases {
            if let Some(v) = out.remove(&shown(name)) {
                out.insert(wire.to_owned(), v);
            }
        }
        Ok(())
    }
}

/// Replaces the given text of `name` by what `check` makes of it, or
/// notes the problem under `wire`.
pub fn check_text(
    values: &mut Values,
    input: &mut Input<'_>,
    name: &'static str,
    wire: &str,
    check: impl Fn(&str) -> Result<String, String>,
) {
    if let Some(text) = given_text(values, name) {
        match check(text) {
            Ok(v) => set(values, name, Value::Text(v)),
            Err(m) => input.reject(wire, m),
        }
    }
}
