//! HAL `_links` of a page of applications: `self`, `first` and `last`
//! always, `prev` past the first page, `next` before the last, each an
//! `{href}` relative to the server, as Vonage answers them. The official
//! clients follow `next` to iterate every page.

use serde_json::{json, Map, Value as Json};

/// The `_links` of page `page` (from 1) of `total` items, `size` a page.
pub fn page_links(path: &str, page: u64, size: u64, total: u64) -> Json {
    let last = total.div_ceil(size.max(1)).max(1);
    let href = |p: u64| json!({ "href": format!("{path}?page_size={size}&page={p}") });
    let mut links = Map::new();
    links.insert("self".into(), href(page));
    links.insert("first".into(), href(1));
    links.insert("last".into(), href(last));
    if page > 1 {
        // A page past the end points back at the last one.
        links.insert("prev".into(), href((page - 1).min(last)));
    }
    if page < last {
        links.insert("next".into(), href(page + 1));
    }
    Json::Object(links)
}

/// The schema of [`page_links`].
pub fn schema() -> Json {
    let link = json!({
        "type": "object",
        "required": ["href"],
        "properties": {"href": {"type": "string"}},
    });
    json!({
        "type": "object",
        "required": ["self", "first", "last"],
        "properties": {"self": link, "first": link, "last": link, "prev": link, "next": link},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn href(links: &Json, rel: &str) -> Option<String> {
        links.get(rel).map(|l| l["href"].as_str().unwrap_or_default().to_owned())
    }

    #[test]
    fn a_middle_page_links_both_ways() {
        let l = page_links("/v2/applications", 2, 10, 26);
        assert_eq!(href(&l, "self").as_deref(), Some("/v2/applications?page_size=10&page=2"));
        assert_eq!(href(&l, "first").as_deref(), Some("/v2/applications?page_size=10&page=1"));
        assert_eq!(href(&l, "last").as_deref(), Some("/v2/applications?page_size=10&page=3"));
        assert_eq!(href(&l, "prev").as_deref(), Some("/v2/applications?page_size=10&page=1"));
        assert_eq!(href(&l, "next").as_deref(), Some("/v2/applications?page_size=10&page=3"));
    }

    #[test]
    fn the_last_page_has_no_next_and_the_first_no_prev() {
        let last = page_links("/v2/applications", 3, 10, 26);
        assert!(last.get("next").is_none());
        assert!(last.get("prev").is_some());
        let first = page_links("/v2/applications", 1, 10, 26);
        assert!(first.get("prev").is_none());
        assert!(first.get("next").is_some());
    }

    #[test]
    fn an_empty_list_is_one_page_without_next() {
        let l = page_links("/v2/applications", 1, 10, 0);
        assert_eq!(href(&l, "last").as_deref(), Some("/v2/applications?page_size=10&page=1"));
        assert!(l.get("next").is_none() && l.get("prev").is_none());
    }

    #[test]
    fn a_page_past_the_end_points_back_at_the_last() {
        let l = page_links("/v2/applications", 9, 10, 15);
        assert!(l.get("next").is_none());
        assert_eq!(href(&l, "prev").as_deref(), Some("/v2/applications?page_size=10&page=2"));
    }
}
