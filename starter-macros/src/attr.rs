//! Helpers shared by the derives: collecting several errors, unknown and duplicate keys.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Expr, Lit, LitStr, Token, meta::ParseNestedMeta, spanned::Spanned};

/// Collects errors so that one `cargo build` reports all of them, not only the first.
#[derive(Default)]
pub(crate) struct Errors(Vec<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        self.0.push(err);
    }

    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.0.push(syn::Error::new_spanned(tokens, message));
    }

    /// All errors as one (`syn::Error::combine`), or `None` when there are none.
    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.0.into_iter().reduce(|mut all, next| {
            all.combine(next);
            all
        })
    }
}

/// The compile errors, plus `fallback` so that the rest of the crate still type-checks
/// against the trait (one error for the attribute instead of a second one for every use).
pub(crate) fn with_fallback(err: syn::Error, fallback: TokenStream) -> TokenStream {
    let mut out = err.to_compile_error();
    out.extend(fallback);
    out
}

/// Parses one key with `parse`. An error in it is recorded and the rest of the key skipped,
/// so that the keys after it are still checked and all problems reported at once.
pub(crate) fn keep_going(
    errors: &mut Errors,
    meta: &ParseNestedMeta<'_>,
    parse: impl FnOnce(&mut Errors) -> syn::Result<()>,
) -> syn::Result<()> {
    if let Err(e) = parse(errors) {
        errors.push(e);
        skip_value(meta)?;
    }
    Ok(())
}

/// `key = "…"`, with an error showing `example` when the value is not a string.
pub(crate) fn lit_str(meta: &ParseNestedMeta<'_>, example: &str) -> syn::Result<LitStr> {
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            format!("expected a string in quotes, like `{example}`"),
        )),
    }
}

/// The name of a `key` in `#[attr(key ...)]`, as written.
pub(crate) fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    meta.path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| meta.path.to_token_stream().to_string().replace(' ', ""))
}

/// Skips the `= value` or `(…)` after a key that is reported as unknown, so parsing can go on
/// and report the next problem too.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}

/// "unknown key `x` in `#[attr(…)]`; did you mean `y`? expected one of: …".
/// `elsewhere` lists keys that are valid at another place, with where they go.
pub(crate) fn unknown_key(
    meta: &ParseNestedMeta<'_>,
    place: &str,
    valid: &[&str],
    elsewhere: &[(&str, &str)],
) -> syn::Error {
    let name = key_name(meta);
    let message = if let Some((_, hint)) = elsewhere.iter().find(|(k, _)| *k == name) {
        format!("`{name}` is not allowed in {place}; {hint}")
    } else {
        let list = valid
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match closest(&name, valid) {
            Some(guess) => {
                format!(
                    "unknown key `{name}` in {place}; did you mean `{guess}`? expected one of: {list}"
                )
            }
            None => format!("unknown key `{name}` in {place}; expected one of: {list}"),
        }
    };
    syn::Error::new(meta.path.span(), message)
}

/// The valid key closest to `name`, if it is close enough to be a typo.
pub(crate) fn closest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    valid
        .iter()
        .map(|k| (edit_distance(&name, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance (optimal string alignment, so a swap of two letters counts 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Remembers which keys were already given, to report `key = …` written twice.
#[derive(Default)]
pub(crate) struct Seen(Vec<String>);

impl Seen {
    /// Records the key of `meta`; an error if it was already given.
    pub(crate) fn check(&mut self, meta: &ParseNestedMeta<'_>, place: &str) -> syn::Result<()> {
        let name = key_name(meta);
        if self.0.contains(&name) {
            return Err(syn::Error::new(
                meta.path.span(),
                format!("duplicate key `{name}` in {place}"),
            ));
        }
        self.0.push(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_intended_key() {
        let keys = ["collection", "index", "crate"];
        assert_eq!(closest("colection", &keys), Some("collection"));
        assert_eq!(closest("idnex", &keys), Some("index"));
        assert_eq!(closest("Crate", &keys), Some("crate"));
        assert_eq!(closest("table", &keys), None);
        assert_eq!(edit_distance("status", "stauts"), 1);
    }
}
