//! Headers: names, the ordered header list, and the typed values that the
//! core reads (Via, CSeq, Content-Type).

mod cseq;
mod media_type;
mod name;
mod via;

pub use cseq::CSeq;
pub use media_type::MediaType;
pub use name::HeaderName;
pub use via::{Rport, Transport, Via, BRANCH_COOKIE};

use crate::scan::split_outside;

/// One header value under its name. List headers (see
/// [`HeaderName::is_list`]) are split on parsing, one `Header` per element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name.
    pub name: HeaderName,
    /// The value, unfolded and trimmed.
    pub value: String,
}

/// Headers in their original order (besides the typed ones that a
/// [`crate::Head`] keeps apart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// No headers.
    pub fn new() -> Headers {
        Headers(Vec::new())
    }

    /// Appends a value.
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.push(Header { name, value: value.into() });
    }

    /// Removes every value of `name`, then appends `value`.
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        self.remove(&name);
        self.push(name, value);
    }

    /// Removes every value of `name`; returns how many there were.
    pub fn remove(&mut self, name: &HeaderName) -> usize {
        let before = self.0.len();
        self.0.retain(|h| &h.name != name);
        before - self.0.len()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.0.iter().find(|h| &h.name == name).map(|h| h.value.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |h| &h.name == name).map(|h| h.value.as_str())
    }

    /// Every element of a list header, in order, also when several elements
    /// were pushed as one comma-separated value.
    pub fn list<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name).flat_map(|v| split_outside(v, ',')).map(str::trim).filter(|v| !v.is_empty())
    }

    /// True when `name` is present.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.get(name).is_some()
    }

    /// All headers in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_splits_late_pushed_values() {
        let mut h = Headers::new();
        h.push(HeaderName::Allow, "INVITE, ACK");
        h.push(HeaderName::Allow, "BYE");
        h.push(HeaderName::Subject, "hi");
        assert_eq!(h.list(&HeaderName::Allow).collect::<Vec<_>>(), vec!["INVITE", "ACK", "BYE"]);
        assert_eq!(h.get(&HeaderName::Allow), Some("INVITE, ACK"));
        h.set(HeaderName::Allow, "OPTIONS");
        assert_eq!(h.get_all(&HeaderName::Allow).count(), 1);
        assert_eq!(h.remove(&HeaderName::Other("subject".into())), 0);
        assert_eq!(h.remove(&HeaderName::Subject), 1);
        assert_eq!(h.len(), 1);
    }
}
