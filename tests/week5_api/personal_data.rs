//! A note's contact is personal data: clear in the owner's answers, masked in `Debug`
//! (what a `tracing` field `?note` would print).

use crate::models::Contact;

#[test]
fn debug_masks_the_contact() {
    let contact = Contact {
        email: "bo@example.com".into(),
        phone: Some("+821012345678".into()),
    };
    let shown = format!("{contact:?} {:#?}", Some(&contact));
    for secret in ["bo@example.com", "+821012345678", "1012345678"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    // `starter::pii` masks: the email's first letter and domain, the phone's last 4 digits.
    assert!(shown.contains("b***@example.com"), "{shown}");
    assert!(shown.contains("5678"), "{shown}");
    // Serde, which the API and the database use, keeps them.
    let json = serde_json::to_value(&contact).unwrap();
    assert_eq!(json["email"], "bo@example.com");
    assert_eq!(json["phone"], "+821012345678");
}
