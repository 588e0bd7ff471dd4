//! Number rewriting: number translation tables (exact or prefix) and the
//! inline `STRIP:PREPEND` form a route's `dnc`/`sdnc` may hold.

use std::collections::HashMap;
use std::sync::Arc;

use super::prefix::PrefixMap;

/// A number translation table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether `original_number` is a prefix (else the whole number).
    pub prefix: bool,
    exact: HashMap<String, String>,
    prefixes: PrefixMap<String>,
}

impl Table {
    /// An empty table.
    pub fn new(id: i64, name: &str, prefix: bool) -> Table {
        Table { id, name: name.to_owned(), prefix, exact: HashMap::new(), prefixes: PrefixMap::default() }
    }

    /// Adds a rewrite of `from` into `to`; the first one added for a
    /// number is kept.
    pub fn add(&mut self, from: &str, to: &str) {
        if self.prefix {
            self.prefixes.entry(from, || to.to_owned());
        } else {
            self.exact.entry(from.to_owned()).or_insert_with(|| to.to_owned());
        }
    }

    /// `number` rewritten, or `None` when no row applies. A prefix table
    /// replaces the longest matching prefix.
    pub fn apply(&self, number: &str) -> Option<String> {
        if self.prefix {
            let (from, to) = self.prefixes.longest(number)?;
            Some(format!("{to}{}", &number[from.len()..]))
        } else {
            self.exact.get(number).cloned()
        }
    }
}

/// How a route rewrites a number.
#[derive(Debug, Clone, Default)]
pub enum Rewrite {
    /// It does not.
    #[default]
    None,
    /// Through a translation table.
    Table(Arc<Table>),
    /// Drop the first `strip` characters, then put `prepend` in front.
    Edit {
        /// Characters dropped from the front.
        strip: usize,
        /// Text put in front.
        prepend: String,
    },
}

impl Rewrite {
    /// Reads the inline form `STRIP:PREPEND` (`1:0086`, `:9`, `2:`).
    pub fn parse(text: &str) -> Option<Rewrite> {
        let (strip, prepend) = text.split_once(':')?;
        let strip = match strip.trim() {
            "" => 0,
            s => s.parse::<usize>().ok().filter(|n| *n <= 64)?,
        };
        let prepend = prepend.trim();
        let ok =
            prepend.len() <= 32 && prepend.chars().all(|c| c.is_ascii_alphanumeric() || "+*#".contains(c));
        ok.then(|| Rewrite::Edit { strip, prepend: prepend.to_owned() })
    }

    /// `number` after the rewrite (unchanged when nothing applies).
    pub fn apply(&self, number: &str) -> String {
        match self {
            Rewrite::None => number.to_owned(),
            Rewrite::Table(t) => t.apply(number).unwrap_or_else(|| number.to_owned()),
            Rewrite::Edit { strip, prepend } => {
                let rest: String = number.chars().skip(*strip).collect();
                format!("{prepend}{rest}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_prefix_and_inline() {
        let mut exact = Table::new(1, "e", false);
        exact.add("1001", "2001");
        assert_eq!(exact.apply("1001").as_deref(), Some("2001"));
        assert_eq!(exact.apply("10011"), None);
        let mut prefix = Table::new(2, "p", true);
        prefix.add("0", "+86");
        prefix.add("00", "+");
        assert_eq!(prefix.apply("013800").as_deref(), Some("+8613800"));
        assert_eq!(prefix.apply("0044").as_deref(), Some("+44"));
        assert_eq!(Rewrite::Table(Arc::new(prefix)).apply("123"), "123");
        assert_eq!(Rewrite::parse("1:0086").map(|r| r.apply("913800")).as_deref(), Some("008613800"));
        assert_eq!(Rewrite::parse(":9").map(|r| r.apply("55")).as_deref(), Some("955"));
        assert!(Rewrite::parse("x:1").is_none() && Rewrite::parse("nothing").is_none());
    }
}
