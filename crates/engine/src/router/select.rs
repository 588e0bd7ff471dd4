//! Which route of a context a called number takes, stated over plain
//! records: the rule the router's prefix index implements without
//! scanning, kept as the listing's filter (`GET /api/routes?destNumber=`)
//! and as the oracle that tests compare the index with.
//!
//! A route admits a number when it is not disabled, the number starts with
//! its `prefix` and is no longer than its `max_length`. Among the routes
//! that admit it, the longest prefix wins; then the smallest `max_length`
//! (the narrower route); then the oldest route (lowest id).

use store::Record;

/// Whether `route` admits the called `number`.
pub fn admits(route: &Record, number: &str) -> bool {
    let enabled = route.int("disabled").unwrap_or(0) == 0;
    let fits = route.int("max_length").is_some_and(|max| number.chars().count() as i64 <= max);
    enabled && fits && number.starts_with(route.text("prefix"))
}

/// The route a call to `number` takes among `routes` (those of one
/// context), if any admits it.
pub fn choose<'a>(routes: impl IntoIterator<Item = &'a Record>, number: &str) -> Option<&'a Record> {
    routes.into_iter().filter(|r| admits(r, number)).min_by_key(|r| {
        (std::cmp::Reverse(r.text("prefix").chars().count()), r.int("max_length").unwrap_or(i64::MAX), r.id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::Value;

    fn route(id: i64, prefix: &str, max: i64, disabled: i64) -> Record {
        let mut rec = Record {
            id,
            r#ref: String::new(),
            workspace_id: None,
            created_at: 0,
            updated_at: 0,
            values: Default::default(),
        };
        rec.values.insert("prefix", Value::from(prefix));
        rec.values.insert("max_length", Value::Int(max));
        rec.values.insert("disabled", Value::Int(disabled));
        rec
    }

    #[test]
    fn longest_prefix_wins_within_length() {
        let routes = [route(1, "1", 12, 0), route(2, "100", 4, 0), route(3, "", 20, 0)];
        assert_eq!(choose(&routes, "1001").map(|r| r.id), Some(2));
        assert_eq!(choose(&routes, "10012").map(|r| r.id), Some(1));
        assert_eq!(choose(&routes, "2001").map(|r| r.id), Some(3));
        assert_eq!(choose(&routes, "1234567890123").map(|r| r.id), Some(3));
        assert_eq!(choose(&routes[..2], "2"), None);
    }

    #[test]
    fn disabled_routes_never_match_and_ties_prefer_narrow_then_old() {
        let routes = [route(1, "9", 12, 0), route(2, "9", 5, 0), route(3, "90", 12, 1)];
        assert_eq!(choose(&routes, "9012").map(|r| r.id), Some(2));
        assert_eq!(choose(&routes, "901234").map(|r| r.id), Some(1));
        let twins = [route(7, "5", 8, 0), route(4, "5", 8, 0)];
        assert_eq!(choose(&twins, "55").map(|r| r.id), Some(4));
    }
}
