//! Header assertions that look at every line of a header, not only the first:
//! `HeaderMap::get` would hide a duplicated `Content-Type` or `Set-Cookie`.

use reqwest::header::{AsHeaderName, HeaderMap};

/// Every value of the header `name`, in order (`get_all`, not only the first).
pub fn header_values<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

/// The value of the header `name`, which must be there exactly once.
pub fn one_header<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> String {
    let values = header_values(headers, name.clone());
    assert_eq!(
        values.len(),
        1,
        "exactly one {name:?} header expected, got {values:?}"
    );
    values.into_iter().next().expect("one value")
}

/// The value of the header `name` if it is there (exactly once); `None` if it is not.
pub fn opt_header<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> Option<String> {
    let values = header_values(headers, name.clone());
    assert!(
        values.len() <= 1,
        "at most one {name:?} header expected, got {values:?}"
    );
    values.into_iter().next()
}

/// Asserts that the header `name` is absent.
pub fn no_header<K: AsHeaderName + std::fmt::Debug + Clone>(headers: &HeaderMap, name: K) {
    let values = header_values(headers, name.clone());
    assert!(
        values.is_empty(),
        "no {name:?} header expected, got {values:?}"
    );
}

/// The items of a list-valued header (`Access-Control-Allow-Methods: GET, POST`), over
/// every line of it, trimmed and lowercased.
pub fn header_list<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> Vec<String> {
    header_values(headers, name)
        .iter()
        .flat_map(|v| v.split(','))
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}
