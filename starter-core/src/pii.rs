//! Personal data that never reaches a log line in clear: [`Email`], [`Phone`] and
//! [`PersonName`].
//!
//! Each wraps a `String` and formats *masked*, with `Display` and `Debug` alike, so every
//! way a value can reach a log prints the mask: `tracing::info!(email = %e)`, `?e`,
//! `format!("{e}")`, `{e:?}`, an error message, or the `Debug` of a struct holding one.
//!
//! | type           | clear                | masked              |
//! |----------------|----------------------|---------------------|
//! | [`Email`]      | `alice@example.com`  | `a***@example.com`  |
//! | [`Phone`]      | `010-1234-5678`      | `***-****-5678`     |
//! | [`PersonName`] | `김민수`, `Alice Kim` | `김***`, `A***`      |
//!
//! Masking is for logs only. Serde is `transparent`: a JSON response, a request body and a
//! MongoDB document hold the clear value, exactly as a plain `String` field would, so
//! switching a field to one of these types changes no stored or sent format. Code that needs
//! the clear value asks for it by name, [`Email::expose`], which is easy to find in review.
//!
//! ```
//! use starter_core::pii::{Email, Phone};
//!
//! let email = Email::from("alice@example.com");
//! assert_eq!(email.to_string(), "a***@example.com");
//! assert_eq!(format!("{email:?}"), r#"Email("a***@example.com")"#);
//! assert_eq!(email.expose(), "alice@example.com");
//! assert_eq!(serde_json::to_string(&email).unwrap(), r#""alice@example.com""#);
//! assert_eq!(Phone::from("010-1234-5678").to_string(), "***-****-5678");
//! ```
//!
//! With `validator`, `#[validate(email)]` and `#[validate(length(..))]` work on these
//! fields as on a `String` (length in characters).

use std::{borrow::Cow, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What replaces the hidden part of a value. A fixed width, so a mask does not tell the
/// length of what it hides either.
const HIDDEN: &str = "***";

macro_rules! pii_type {
    ($(#[$doc:meta])* $name:ident, $mask:path, $format:expr) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value in clear, for the code that needs it (a query, an email to send);
            /// never for a log.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// The value in clear, owned.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        /// Masked (see the module docs).
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                $mask(&self.0, f)
            }
        }

        /// Masked, like `Display`: a `Debug` print of a struct holding one (an error, a
        /// `?value` log field) shows no personal data either.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.to_string()).finish()
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        /// Any text parses: checking the value is validation's job (`#[validate(..)]`).
        impl FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        /// In an OpenAPI document: a string (the JSON carries the value in clear).
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let format: Option<&str> = $format;
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(format.map(|f| {
                        utoipa::openapi::SchemaFormat::Custom(f.to_owned())
                    }))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        /// `#[validate(length(min = .., max = ..))]`, counted in characters as for `String`.
        impl validator::ValidateLength<u64> for $name {
            fn length(&self) -> Option<u64> {
                Some(self.0.chars().count() as u64)
            }
        }
    };
}

pii_type!(
    /// An email address. Masked: the first character of the local part, `***`, then the
    /// domain in clear (`alice@example.com` → `a***@example.com`); a one-character local
    /// part is hidden whole (`a@x.io` → `***@x.io`), and so is text without `@`
    /// (`alice` → `a***`).
    ///
    /// `#[validate(email)]` checks it as it checks a `String`.
    Email,
    mask_email,
    Some("email")
);

pii_type!(
    /// A phone number. Masked: every digit becomes `*` except the last four, and the
    /// separators (`+`, `-`, `.`, `(`, `)`, spaces) stay, so the shape still shows
    /// (`010-1234-5678` → `***-****-5678`, `+82 10-1234-5678` → `+** **-****-5678`).
    /// A number of fewer than 8 digits is too short for its last four to be safe to show:
    /// all its digits are masked. Any other character (a letter) is masked too.
    Phone,
    mask_phone,
    None
);

pii_type!(
    /// A person's name. Masked to its first character (a Unicode scalar value, `char`)
    /// followed by `***` whatever the length: `김민수` → `김***`, `Alice Kim` → `A***`.
    /// A one-character name is hidden whole (`***`). Leading spaces are skipped.
    PersonName,
    mask_name,
    None
);

impl validator::ValidateEmail for Email {
    fn as_email_string(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.0))
    }
}

/// `first` (the first character of what is hidden) then [`HIDDEN`]; only `HIDDEN` when
/// `first` is all there is, since showing it would show everything.
fn initial(text: &str, out: &mut impl fmt::Write) -> fmt::Result {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(()),
        (Some(_), None) => out.write_str(HIDDEN),
        (Some(first), Some(_)) => {
            out.write_char(first)?;
            out.write_str(HIDDEN)
        }
    }
}

fn mask_email(email: &str, out: &mut impl fmt::Write) -> fmt::Result {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            if local.is_empty() {
                out.write_str(HIDDEN)?;
            } else {
                initial(local, out)?;
            }
            out.write_char('@')?;
            out.write_str(domain)
        }
        None => initial(email, out),
    }
}

/// Digits a phone number needs before its last four may be shown.
const PHONE_MIN_DIGITS_SHOWN: usize = 8;
/// How many trailing digits a long enough number shows.
const PHONE_DIGITS_SHOWN: usize = 4;

fn mask_phone(phone: &str, out: &mut impl fmt::Write) -> fmt::Result {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let shown_from = if digits >= PHONE_MIN_DIGITS_SHOWN {
        digits - PHONE_DIGITS_SHOWN
    } else {
        digits
    };
    let mut seen = 0;
    for c in phone.chars() {
        let c = match c {
            '0'..='9' => {
                seen += 1;
                if seen > shown_from { c } else { '*' }
            }
            '+' | '-' | '.' | '(' | ')' | ' ' => c,
            _ => '*',
        };
        out.write_char(c)?;
    }
    Ok(())
}

fn mask_name(name: &str, out: &mut impl fmt::Write) -> fmt::Result {
    initial(name.trim_start(), out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use validator::{Validate, ValidateEmail};

    use super::*;

    fn shown<T: fmt::Display + fmt::Debug>(value: &T) -> (String, String) {
        (format!("{value}"), format!("{value:?}"))
    }

    #[test]
    fn emails_keep_one_letter_and_the_domain() {
        for (clear, masked) in [
            ("alice@example.com", "a***@example.com"),
            ("ab@example.com", "a***@example.com"),
            ("a@x.io", "***@x.io"),
            ("@x.io", "***@x.io"),
            ("alice", "a***"),
            ("a", "***"),
            ("", ""),
            ("\"a@b\"@x.io", "\"***@x.io"),
            ("민수@例え.jp", "민***@例え.jp"),
        ] {
            assert_eq!(Email::from(clear).to_string(), masked, "{clear:?}");
        }
        let email = Email::from("alice@example.com");
        assert_eq!(format!("{email:?}"), r#"Email("a***@example.com")"#);
        assert_eq!(
            format!("{email:#?}"),
            "Email(\n    \"a***@example.com\",\n)"
        );
    }

    #[test]
    fn phones_keep_their_last_four_digits_and_separators() {
        for (clear, masked) in [
            ("010-1234-5678", "***-****-5678"),
            ("+82 10-1234-5678", "+** **-****-5678"),
            ("01012345678", "*******5678"),
            ("(02) 123.4567", "(**) ***.4567"),
            // Too short for its last four to be shown.
            ("123-4567", "***-****"),
            ("5678", "****"),
            ("", ""),
            ("call 010-1234-5678", "**** ***-****-5678"),
        ] {
            assert_eq!(Phone::from(clear).to_string(), masked, "{clear:?}");
        }
    }

    #[test]
    fn names_keep_their_first_character() {
        for (clear, masked) in [
            ("김민수", "김***"),
            ("Alice Kim", "A***"),
            ("  Bo", "B***"),
            ("X", "***"),
            ("", ""),
            ("Émile", "É***"),
        ] {
            assert_eq!(PersonName::from(clear).to_string(), masked, "{clear:?}");
        }
    }

    #[test]
    fn the_clear_value_is_only_in_serde_and_expose() {
        let (email, phone, name) = (
            Email::from("alice@example.com"),
            Phone::from("010-1234-5678"),
            PersonName::from("김민수"),
        );
        for (clear, (display, debug)) in [
            ("alice@example.com", shown(&email)),
            ("010-1234-5678", shown(&phone)),
            ("김민수", shown(&name)),
        ] {
            assert!(
                !display.contains(clear) && !debug.contains(clear),
                "{debug}"
            );
        }
        assert_eq!(email.expose(), "alice@example.com");
        assert_eq!(
            serde_json::to_value((&email, &phone, &name)).unwrap(),
            serde_json::json!(["alice@example.com", "010-1234-5678", "김민수"])
        );
        let back: Email = serde_json::from_str(r#""alice@example.com""#).unwrap();
        assert_eq!(back, email);
        assert_eq!(back, "alice@example.com");
        assert_eq!("alice@example.com".parse::<Email>().unwrap(), email);
        assert_eq!(email.clone().into_inner(), "alice@example.com");
        // Equal values hash alike, whatever their mask.
        let set: HashSet<Email> = [email.clone(), "alex@example.com".into(), email].into();
        assert_eq!(set.len(), 2);
    }

    /// A struct holding personal data prints none of it, in `Debug` or in an error.
    #[test]
    fn structs_and_errors_holding_pii_print_it_masked() {
        #[derive(Debug)]
        #[allow(dead_code)] // Only printed.
        struct Contact {
            name: PersonName,
            email: Email,
            phone: Option<Phone>,
        }
        #[derive(Debug, thiserror::Error)]
        #[error("no account for {0}")]
        struct NoAccount(Email);

        let contact = Contact {
            name: "Alice Kim".into(),
            email: "alice@example.com".into(),
            phone: Some("010-1234-5678".into()),
        };
        let printed = format!(
            "{contact:?} {contact:#?} {}",
            NoAccount(contact.email.clone())
        );
        for clear in ["Alice", "alice@", "1234"] {
            assert!(!printed.contains(clear), "{clear} in {printed}");
        }
        assert!(
            printed.contains("no account for a***@example.com"),
            "{printed}"
        );
    }

    #[test]
    fn validator_rules_apply_to_the_clear_value() {
        #[derive(Validate)]
        struct SignUp {
            #[validate(email)]
            email: Email,
            #[validate(length(min = 2, max = 3))]
            name: PersonName,
            #[validate(length(min = 9, max = 20))]
            phone: Phone,
        }
        let ok = SignUp {
            email: "alice@example.com".into(),
            name: "김민수".into(),
            phone: "010-1234-5678".into(),
        };
        assert!(ok.validate().is_ok());
        assert!(Email::from("alice@example.com").validate_email());
        assert!(!Email::from("alice").validate_email());
        let bad = SignUp {
            email: "not an email".into(),
            name: "김".into(),
            phone: "1234".into(),
        };
        let errors = bad.validate().unwrap_err();
        let mut fields: Vec<_> = errors.field_errors().into_keys().collect();
        fields.sort_unstable();
        assert_eq!(fields, ["email", "name", "phone"]);
    }
}
