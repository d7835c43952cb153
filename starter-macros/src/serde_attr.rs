//! The parts of `#[serde(…)]` that decide under which name a field is stored.
//!
//! serde's own derive reports malformed `#[serde]` attributes; here anything not understood is
//! ignored, so an error is never reported twice.

use syn::{Attribute, Ident, LitStr, Token, ext::IdentExt, meta::ParseNestedMeta};

/// `#[serde(rename_all = "…")]` on a struct, as serde applies it to field names.
#[derive(Clone, Copy)]
pub(crate) enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn from_str(rule: &str) -> Option<Self> {
        Some(match rule {
            "lowercase" | "snake_case" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return None,
        })
    }

    /// Same rules as serde_derive's `RenameRule::apply_to_field`.
    fn apply(self, field: &str) -> String {
        match self {
            Self::Lower => field.to_owned(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => {
                let mut out = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        out.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        out.push(ch);
                    }
                }
                out
            }
            Self::Camel => {
                let pascal = Self::Pascal.apply(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// What the struct's `#[serde]` attributes say about field names.
#[derive(Default)]
pub(crate) struct SerdeContainer {
    rename_all: Option<RenameRule>,
}

/// What a field's `#[serde]` attributes say about how it is stored.
#[derive(Default)]
pub(crate) struct SerdeField {
    /// `rename = "…"` or `rename(serialize = "…")`.
    pub(crate) rename: Option<String>,
    /// `skip` or `skip_serializing`: the field is never written to the database.
    pub(crate) skipped: bool,
    /// `flatten`: the field's own fields are stored inline, under their own names.
    pub(crate) flatten: bool,
}

/// Calls `f` for each key of each `#[serde(…)]` attribute, skipping what `f` leaves unread.
fn each_serde_key(attrs: &[Attribute], mut f: impl FnMut(&str, &ParseNestedMeta<'_>)) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // A malformed attribute is serde's to report.
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            f(&key, &meta);
            // Skip whatever value `f` did not consume.
            if meta.input.peek(Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _: proc_macro2::Group = meta.input.parse()?;
            }
            Ok(())
        });
    }
}

/// `"x"` from `key = "x"`, or from `key(serialize = "x")`: the name used when *writing*,
/// which is the name stored in the database.
fn serialize_name(meta: &ParseNestedMeta<'_>) -> Option<String> {
    if meta.input.peek(Token![=]) {
        let lit: LitStr = meta.value().ok()?.parse().ok()?;
        return Some(lit.value());
    }
    let mut out = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            let lit: LitStr = inner.value()?.parse()?;
            out = Some(lit.value());
        } else {
            let _: syn::Expr = inner.value()?.parse()?;
        }
        Ok(())
    })
    .ok()?;
    out
}

impl SerdeContainer {
    pub(crate) fn from_attrs(attrs: &[Attribute]) -> Self {
        let mut out = Self::default();
        each_serde_key(attrs, |key, meta| {
            if key == "rename_all" {
                out.rename_all = serialize_name(meta)
                    .as_deref()
                    .and_then(RenameRule::from_str);
            }
        });
        out
    }

    /// The name under which field `ident` (with attributes `field`) is stored.
    pub(crate) fn stored_name(&self, ident: &Ident, field: &SerdeField) -> String {
        if let Some(name) = &field.rename {
            return name.clone();
        }
        let name = ident.unraw().to_string();
        match self.rename_all {
            Some(rule) => rule.apply(&name),
            None => name,
        }
    }
}

impl SerdeField {
    pub(crate) fn from_attrs(attrs: &[Attribute]) -> Self {
        let mut out = Self::default();
        each_serde_key(attrs, |key, meta| match key {
            "rename" => {
                if let Some(name) = serialize_name(meta) {
                    out.rename = Some(name);
                }
            }
            "skip" | "skip_serializing" => out.skipped = true,
            "flatten" => out.flatten = true,
            _ => {}
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules_match_serde() {
        let cases = [
            ("camelCase", "created_at", "createdAt"),
            ("PascalCase", "created_at", "CreatedAt"),
            ("SCREAMING_SNAKE_CASE", "created_at", "CREATED_AT"),
            ("kebab-case", "created_at", "created-at"),
            ("SCREAMING-KEBAB-CASE", "created_at", "CREATED-AT"),
            ("lowercase", "created_at", "created_at"),
            ("UPPERCASE", "created_at", "CREATED_AT"),
        ];
        for (rule, field, stored) in cases {
            assert_eq!(
                RenameRule::from_str(rule).unwrap().apply(field),
                stored,
                "{rule}"
            );
        }
    }

    #[test]
    fn field_attributes_are_read() {
        let field: syn::Field = syn::parse_quote! {
            #[serde(default, rename(serialize = "a", deserialize = "b"), with = "x")]
            #[serde(skip_serializing)]
            pub r#type: String
        };
        let serde = SerdeField::from_attrs(&field.attrs);
        assert_eq!(serde.rename.as_deref(), Some("a"));
        assert!(serde.skipped && !serde.flatten);

        let item: syn::DeriveInput = syn::parse_quote! {
            #[serde(deny_unknown_fields, rename_all = "camelCase")]
            struct S { r#type: String }
        };
        let container = SerdeContainer::from_attrs(&item.attrs);
        let ident: Ident = syn::parse_quote!(created_at);
        assert_eq!(
            container.stored_name(&ident, &SerdeField::default()),
            "createdAt"
        );
        let raw: Ident = syn::parse_quote!(r#type);
        assert_eq!(container.stored_name(&raw, &SerdeField::default()), "type");
    }
}
