//! `#[derive(IntoApiError)]`: an error enum becomes `starter_core::ApiError` (problem+json).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Expr, Ident, Lit, LitInt, LitStr};

use crate::{
    attr::{
        Errors, Seen, closest, keep_going, key_name, lit_str, skip_value, unknown_key,
        with_fallback,
    },
    paths::{self, Target},
};

const ENUM_KEYS: &[&str] = &["crate"];
const ENUM_ELSEWHERE: &[(&str, &str)] = &[
    (
        "status",
        "put `#[api_error(status = …)]` on each variant: each kind of error has its own status",
    ),
    (
        "code",
        "put `#[api_error(code = \"…\")]` on each variant: each kind of error has its own code",
    ),
    ("field", "put `#[api_error(field = \"…\")]` on the variant"),
];
const VARIANT_KEYS: &[&str] = &["status", "code", "field"];
const VARIANT_ELSEWHERE: &[(&str, &str)] = &[
    (
        "message",
        "the message (`detail`) is the variant's `#[error(\"…\")]` text",
    ),
    (
        "detail",
        "the `detail` is the variant's `#[error(\"…\")]` text",
    ),
    (
        "crate",
        "`crate = \"…\"` goes on the enum, not on a variant",
    ),
];

/// The HTTP error statuses `http::StatusCode` has constants for (registered with IANA).
const STATUSES: &[(u16, &str)] = &[
    (400, "BAD_REQUEST"),
    (401, "UNAUTHORIZED"),
    (402, "PAYMENT_REQUIRED"),
    (403, "FORBIDDEN"),
    (404, "NOT_FOUND"),
    (405, "METHOD_NOT_ALLOWED"),
    (406, "NOT_ACCEPTABLE"),
    (407, "PROXY_AUTHENTICATION_REQUIRED"),
    (408, "REQUEST_TIMEOUT"),
    (409, "CONFLICT"),
    (410, "GONE"),
    (411, "LENGTH_REQUIRED"),
    (412, "PRECONDITION_FAILED"),
    (413, "PAYLOAD_TOO_LARGE"),
    (414, "URI_TOO_LONG"),
    (415, "UNSUPPORTED_MEDIA_TYPE"),
    (416, "RANGE_NOT_SATISFIABLE"),
    (417, "EXPECTATION_FAILED"),
    (418, "IM_A_TEAPOT"),
    (421, "MISDIRECTED_REQUEST"),
    (422, "UNPROCESSABLE_ENTITY"),
    (423, "LOCKED"),
    (424, "FAILED_DEPENDENCY"),
    (425, "TOO_EARLY"),
    (426, "UPGRADE_REQUIRED"),
    (428, "PRECONDITION_REQUIRED"),
    (429, "TOO_MANY_REQUESTS"),
    (431, "REQUEST_HEADER_FIELDS_TOO_LARGE"),
    (451, "UNAVAILABLE_FOR_LEGAL_REASONS"),
    (500, "INTERNAL_SERVER_ERROR"),
    (501, "NOT_IMPLEMENTED"),
    (502, "BAD_GATEWAY"),
    (503, "SERVICE_UNAVAILABLE"),
    (504, "GATEWAY_TIMEOUT"),
    (505, "HTTP_VERSION_NOT_SUPPORTED"),
    (506, "VARIANT_ALSO_NEGOTIATES"),
    (507, "INSUFFICIENT_STORAGE"),
    (508, "LOOP_DETECTED"),
    (510, "NOT_EXTENDED"),
    (511, "NETWORK_AUTHENTICATION_REQUIRED"),
];

/// What one variant becomes.
enum Kind {
    /// 422 with `errors: [{ field, code, message }]`.
    Field(LitStr),
    /// 500: logged with the error as source; the client sees a generic detail.
    Internal,
    /// 401, which the kit always sends with `WWW-Authenticate`.
    Unauthorized,
    /// Any other status, with the Display text as `detail`.
    Status(&'static str),
}

struct Variant<'a> {
    ident: &'a Ident,
    kind: Kind,
    code: String,
    /// The `code = "…"` literal, or `None` when the code is the variant name in snake_case.
    code_lit: Option<LitStr>,
}

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();

    let mut krate: Option<syn::Path> = None;
    let mut seen = Seen::default();
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("api_error"))
    {
        let res = attr.parse_nested_meta(|meta| {
            keep_going(&mut errors, &meta, |errors| {
                let place = "`#[api_error(…)]` on an enum";
                match key_name(&meta).as_str() {
                    "crate" => {
                        seen.check(&meta, place)?;
                        let lit = lit_str(&meta, "crate = \"starter\"")?;
                        krate = Some(lit.parse().map_err(|_| {
                            syn::Error::new_spanned(&lit, "expected a path, like `starter`")
                        })?);
                    }
                    _ => {
                        errors.push(unknown_key(&meta, place, ENUM_KEYS, ENUM_ELSEWHERE));
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
        package: "starter-core",
        facade_module: None,
        derive: "#[derive(IntoApiError)]",
        attr: "api_error",
    };
    let c = match paths::resolve(&target, krate) {
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
    let axum = quote!(#c::reexports::axum);
    let impls = |body: TokenStream| {
        quote! {
            #[automatically_derived]
            impl #impl_generics ::core::convert::From<#ident #ty_generics> for #c::ApiError #where_clause {
                fn from(err: #ident #ty_generics) -> Self {
                    #body
                }
            }

            #[automatically_derived]
            impl #impl_generics #axum::response::IntoResponse for #ident #ty_generics #where_clause {
                fn into_response(self) -> #axum::response::Response {
                    #axum::response::IntoResponse::into_response(
                        <#c::ApiError as ::core::convert::From<Self>>::from(self),
                    )
                }
            }
        }
    };
    // Keeps `?` and handlers type-checking while the attribute errors are reported.
    let fallback = impls(quote! {
        let _ = err;
        ::core::unreachable!("#[derive(IntoApiError)] reported a compile error")
    });

    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(s) => {
            errors.spanned(
                s.struct_token,
                "`#[derive(IntoApiError)]` works on enums: one variant per kind of error, each with its HTTP status",
            );
            return errors.into_error().expect("pushed").to_compile_error();
        }
        Data::Union(u) => {
            errors.spanned(
                u.union_token,
                "`#[derive(IntoApiError)]` works on enums: one variant per kind of error, each with its HTTP status",
            );
            return errors.into_error().expect("pushed").to_compile_error();
        }
    };

    let mut variants: Vec<Variant<'_>> = Vec::new();
    for variant in &data.variants {
        if let Some(v) = parse_variant(variant, &mut errors) {
            variants.push(v);
        }
        let field_attrs = variant.fields.iter().flat_map(|f| &f.attrs);
        for attr in field_attrs.filter(|a| a.path().is_ident("api_error")) {
            errors.spanned(
                attr,
                "`#[api_error(…)]` goes on the variant, not on one of its fields",
            );
        }
    }

    // Clients branch on `code`, so two kinds of error must not share one.
    for (i, v) in variants.iter().enumerate() {
        if let Some(first) = variants[..i].iter().find(|o| o.code == v.code) {
            let origin = if first.code_lit.is_some() {
                ""
            } else {
                " (from its name)"
            };
            let message = format!(
                "code `{}` is already the code of `{}`{origin}: clients tell errors apart by `code`, so give each variant its own",
                v.code, first.ident
            );
            match &v.code_lit {
                Some(lit) => errors.spanned(lit, message),
                None => errors.spanned(v.ident, message),
            }
        }
    }

    if let Some(err) = errors.into_error() {
        return with_fallback(err, fallback);
    }

    let arms = variants.iter().map(|v| {
        let variant = v.ident;
        let code = &v.code;
        let display = quote!(::std::string::ToString::to_string(&err));
        let value = match &v.kind {
            Kind::Field(field) => quote!(#c::ApiError::invalid_field(#field, #code, #display)),
            Kind::Internal => quote!(#c::ApiError::internal(err).with_code(#code)),
            Kind::Unauthorized => {
                quote!(#c::ApiError::unauthorized(#display).with_code(#code))
            }
            Kind::Status(name) => {
                let name = format_ident!("{}", name);
                quote! {
                    #c::ApiError::new(#axum::http::StatusCode::#name, #code).with_detail(#display)
                }
            }
        };
        quote!(#ident::#variant { .. } => #value,)
    });
    impls(quote! {
        match err {
            #(#arms)*
        }
    })
}

fn parse_variant<'a>(variant: &'a syn::Variant, errors: &mut Errors) -> Option<Variant<'a>> {
    let mut status: Option<(u16, LitInt)> = None;
    let mut code: Option<LitStr> = None;
    let mut field: Option<LitStr> = None;
    let mut seen = Seen::default();
    // Given, even if invalid or misspelt: then it is not also reported as missing.
    let mut status_given = false;
    let place = "`#[api_error(…)]` on a variant";
    for attr in variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("api_error"))
    {
        let res = attr.parse_nested_meta(|meta| {
            keep_going(errors, &meta, |errors| {
            match key_name(&meta).as_str() {
                "status" => {
                    status_given = true;
                    seen.check(&meta, place)?;
                    let expr: Expr = meta.value()?.parse()?;
                    let Expr::Lit(syn::ExprLit {
                        lit: Lit::Int(lit), ..
                    }) = expr
                    else {
                        return Err(syn::Error::new_spanned(
                            expr,
                            "expected an HTTP status number, like `status = 404`",
                        ));
                    };
                    match lit.base10_parse::<u16>() {
                        Ok(n) => status = Some((n, lit)),
                        Err(_) => {
                            return Err(syn::Error::new_spanned(
                                &lit,
                                format!(
                                    "`status = {lit}` is not an HTTP status: use a 4xx or 5xx error status (400..=599)"
                                ),
                            ));
                        }
                    }
                }
                "code" => {
                    seen.check(&meta, place)?;
                    let lit = lit_str(&meta, "code = \"memo_not_found\"")?;
                    if lit.value().is_empty() {
                        errors.spanned(
                            &lit,
                            "the code is empty: write a snake_case code like `memo_not_found`, or leave `code` out to use the variant name in snake_case",
                        );
                    } else if !is_snake_case(&lit.value()) {
                        errors.spanned(
                            &lit,
                            format!(
                                "`{}` is not a snake_case code: use lowercase ASCII letters, digits and single `_`, starting with a letter, like `memo_not_found`",
                                lit.value()
                            ),
                        );
                    }
                    code = Some(lit);
                }
                "field" => {
                    seen.check(&meta, place)?;
                    let lit = lit_str(&meta, "field = \"cursor\"")?;
                    if lit.value().trim().is_empty() {
                        errors.spanned(&lit, "the field name is empty");
                    }
                    field = Some(lit);
                }
                name => {
                    status_given |= closest(name, VARIANT_KEYS) == Some("status");
                    errors.push(unknown_key(&meta, place, VARIANT_KEYS, VARIANT_ELSEWHERE));
                    skip_value(&meta)?;
                }
            }
            Ok(())
            })
        });
        if let Err(e) = res {
            errors.push(e);
            status_given = true;
        }
    }

    let kind = match (field, status) {
        (Some(field), None) => Kind::Field(field),
        (Some(field), Some((422, _))) => Kind::Field(field),
        (Some(_), Some((n, lit))) => {
            errors.spanned(
                lit,
                format!(
                    "`field = …` makes this a 422 validation error whose `errors[]` names the field; remove `status = {n}`"
                ),
            );
            return None;
        }
        (None, Some((n, lit))) => match status_kind(n) {
            Ok(kind) => kind,
            Err(message) => {
                errors.spanned(lit, message);
                return None;
            }
        },
        (None, None) if !status_given => {
            errors.spanned(
                &variant.ident,
                format!(
                    "missing `#[api_error(status = …)]` on `{}`: give the HTTP status of this error, like `status = 404`, or `field = \"…\"` for a 422 that names an input field",
                    variant.ident
                ),
            );
            return None;
        }
        (None, None) => return None,
    };
    Some(Variant {
        ident: &variant.ident,
        kind,
        code: code
            .as_ref()
            .map_or_else(|| snake_case(&variant.ident.to_string()), LitStr::value),
        code_lit: code,
    })
}

fn status_kind(n: u16) -> Result<Kind, String> {
    if !(400..=599).contains(&n) {
        let what = match n {
            100..=199 => "an informational status, not an error",
            200..=299 => "a success status, not an error",
            300..=399 => "a redirection status, not an error",
            _ => "not an HTTP status",
        };
        return Err(format!(
            "`status = {n}` is {what}: use a 4xx or 5xx error status (400..=599)"
        ));
    }
    match n {
        429 => Err(
            "a 429 needs a `Retry-After` header, which this derive cannot know: return `ApiError::too_many_requests(secs)` for it instead"
                .to_owned(),
        ),
        500 => Ok(Kind::Internal),
        401 => Ok(Kind::Unauthorized),
        _ => match STATUSES.iter().find(|(code, _)| *code == n) {
            Some((_, name)) => Ok(Kind::Status(name)),
            None => Err(format!(
                "`status = {n}` is not a registered HTTP status: use one of {}",
                registered_ranges()
            )),
        },
    }
}

/// The statuses the derive accepts, as ranges: `400..=418, 421..=426, …` (no 429).
fn registered_ranges() -> String {
    let mut ranges: Vec<(u16, u16)> = Vec::new();
    for &(n, _) in STATUSES.iter().filter(|(n, _)| *n != 429) {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => ranges.push((n, n)),
        }
    }
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..={b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `memo_not_found`: lowercase ASCII letters and digits in words joined by single `_`.
fn is_snake_case(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        && code.split('_').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// `NotFound` -> `not_found`, `HTTPError` -> `http_error`, `Io` -> `io`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("NotFound"), "not_found");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("Io"), "io");
        assert_eq!(snake_case("Status404Page"), "status404_page");
        assert_eq!(snake_case("InvalidJWT"), "invalid_jwt");
    }

    #[test]
    fn snake_case_codes() {
        assert!(is_snake_case("memo_not_found"));
        assert!(is_snake_case("e404"));
        assert!(!is_snake_case("MemoNotFound"));
        assert!(!is_snake_case("memo-not-found"));
        assert!(!is_snake_case("memo__x"));
        assert!(!is_snake_case("_memo"));
        assert!(!is_snake_case("memo_"));
        assert!(!is_snake_case("4xx"));
        assert!(!is_snake_case(""));
    }

    #[test]
    fn registered_statuses_as_ranges() {
        assert_eq!(
            registered_ranges(),
            "400..=418, 421..=426, 428, 431, 451, 500..=508, 510..=511"
        );
    }

    #[test]
    fn statuses() {
        assert!(matches!(status_kind(404), Ok(Kind::Status("NOT_FOUND"))));
        assert!(matches!(status_kind(500), Ok(Kind::Internal)));
        assert!(matches!(status_kind(401), Ok(Kind::Unauthorized)));
        for bad in [200, 302, 419, 429, 600, 99] {
            assert!(status_kind(bad).is_err(), "{bad}");
        }
    }
}
