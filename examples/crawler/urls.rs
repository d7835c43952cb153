//! URL normalisation, so that one page has one key: in the `seen` set, in the `pages`
//! collection and as the `url` of its item.
//!
//! Done by [`url::Url`] already: scheme and host lower-cased, the default port dropped,
//! `.`/`..` segments resolved, an empty path made `/`. Added here: the fragment dropped
//! (never sent to the server), query parameters sorted (`?b=1&a=2` and `?a=2&b=1` are one
//! page on nearly every site) and an empty `?` removed, and percent-escapes put in one form
//! (RFC 3986 §6.2.2: escaped unreserved characters decoded, hex digits upper-cased; the
//! `url` crate keeps escapes as written). A trailing slash is kept: `/a` and `/a/` may be
//! different resources, and a site that treats them as one redirects one to the other.

use url::Url;

/// `raw` resolved against `base` and normalised; `None` for what is not an http(s) page
/// (`mailto:`, `javascript:`, unparsable).
pub fn resolve(base: &Url, raw: &str) -> Option<Url> {
    let url = base.join(raw.trim()).ok()?;
    normalise(url)
}

/// The canonical form of an http(s) URL; `None` for any other scheme or no host.
pub fn normalise(mut url: Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let path = normalise_escapes(url.path());
    url.set_path(&path);
    match url.query() {
        None => {}
        Some("") => url.set_query(None),
        Some(_) => {
            let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            pairs.sort();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Some(url)
}

/// The host and port a URL is fetched from: the unit of the per-host limits and of
/// robots.txt.
pub fn host_key(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

// Hand-written: neither `url` nor `percent-encoding` offers RFC 3986 normalisation.
fn normalise_escapes(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = &path[i + 1..i + 3];
            if let Ok(value) = u8::from_str_radix(hex, 16) {
                if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                    out.push(char::from(value));
                } else {
                    out.push('%');
                    out.push_str(&hex.to_ascii_uppercase());
                }
                i += 3;
                continue;
            }
        }
        out.push(char::from(bytes[i]));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalise(Url::parse(s).unwrap()).unwrap().to_string()
    }

    #[test]
    fn one_form_per_page() {
        assert_eq!(
            norm("HTTP://Example.COM:80/a/./b/../c#top"),
            "http://example.com/a/c"
        );
        assert_eq!(norm("https://example.com:443"), "https://example.com/");
        assert_eq!(
            norm("http://example.com/p?b=2&a=1"),
            "http://example.com/p?a=1&b=2"
        );
        assert_eq!(norm("http://example.com/p?"), "http://example.com/p");
        assert_eq!(
            norm("http://example.com/%7euser/%2f%41"),
            "http://example.com/~user/%2FA"
        );
        assert_eq!(norm("http://u:p@example.com/a/"), "http://example.com/a/");
        assert!(normalise(Url::parse("mailto:a@b.c").unwrap()).is_none());
    }
}
