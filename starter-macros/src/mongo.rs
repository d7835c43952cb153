//! `#[derive(MongoDocument)]`: the collection name and the indexes of a stored type.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{
    Data, DeriveInput, Expr, Fields, Ident, Lit, LitStr, Token, meta::ParseNestedMeta,
    punctuated::Punctuated, spanned::Spanned,
};

use crate::{
    attr::{
        Errors, Seen, closest, keep_going, key_name, lit_str, skip_value, unknown_key,
        with_fallback,
    },
    paths::{self, Target},
    serde_attr::{SerdeContainer, SerdeField},
};

const STRUCT_KEYS: &[&str] = &["collection", "index", "crate"];
const STRUCT_ELSEWHERE: &[(&str, &str)] = &[
    (
        "id",
        "put `#[mongo(id)]` on the id field (the one with `#[serde(rename = \"_id\")]`)",
    ),
    (
        "unique",
        "put `#[mongo(unique)]` on the field, or write `#[mongo(index(asc = \"…\", unique))]`",
    ),
    (
        "ttl",
        "put `#[mongo(ttl = \"30d\")]` on the date field that expires",
    ),
    (
        "text",
        "write `#[mongo(index(text = [\"title\", \"content\"]))]`",
    ),
    ("asc", "write `#[mongo(index(asc = \"field\"))]`"),
    ("desc", "write `#[mongo(index(desc = \"field\"))]`"),
];
const INDEX_KEYS: &[&str] = &["asc", "desc", "text", "unique", "name"];
const INDEX_ELSEWHERE: &[(&str, &str)] = &[(
    "ttl",
    "a TTL index is on one date field: put `#[mongo(ttl = \"30d\")]` on that field",
)];
const FIELD_KEYS: &[&str] = &["id", "index", "unique", "ttl"];
const FIELD_ELSEWHERE: &[(&str, &str)] = &[
    (
        "collection",
        "`collection` goes on the struct: `#[mongo(collection = \"…\")]`",
    ),
    ("crate", "`crate` goes on the struct"),
    (
        "text",
        "a text index is declared on the struct: `#[mongo(index(text = [\"title\", \"content\"]))]`",
    ),
    (
        "desc",
        "write `#[mongo(index = desc)]` for a descending index on this field",
    ),
    (
        "asc",
        "write `#[mongo(index)]` (or `index = asc`) for an ascending index on this field",
    ),
];

/// Largest TTL MongoDB accepts (`expireAfterSeconds` is a 32-bit integer).
const MAX_TTL_SECS: u64 = i32::MAX as u64;

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Asc,
    Desc,
    Text,
}

impl Dir {
    /// The value of the key in the index document, as in `{ "created_at": -1 }`.
    fn value(self) -> TokenStream {
        match self {
            Dir::Asc => quote!(1),
            Dir::Desc => quote!(-1),
            Dir::Text => quote!("text"),
        }
    }

    /// The part of MongoDB's default index name (`created_at_-1`, `title_text`).
    fn name_part(self) -> &'static str {
        match self {
            Dir::Asc => "1",
            Dir::Desc => "-1",
            Dir::Text => "text",
        }
    }
}

/// One index to generate: keys by stored field name, in order, and its options.
struct IndexSpec {
    keys: Vec<(String, Dir)>,
    unique: bool,
    ttl_secs: Option<u64>,
    name: Option<String>,
    /// What errors about the index as a whole point at.
    span: Span,
}

impl IndexSpec {
    /// The name the index gets, as `starter_mongo::index::Index::on` names it.
    fn effective_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.keys
                .iter()
                .map(|(k, d)| format!("{k}_{}", d.name_part()))
                .collect::<Vec<_>>()
                .join("_")
        })
    }

    fn to_tokens(&self, m: &TokenStream) -> TokenStream {
        let keys = self.keys.iter().map(|(field, dir)| {
            let value = dir.value();
            quote!(#field: #value)
        });
        let unique = self.unique.then(|| quote!(.unique(true)));
        let ttl = self
            .ttl_secs
            .map(|secs| quote!(.expire_after(::core::time::Duration::from_secs(#secs))));
        let name = self
            .name
            .as_ref()
            .map(|n| quote!(.name(::std::string::String::from(#n))));
        quote! {
            #m::index::Index::on(
                #m::bson::doc! { #(#keys),* },
                #m::mongodb::options::IndexOptions::builder() #unique #ttl #name .build(),
            )
        }
    }
}

/// A key of a struct-level `index(…)`, before its field name is checked.
struct StructIndex {
    keys: Vec<(LitStr, Dir)>,
    unique: bool,
    name: Option<LitStr>,
    span: Span,
}

/// What `#[mongo(…)]` on a field asks for.
#[derive(Default)]
struct FieldAttrs {
    id: Option<Span>,
    index: Option<Dir>,
    unique: bool,
    ttl_secs: Option<u64>,
    /// The first key that asks for an index, for errors about it.
    index_span: Option<Span>,
}

struct StoredField<'a> {
    ident: &'a Ident,
    stored: String,
    serde: SerdeField,
}

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let mut collection: Option<LitStr> = None;
    let mut krate: Option<syn::Path> = None;
    let mut struct_indexes: Vec<StructIndex> = Vec::new();
    // Given, even if invalid: then it is not also reported as missing.
    let mut collection_given = false;

    let mut seen = Seen::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("mongo")) {
        let res = attr.parse_nested_meta(|meta| {
            keep_going(&mut errors, &meta, |errors| {
                let place = "`#[mongo(…)]` on a struct";
                match key_name(&meta).as_str() {
                    "collection" => {
                        collection_given = true;
                        seen.check(&meta, place)?;
                        collection = Some(lit_str(&meta, "collection = \"notes\"")?);
                    }
                    "crate" => {
                        seen.check(&meta, place)?;
                        let lit = lit_str(&meta, "crate = \"starter::mongo\"")?;
                        krate = Some(lit.parse().map_err(|_| {
                            syn::Error::new_spanned(&lit, "expected a path, like `starter::mongo`")
                        })?);
                    }
                    "index" => struct_indexes.push(parse_struct_index(&meta, errors)?),
                    name => {
                        // A misspelt `collection` is reported once, not also as missing.
                        collection_given |= closest(name, STRUCT_KEYS) == Some("collection");
                        errors.push(unknown_key(&meta, place, STRUCT_KEYS, STRUCT_ELSEWHERE));
                        skip_value(&meta)?;
                    }
                }
                Ok(())
            })
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }

    let target = Target {
        package: "starter-mongo",
        facade_module: Some("mongo"),
        derive: "#[derive(MongoDocument)]",
        attr: "mongo",
    };
    let m = match paths::resolve(&target, krate) {
        Ok(path) => path,
        Err(e) => {
            errors.push(e);
            return errors
                .into_error()
                .map(|e| e.to_compile_error())
                .unwrap_or_default();
        }
    };

    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let imp = |collection: &str, indexes: Option<TokenStream>| {
        let indexes = indexes.map(|list| {
            quote! {
                fn indexes() -> ::std::vec::Vec<#m::mongodb::IndexModel> {
                    ::std::vec![#list]
                }
            }
        });
        quote! {
            #[automatically_derived]
            impl #impl_generics #m::MongoDocument for #ident #ty_generics #where_clause {
                const COLLECTION: &'static str = #collection;
                #indexes
            }
        }
    };
    let fallback = imp("", None);

    match &collection {
        None if collection_given => {}
        None => errors.spanned(
            ident,
            "missing `#[mongo(collection = \"…\")]`: name the collection this type is stored in",
        ),
        Some(lit) => {
            if let Some(problem) = collection_problem(&lit.value()) {
                errors.spanned(lit, problem);
            }
        }
    }

    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Some(named),
            Fields::Unnamed(_) => {
                errors.spanned(
                    &s.fields,
                    "`#[derive(MongoDocument)]` needs named fields: a document is stored as an object, and a tuple struct has no field names",
                );
                None
            }
            Fields::Unit => {
                errors.spanned(
                    ident,
                    "`#[derive(MongoDocument)]` needs a struct with named fields; a unit struct stores nothing",
                );
                None
            }
        },
        Data::Enum(e) => {
            errors.spanned(
                e.enum_token,
                "`#[derive(MongoDocument)]` works on structs with named fields, not on enums",
            );
            None
        }
        Data::Union(u) => {
            errors.spanned(
                u.union_token,
                "`#[derive(MongoDocument)]` works on structs with named fields, not on unions",
            );
            None
        }
    };
    let Some(named) = named else {
        return with_fallback(errors.into_error().expect("an error was pushed"), fallback);
    };

    // ---- fields: stored names, the id, field-level indexes
    let container = SerdeContainer::from_attrs(&input.attrs);
    let mut fields: Vec<StoredField<'_>> = Vec::new();
    let mut indexes: Vec<IndexSpec> = Vec::new();
    let mut marked_id: Option<&syn::Field> = None;
    for field in &named.named {
        let ident = field.ident.as_ref().expect("named fields have names");
        let serde = SerdeField::from_attrs(&field.attrs);
        let stored = container.stored_name(ident, &serde);
        let attrs = parse_field_attrs(field, &mut errors);

        if let Some(span) = attrs.id {
            match marked_id {
                Some(_) => errors.push(syn::Error::new(
                    span,
                    "only one field can be `#[mongo(id)]`",
                )),
                None => marked_id = Some(field),
            }
        }
        if let Some(span) = attrs.index_span {
            if serde.skipped {
                errors.push(syn::Error::new(
                    span,
                    format!("`{ident}` is not stored (`#[serde(skip…)]`), so it cannot be indexed"),
                ));
            } else if serde.flatten {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "`{ident}` is `#[serde(flatten)]`: it is not a stored field itself; index its inner fields with `#[mongo(index(asc = \"…\"))]` on this struct"
                    ),
                ));
            } else if stored == "_id" {
                errors.push(syn::Error::new(
                    span,
                    "MongoDB always has a unique index on `_id`; remove this index",
                ));
            } else {
                indexes.push(IndexSpec {
                    // `unique` and `ttl` alone make an ascending index.
                    keys: vec![(stored.clone(), attrs.index.unwrap_or(Dir::Asc))],
                    unique: attrs.unique,
                    ttl_secs: attrs.ttl_secs,
                    name: None,
                    span,
                });
            }
        }
        fields.push(StoredField {
            ident,
            stored,
            serde,
        });
    }

    // The id: the field marked `#[mongo(id)]`, or else a field named `id` unless another
    // field is already stored as `_id`.
    let id_field = marked_id.or_else(|| {
        let has_id = fields.iter().any(|f| f.stored == "_id");
        let named_id = |f: &&syn::Field| f.ident.as_ref().is_some_and(|i| i == "id");
        (!has_id)
            .then(|| named.named.iter().find(named_id))
            .flatten()
    });
    if let Some(field) = id_field {
        let ident = field.ident.as_ref().expect("named");
        let stored = &fields
            .iter()
            .find(|f| f.ident == ident)
            .expect("listed")
            .stored;
        if stored != "_id" {
            errors.spanned(
                ident,
                format!(
                    "the id field must be stored as `_id`, but `{ident}` is stored as `{stored}`: add `#[serde(rename = \"_id\")]` to it"
                ),
            );
        }
    }

    // ---- struct-level indexes: every key must name a stored field
    let has_flatten = fields.iter().any(|f| f.serde.flatten);
    for index in struct_indexes {
        if index.keys.is_empty() {
            continue; // already reported
        }
        let mut keys = Vec::new();
        for (lit, dir) in &index.keys {
            let name = lit.value();
            let first = name.split('.').next().unwrap_or_default();
            if let Some(problem) = unknown_field(first, &fields, has_flatten) {
                errors.spanned(lit, problem);
            }
            keys.push((name, *dir));
        }
        indexes.push(IndexSpec {
            keys,
            unique: index.unique,
            ttl_secs: None,
            name: index.name.map(|n| n.value()),
            span: index.span,
        });
    }

    // ---- across indexes: one text index, distinct names
    let mut text_seen = false;
    let mut names: Vec<String> = Vec::new();
    for index in &indexes {
        if index.keys.iter().any(|(_, d)| *d == Dir::Text) {
            if text_seen {
                errors.push(syn::Error::new(
                    index.span,
                    "a collection can have only one text index; list all its fields in one `text = [\"…\", …]`",
                ));
            }
            text_seen = true;
        }
        let name = index.effective_name();
        if names.contains(&name) {
            errors.push(syn::Error::new(
                index.span,
                format!(
                    "another index is also named `{name}`; remove one of the two, or give this one its own `name = \"…\"`"
                ),
            ));
        }
        names.push(name);
    }

    if let Some(err) = errors.into_error() {
        return with_fallback(err, fallback);
    }
    let collection = collection.expect("checked above").value();
    let list = (!indexes.is_empty()).then(|| {
        let each = indexes.iter().map(|i| i.to_tokens(&m));
        quote!(#(#each),*)
    });
    imp(&collection, list)
}

/// Why `name` cannot be a collection name, if it cannot.
fn collection_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("the collection name is empty".into())
    } else if name.contains('$') {
        Some(format!(
            "collection names cannot contain `$` (MongoDB reserves it): `{name}`"
        ))
    } else if name.contains('\0') {
        Some("collection names cannot contain a NUL character".into())
    } else if name.starts_with("system.") {
        Some(format!(
            "`{name}`: collection names starting with `system.` are reserved by MongoDB"
        ))
    } else {
        None
    }
}

/// Why `name` (the first part of an index key) names no stored field, if it does not.
fn unknown_field(name: &str, fields: &[StoredField<'_>], has_flatten: bool) -> Option<String> {
    if let Some(f) = fields.iter().find(|f| f.stored == name) {
        return f.serde.skipped.then(|| {
            format!(
                "`{}` is not stored (`#[serde(skip…)]`), so it cannot be indexed",
                f.ident
            )
        });
    }
    // `_id` always exists; a flattened field's inner names are not known here.
    if name == "_id" || has_flatten {
        return None;
    }
    if let Some(f) = fields.iter().find(|f| f.ident == name) {
        return Some(format!(
            "no field is stored as `{name}`: field `{}` is stored as `{}` (serde rename); index keys use the stored name",
            f.ident, f.stored
        ));
    }
    let stored: Vec<String> = fields
        .iter()
        .filter(|f| !f.serde.skipped)
        .map(|f| format!("`{}`", f.stored))
        .collect();
    Some(format!(
        "no field is stored as `{name}`; the stored fields are: {}",
        stored.join(", ")
    ))
}

/// A key that takes no value, like `unique`.
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        let name = key_name(meta);
        return Err(syn::Error::new(
            meta.path.span(),
            format!("`{name}` takes no value: write just `{name}`"),
        ));
    }
    Ok(())
}

/// `index(asc = "a", desc = "b", unique, name = "…")` or `index(text = ["a", "b"])`.
fn parse_struct_index(meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<StructIndex> {
    let span = meta.path.span();
    let mut index = StructIndex {
        keys: Vec::new(),
        unique: false,
        name: None,
        span,
    };
    if !meta.input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            span,
            "write the index's keys in parentheses: `index(asc = \"field\")`, `index(desc = \"a\", asc = \"b\")` or `index(text = [\"title\", \"content\"])`",
        ));
    }
    let mut seen = Seen::default();
    let mut text_span: Option<Span> = None;
    let mut dir_span: Option<Span> = None;
    let mut any_key = false;
    let place = "`index(…)`";
    meta.parse_nested_meta(|inner| {
        keep_going(errors, &inner, |errors| {
            match key_name(&inner).as_str() {
                key @ ("asc" | "desc") => {
                    let lit = lit_str(&inner, &format!("{key} = \"created_at\""))?;
                    let dir = if key == "asc" { Dir::Asc } else { Dir::Desc };
                    any_key = true;
                    push_key(&mut index.keys, lit, dir, errors);
                    dir_span.get_or_insert(inner.path.span());
                }
                "text" => {
                    seen.check(&inner, place)?;
                    text_span = Some(inner.path.span());
                    let value = inner.value()?;
                    if !value.peek(syn::token::Bracket) {
                        return Err(syn::Error::new(
                            value.span(),
                            "expected a list of field names, like `text = [\"title\", \"content\"]`",
                        ));
                    }
                    let content;
                    syn::bracketed!(content in value);
                    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                    any_key = true;
                    if list.is_empty() {
                        errors.push(syn::Error::new(
                            inner.path.span(),
                            "a text index needs at least one field",
                        ));
                    }
                    for lit in list {
                        push_key(&mut index.keys, lit, Dir::Text, errors);
                    }
                }
                "unique" => {
                    seen.check(&inner, place)?;
                    flag(&inner)?;
                    index.unique = true;
                }
                "name" => {
                    seen.check(&inner, place)?;
                    let lit = lit_str(&inner, "name = \"by_author\"")?;
                    if lit.value().is_empty() {
                        errors.spanned(&lit, "the index name is empty");
                    }
                    index.name = Some(lit);
                }
                _ => {
                    errors.push(unknown_key(&inner, place, INDEX_KEYS, INDEX_ELSEWHERE));
                    skip_value(&inner)?;
                }
            }
            Ok(())
        })
    })?;
    if !any_key {
        errors.push(syn::Error::new(
            span,
            "the index has no keys: add `asc = \"field\"`, `desc = \"field\"` or `text = [\"field\", …]`",
        ));
    }
    if let (Some(text), Some(_)) = (text_span, dir_span) {
        errors.push(syn::Error::new(
            text,
            "a text index lists its fields only in `text = [...]`; declare the `asc`/`desc` keys in another `index(…)`",
        ));
    }
    if let (Some(text), true) = (text_span, index.unique) {
        errors.push(syn::Error::new(text, "a text index cannot be `unique`"));
    }
    Ok(index)
}

fn push_key(keys: &mut Vec<(LitStr, Dir)>, lit: LitStr, dir: Dir, errors: &mut Errors) {
    if keys.iter().any(|(k, _)| k.value() == lit.value()) {
        errors.spanned(
            &lit,
            format!("`{}` is already a key of this index", lit.value()),
        );
    } else if lit.value().is_empty() {
        errors.spanned(&lit, "the field name is empty");
    } else {
        keys.push((lit, dir));
    }
}

fn parse_field_attrs(field: &syn::Field, errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    let mut seen = Seen::default();
    let place = "`#[mongo(…)]` on a field";
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("mongo")) {
        let res = attr.parse_nested_meta(|meta| {
            keep_going(errors, &meta, |errors| {
                match key_name(&meta).as_str() {
                    "id" => {
                        seen.check(&meta, place)?;
                        flag(&meta)?;
                        out.id = Some(meta.path.span());
                    }
                    "index" => {
                        seen.check(&meta, place)?;
                        if meta.input.peek(Token![=]) {
                            let expr: Expr = meta.value()?.parse()?;
                            let dir = match &expr {
                                Expr::Path(p) if p.path.is_ident("asc") => Dir::Asc,
                                Expr::Path(p) if p.path.is_ident("desc") => Dir::Desc,
                                _ => {
                                    return Err(syn::Error::new_spanned(
                                        expr,
                                        "expected `asc` or `desc`, like `index = desc`",
                                    ));
                                }
                            };
                            out.index = Some(dir);
                        } else if meta.input.peek(syn::token::Paren) {
                            return Err(syn::Error::new(
                                meta.path.span(),
                                "on a field, write `index`, `index = asc` or `index = desc`; `index(…)` with named keys goes on the struct",
                            ));
                        }
                        out.index_span.get_or_insert(meta.path.span());
                    }
                    "unique" => {
                        seen.check(&meta, place)?;
                        flag(&meta)?;
                        out.unique = true;
                        out.index_span.get_or_insert(meta.path.span());
                    }
                    "ttl" => {
                        seen.check(&meta, place)?;
                        out.ttl_secs = Some(parse_ttl(&meta)?);
                        out.index_span.get_or_insert(meta.path.span());
                    }
                    _ => {
                        errors.push(unknown_key(&meta, place, FIELD_KEYS, FIELD_ELSEWHERE));
                        skip_value(&meta)?;
                    }
                }
                Ok(())
            })
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }
    out
}

const TTL_HELP: &str = "expected a duration like `ttl = \"30d\"` (units: `s`, `m`, `h`, `d`) or a number of seconds like `ttl = 3600`";

/// `ttl = "30d"` / `"12h"` / `"15m"` / `"90s"` / `3600` (seconds), as whole seconds.
fn parse_ttl(meta: &ParseNestedMeta<'_>) -> syn::Result<u64> {
    let expr: Expr = meta.value()?.parse()?;
    let secs = match &expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(n), ..
        }) => n.base10_parse::<u64>().ok(),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => parse_duration(&s.value()),
        _ => None,
    };
    let secs = secs.ok_or_else(|| syn::Error::new_spanned(&expr, TTL_HELP))?;
    if secs > MAX_TTL_SECS {
        return Err(syn::Error::new_spanned(
            &expr,
            format!("MongoDB accepts a TTL of at most {MAX_TTL_SECS} seconds (about 68 years)"),
        ));
    }
    Ok(secs)
}

fn parse_duration(text: &str) -> Option<u64> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(unit_at);
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Some(30 * 86_400));
        assert_eq!(parse_duration("12h"), Some(43_200));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("0s"), Some(0));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("3w"), None);
        assert_eq!(parse_duration("1h30m"), None);
    }

    #[test]
    fn collection_names() {
        assert!(collection_problem("notes").is_none());
        assert!(collection_problem("").is_some());
        assert!(collection_problem("a$b").is_some());
        assert!(collection_problem("system.users").is_some());
        assert!(collection_problem("systems").is_none());
    }
}
