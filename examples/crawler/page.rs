//! One fetched HTML page: its bytes decoded to text, its links, and the item its CSS
//! selectors find (what the roadmap does with BeautifulSoup's `select`).

use std::{collections::BTreeMap, str::FromStr};

use anyhow::Context;
use encoding_rs::{Encoding, UTF_8};
use scraper::{ElementRef, Html, Selector};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{
    Date, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description,
};
use url::Url;

use crate::urls;

/// How many leading bytes are searched for `<meta charset>` (the HTML standard's prescan
/// looks at 1024).
const PRESCAN_BYTES: usize = 1024;

/// The text of an HTML body: the charset of the `Content-Type` header, else of a `<meta>`
/// in the first 1024 bytes, else UTF-8 (a byte-order mark overrides both, as in browsers).
/// Returns the text and the encoding used.
pub fn decode(body: &[u8], content_type: Option<&str>) -> (String, &'static Encoding) {
    let declared = content_type
        .and_then(charset_param)
        .or_else(|| meta_charset(&body[..body.len().min(PRESCAN_BYTES)]))
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        // A page cannot be UTF-16 once it is read as ASCII-compatible bytes (the standard's rule).
        .map(|e| e.output_encoding())
        .unwrap_or(UTF_8);
    let (text, used, _had_errors) = declared.decode(body);
    (text.into_owned(), used)
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })
}

// Hand-written: encoding_rs decodes but leaves finding the label to the caller, and
// the full prescan algorithm is more than a crawler needs. This finds `charset=` in
// `<meta charset=…>` and in `<meta http-equiv content="text/html; charset=…">` alike.
fn meta_charset(head: &[u8]) -> Option<String> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let rest = &tag[c + b"charset".len()..];
            let rest = rest
                .trim_ascii_start()
                .strip_prefix(b"=")?
                .trim_ascii_start();
            let rest = rest
                .strip_prefix(b"\"")
                .or(rest.strip_prefix(b"'"))
                .unwrap_or(rest);
            let label: Vec<u8> = rest
                .iter()
                .copied()
                .take_while(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
                .collect();
            if !label.is_empty() {
                return String::from_utf8(label).ok();
            }
        }
        from = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The CSS selectors of an item page. A page is an item page when `item` matches; the
/// other selectors are looked up inside the first match.
#[derive(Debug, Clone)]
pub struct Selectors {
    pub item: Selector,
    pub title: Selector,
    pub category: Selector,
    pub price: Selector,
    /// Its `datetime` attribute, else its text: `2024-05-01` or RFC 3339.
    pub date: Selector,
    pub links: Selector,
}

impl Selectors {
    /// The defaults (they fit the test fixture and many listing sites), then each
    /// `field=css` override: fields `item`, `title`, `category`, `price`, `date`, `links`.
    pub fn with_overrides(overrides: &[String]) -> anyhow::Result<Self> {
        let mut css = BTreeMap::from([
            ("item", "article.item".to_owned()),
            ("title", "h1".to_owned()),
            ("category", ".category".to_owned()),
            ("price", ".price".to_owned()),
            ("date", "time".to_owned()),
            ("links", "a[href]".to_owned()),
        ]);
        for o in overrides {
            let (field, value) = o
                .split_once('=')
                .with_context(|| format!("selector `{o}`: expected field=css"))?;
            let slot = css
                .get_mut(field.trim())
                .with_context(|| format!("selector `{o}`: unknown field `{field}`"))?;
            *slot = value.trim().to_owned();
        }
        let parse = |field: &str| {
            Selector::parse(&css[field])
                .map_err(|e| anyhow::anyhow!("selector {field}=`{}`: {e}", css[field]))
        };
        Ok(Self {
            item: parse("item")?,
            title: parse("title")?,
            category: parse("category")?,
            price: parse("price")?,
            date: parse("date")?,
            links: parse("links")?,
        })
    }
}

/// What an item page holds. `content_hash` covers these fields only, so a page whose
/// markup changes around the same data (ads, a view counter) is not rewritten.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extracted {
    pub title: String,
    pub category: Option<String>,
    pub price: Option<f64>,
    pub date: Option<OffsetDateTime>,
}

impl Extracted {
    /// SHA-256 (hex) of the fields.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("plain fields serialize");
        format!("{:x}", Sha256::digest(json))
    }
}

/// A parsed page: its links (absolute, normalised) and its item, if it is an item page.
#[derive(Debug)]
pub struct Parsed {
    pub links: Vec<Url>,
    pub item: Option<Extracted>,
}

/// Parses `html` (fetched from `base`). `<a rel=nofollow>` links are skipped.
pub fn parse(html: &str, base: &Url, selectors: &Selectors) -> Parsed {
    let doc = Html::parse_document(html);
    let links = doc
        .select(&selectors.links)
        .filter(|a| {
            !a.attr("rel").is_some_and(|r| {
                r.split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("nofollow"))
            })
        })
        .filter_map(|a| a.attr("href"))
        .filter_map(|href| urls::resolve(base, href))
        .collect();
    let item = doc.select(&selectors.item).next().and_then(|item| {
        let title = text_of(item, &selectors.title)?;
        Some(Extracted {
            title,
            category: text_of(item, &selectors.category),
            price: text_of(item, &selectors.price).and_then(|p| parse_price(&p)),
            date: item.select(&selectors.date).next().and_then(|d| {
                parse_date(
                    d.attr("datetime")
                        .map(str::to_owned)
                        .unwrap_or_else(|| collapse(d))
                        .as_str(),
                )
            }),
        })
    });
    Parsed { links, item }
}

fn text_of(scope: ElementRef<'_>, selector: &Selector) -> Option<String> {
    let text = collapse(scope.select(selector).next()?);
    (!text.is_empty()).then_some(text)
}

/// The element's text with runs of whitespace made one space.
fn collapse(el: ElementRef<'_>) -> String {
    el.text()
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `₩12,900`, `$1,234.50`, `3.5 / 5` → the first number (thousands separators dropped).
pub fn parse_price(text: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let number: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .filter(|c| *c != ',')
        .collect();
    f64::from_str(number.trim_end_matches('.')).ok()
}

/// `2024-05-01` (midnight UTC) or an RFC 3339 date-time.
pub fn parse_date(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .ok()
            .map(|d| d.midnight().assume_utc())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_from_header_then_meta_then_utf8() {
        let (euc_kr, _, _) = encoding_rs::EUC_KR.encode("안녕하세요");
        let (text, enc) = decode(&euc_kr, Some("text/html; charset=EUC-KR"));
        assert_eq!((text.as_str(), enc.name()), ("안녕하세요", "EUC-KR"));
        let page = [
            b"<html><head><meta charset='euc-kr'></head><body>".as_slice(),
            &euc_kr,
        ]
        .concat();
        assert!(decode(&page, Some("text/html")).0.ends_with("안녕하세요"));
        let page = [
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-kr\">".as_slice(),
            &euc_kr,
        ]
        .concat();
        assert!(decode(&page, None).0.ends_with("안녕하세요"));
        assert_eq!(decode("é".as_bytes(), None).1.name(), "UTF-8");
    }

    #[test]
    fn prices_and_dates() {
        assert_eq!(parse_price("₩12,900"), Some(12900.0));
        assert_eq!(parse_price("$1,234.50 USD"), Some(1234.5));
        assert_eq!(parse_price("n/a"), None);
        assert_eq!(
            parse_date("2024-05-01").unwrap().unix_timestamp(),
            1_714_521_600
        );
        assert!(parse_date("2024-05-01T10:00:00+09:00").is_some());
        assert!(parse_date("yesterday").is_none());
    }
}
