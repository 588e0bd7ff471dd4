//! Prefix structures that answer without scanning: a hash map per prefix
//! and the distinct prefix lengths, longest first, so a lookup costs one
//! hash probe per distinct length.

use std::collections::HashMap;

/// Values keyed by prefix; the longest prefix of a text that has an entry
/// is found with at most one probe per distinct prefix length.
#[derive(Debug, Clone)]
pub struct PrefixMap<V> {
    entries: HashMap<Box<str>, V>,
    /// Distinct key lengths in bytes, longest first.
    lengths: Vec<usize>,
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        PrefixMap { entries: HashMap::new(), lengths: Vec::new() }
    }
}

impl<V> PrefixMap<V> {
    /// The value kept for exactly `prefix`, made with `make` when absent.
    pub fn entry(&mut self, prefix: &str, make: impl FnOnce() -> V) -> &mut V {
        if !self.entries.contains_key(prefix) {
            if let Err(at) = self.lengths.binary_search_by(|l| prefix.len().cmp(l)) {
                self.lengths.insert(at, prefix.len());
            }
        }
        self.entries.entry(prefix.into()).or_insert_with(make)
    }

    /// Every entry whose key starts `text`, longest key first.
    pub fn matches<'a>(&'a self, text: &'a str) -> impl Iterator<Item = (&'a str, &'a V)> + 'a {
        self.lengths.iter().filter_map(move |&len| {
            let key = text.get(..len)?;
            self.entries.get(key).map(|v| (key, v))
        })
    }

    /// The entry with the longest key that starts `text`.
    pub fn longest<'a>(&'a self, text: &'a str) -> Option<(&'a str, &'a V)> {
        self.matches(text).next()
    }

    /// The value kept for exactly `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key)
    }

    /// Mutable access to every value.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.values_mut()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A set of prefixes: whether some member starts a text.
#[derive(Debug, Clone, Default)]
pub struct PrefixSet(PrefixMap<()>);

impl PrefixSet {
    /// Adds `prefix`.
    pub fn insert(&mut self, prefix: &str) {
        self.0.entry(prefix, || ());
    }

    /// Whether a member starts `text`.
    pub fn matches(&self, text: &str) -> bool {
        self.0.longest(text).is_some()
    }

    /// How many prefixes it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_first_and_char_boundaries() {
        let mut m = PrefixMap::default();
        for (k, v) in [("1", 1), ("100", 2), ("", 0), ("é", 9)] {
            *m.entry(k, || 0) = v;
        }
        let found: Vec<i32> = m.matches("1001").map(|(_, v)| *v).collect();
        assert_eq!(found, [2, 1, 0]);
        assert_eq!(m.longest("2").map(|(_, v)| *v), Some(0));
        assert_eq!(m.longest("éa").map(|(_, v)| *v), Some(9));
        // A length that falls inside a character is skipped, not a panic.
        assert_eq!(m.longest("\u{00e9}").map(|(k, _)| k), Some("é"));
        let mut s = PrefixSet::default();
        s.insert("+86");
        assert!(s.matches("+8613800000000") && !s.matches("+1"));
    }
}
