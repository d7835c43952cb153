//! Where the generated code finds the kit: the path of `starter_core` / `starter_mongo` as the
//! deriving crate can name it.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};

/// The facade's package name on crates.io, and the name its library is used by.
const FACADE_PACKAGE: &str = "starter-kit";
const FACADE_LIB: &str = "starter";

/// One crate that provides the items a derive refers to.
pub(crate) struct Target {
    /// The package that owns the trait, e.g. `starter-mongo`.
    pub(crate) package: &'static str,
    /// The module of the facade `starter` that re-exports it (`mongo`), or `None` when the
    /// facade re-exports it at its root (`starter-core`).
    pub(crate) facade_module: Option<&'static str>,
    /// For the error message: `#[derive(MongoDocument)]`.
    pub(crate) derive: &'static str,
    /// For the error message: `mongo`, as in `#[mongo(crate = "…")]`.
    pub(crate) attr: &'static str,
}

/// The path the generated code starts from: the explicit `crate = "…"` path if given, else
/// the facade `starter` (what apps usually depend on), else the owning crate itself.
///
/// When the caller *is* the owning crate (or the facade), this is `::starter_mongo` rather
/// than `crate`: examples, doc tests and benches of a package also see their package as
/// "itself" but can only name it by its crate name, and the library gets that name through
/// `extern crate self as starter_mongo;`.
pub(crate) fn resolve(target: &Target, explicit: Option<syn::Path>) -> syn::Result<TokenStream> {
    if let Some(path) = explicit {
        return Ok(path.to_token_stream());
    }
    let found = |package: &str| match crate_name(package) {
        Ok(FoundCrate::Itself) => Some(package.replace('-', "_")),
        Ok(FoundCrate::Name(name)) => Some(name),
        Err(_) => None,
    };
    // The facade is the package `starter-kit` with the library name `starter`.
    // proc-macro-crate reports the dependency's key in Cargo.toml: `starter` for the
    // recommended `starter = { package = "starter-kit", … }`, but `starter_kit` for a plain
    // `starter-kit = "…"` (or for the facade itself), where the crate is still named by its
    // library name, `starter`.
    let facade = found(FACADE_PACKAGE).map(|name| {
        if name == FACADE_PACKAGE.replace('-', "_") {
            FACADE_LIB.to_owned()
        } else {
            name
        }
    });
    if let Some(facade) = facade {
        let facade = format_ident!("{}", facade);
        return Ok(match target.facade_module {
            Some(module) => {
                let module = format_ident!("{}", module);
                quote!(::#facade::#module)
            }
            None => quote!(::#facade),
        });
    }
    if let Some(name) = found(target.package) {
        let name = format_ident!("{}", name);
        return Ok(quote!(::#name));
    }
    Err(syn::Error::new(
        Span::call_site(),
        format!(
            "`{derive}` needs the `starter-kit` or `{package}` crate: add one of them to \
             [dependencies] in Cargo.toml (e.g. `starter = {{ package = \"starter-kit\", \
             version = \"0.1\" }}`), or name its path with `#[{attr}(crate = \"…\")]`",
            derive = target.derive,
            package = target.package,
            attr = target.attr,
        ),
    ))
}
