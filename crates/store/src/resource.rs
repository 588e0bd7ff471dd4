//! Describing a resource once, so that storing, listing, filtering,
//! validating and reference checks follow from the description.

/// What kind of value a field holds: how it is stored, parsed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A 64-bit integer.
    Int,
    /// A floating-point number.
    Float,
    /// True or false, stored as 0 or 1.
    Bool,
    /// Free text.
    Text,
    /// A point in time, stored as milliseconds since the epoch.
    Time,
    /// A JSON document, stored as text.
    Json,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// The id of a record in another table (named here).
    Ref(&'static str),
}

/// One field of a resource; its name is also its column.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Column and snake_case wire name.
    pub name: &'static str,
    /// The type of its values.
    pub kind: Kind,
    /// Must be given at creation.
    pub required: bool,
    /// Unique within the scope (the workspace, or everywhere).
    pub unique: bool,
    /// Unique across every workspace, not only within one (a phone number
    /// belongs to one workspace). Implies `unique`.
    pub everywhere: bool,
    /// Stored but never shown (hashes, encrypted secrets).
    pub hidden: bool,
    /// For references: deleting the target deletes this record too,
    /// instead of being refused.
    pub cascade: bool,
    /// For integers: the smallest and largest allowed value.
    pub range: Option<(i64, i64)>,
    /// For text: the most characters allowed, when it differs from what
    /// [`Field::max_chars`] derives from the name.
    pub max_len: Option<usize>,
}

/// The most characters of a name (`name`, `username`, ...).
pub const MAX_NAME: usize = 128;
/// The most characters of a description.
pub const MAX_DESCRIPTION: usize = 1024;
/// The most characters of a URL or URI.
pub const MAX_URL: usize = 2048;
/// The most characters of an email address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;

impl Field {
    const fn new(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            required: false,
            unique: false,
            everywhere: false,
            hidden: false,
            cascade: false,
            range: None,
            max_len: None,
        }
    }
    /// An integer field.
    pub const fn int(name: &'static str) -> Field {
        Field::new(name, Kind::Int)
    }
    /// A floating-point field.
    pub const fn float(name: &'static str) -> Field {
        Field::new(name, Kind::Float)
    }
    /// A boolean field.
    pub const fn bool(name: &'static str) -> Field {
        Field::new(name, Kind::Bool)
    }
    /// A text field.
    pub const fn text(name: &'static str) -> Field {
        Field::new(name, Kind::Text)
    }
    /// A time field.
    pub const fn time(name: &'static str) -> Field {
        Field::new(name, Kind::Time)
    }
    /// A JSON field.
    pub const fn json(name: &'static str) -> Field {
        Field::new(name, Kind::Json)
    }
    /// A field limited to `values`.
    pub const fn one_of(name: &'static str, values: &'static [&'static str]) -> Field {
        Field::new(name, Kind::Enum(values))
    }
    /// A reference to a record of `table`.
    pub const fn reference(name: &'static str, table: &'static str) -> Field {
        Field::new(name, Kind::Ref(table))
    }
    /// Marks the field as required at creation.
    pub const fn required(self) -> Field {
        Field { required: true, ..self }
    }
    /// Marks the field as unique within its scope.
    pub const fn unique(self) -> Field {
        Field { unique: true, ..self }
    }
    /// Marks the field as unique across every workspace: a value one
    /// workspace holds cannot be claimed by another.
    pub const fn unique_everywhere(self) -> Field {
        Field { unique: true, everywhere: true, ..self }
    }
    /// Marks the field as never shown.
    pub const fn hidden(self) -> Field {
        Field { hidden: true, ..self }
    }
    /// Marks a reference as deleted with its target.
    pub const fn cascade(self) -> Field {
        Field { cascade: true, ..self }
    }
    /// Limits an integer to `min..=max`.
    pub const fn range(self, min: i64, max: i64) -> Field {
        Field { range: Some((min, max)), ..self }
    }
    /// Limits a text to `max` characters, whatever its name.
    pub const fn max_len(self, max: usize) -> Field {
        Field { max_len: Some(max), ..self }
    }

    /// The most characters a text field takes: its own [`Field::max_len`],
    /// or by its name: names ([`MAX_NAME`]), descriptions
    /// ([`MAX_DESCRIPTION`]), URLs, URIs and addresses ([`MAX_URL`]) and emails
    /// ([`MAX_EMAIL`]). Other texts (scripts, lists, keys) are bounded only
    /// by the request body limit. Hidden fields hold what the server
    /// made (hashes, sealed values) and have no limit.
    pub fn max_chars(&self) -> Option<usize> {
        if self.kind != Kind::Text || self.hidden {
            return None;
        }
        if self.max_len.is_some() {
            return self.max_len;
        }
        let n = self.name;
        if n == "name" || n.ends_with("_name") || n == "username" || n == "realm" {
            Some(MAX_NAME)
        } else if n == "description" {
            Some(MAX_DESCRIPTION)
        } else if n == "email" {
            Some(MAX_EMAIL)
        } else if n.ends_with("_url")
            || n.ends_with("_uri")
            || n.ends_with("_addr")
            || n == "endpoint"
            || n == "avatar"
        {
            Some(MAX_URL)
        } else {
            None
        }
    }

    /// Fails with the limit when `text` is longer than [`Field::max_chars`].
    pub fn check_len(&self, text: &str) -> Result<(), usize> {
        match self.max_chars() {
            Some(max) if text.chars().count() > max => Err(max),
            _ => Ok(()),
        }
    }
}

/// A reference whose target depends on another field: `field` holds the
/// id of a record of `table` when the field `when.0` has one of the values
/// `when.1` (a route's `dest_uuid` names a gateway when its `dest_type` is
/// `FS_DEST_GATEWAY`). Checked like a reference on write and on delete.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// The field holding the id (text or integer).
    pub field: &'static str,
    /// The table it then refers to.
    pub table: &'static str,
    /// The field and values under which it refers there.
    pub when: (&'static str, &'static [&'static str]),
    /// Deleting the target deletes this record too.
    pub cascade: bool,
    /// The field is a JSON document that names targets by their `ref`
    /// (a domain's egress policies name numbers): checked on delete only,
    /// the writer's rules check it on write.
    pub by_ref: bool,
}

impl Link {
    /// `field` names a record of `table` when `when_field` is one of `values`.
    pub const fn new(
        field: &'static str,
        table: &'static str,
        when_field: &'static str,
        values: &'static [&'static str],
    ) -> Link {
        Link { field, table, when: (when_field, values), cascade: false, by_ref: false }
    }
    /// `field`, when not empty, always names a record of `table`.
    pub const fn always(field: &'static str, table: &'static str) -> Link {
        Link { field, table, when: ("", &[]), cascade: false, by_ref: false }
    }
    /// `field`, a JSON document, names records of `table` by their refs
    /// (as JSON strings): deleting one of them is refused.
    pub const fn refs_in_json(field: &'static str, table: &'static str) -> Link {
        Link { field, table, when: ("", &[]), cascade: false, by_ref: true }
    }
    /// Marks the link as deleted with its target.
    pub const fn cascade(self) -> Link {
        Link { cascade: true, ..self }
    }
}

/// A kind of record: its table and fields. Every table also has `id`,
/// `ref`, `created_at`, `updated_at` and, when scoped, `workspace_id`.
#[derive(Debug)]
pub struct Resource {
    /// The table.
    pub table: &'static str,
    /// What one record is called in messages ("API key").
    pub label: &'static str,
    /// Whether records belong to a workspace.
    pub scoped: bool,
    /// The quota that limits how many a workspace may have, by name.
    pub quota: Option<&'static str>,
    /// The fields besides the standard columns.
    pub fields: &'static [Field],
    /// References whose target depends on another field.
    pub links: &'static [Link],
}

/// A column a query may name: a field or a standard column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// The type of its values.
    pub kind: Kind,
}

/// Whose records an operation sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One workspace's records (by workspace id).
    Workspace(i64),
    /// Every record; for tables that belong to no workspace.
    Global,
}

const STANDARD: &[Column] = &[
    Column { name: "id", kind: Kind::Int },
    Column { name: "ref", kind: Kind::Text },
    Column { name: "created_at", kind: Kind::Time },
    Column { name: "updated_at", kind: Kind::Time },
];

impl Resource {
    /// The field called `name`, if any.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The column called `name` (field or standard), if it may be queried.
    pub fn column(&self, name: &str) -> Option<Column> {
        STANDARD
            .iter()
            .copied()
            .find(|c| c.name == name)
            .or_else(|| self.field(name).filter(|f| !f.hidden).map(|f| Column { name: f.name, kind: f.kind }))
    }

    /// The names of every column a query may name.
    pub fn column_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        STANDARD.iter().map(|c| c.name).chain(self.fields.iter().filter(|f| !f.hidden).map(|f| f.name))
    }
}
