//! A note's contact is personal data: clear in the owner's answers, masked in `Debug`
//! (what a `tracing` field `?note` would print).

use crate::models::Contact;

#[test]
fn debug_masks_the_contact() {
    let contact = Contact {
        email: "bo@example.com".to_owned(),
        phone: Some("+821012345678".to_owned()),
    };
    let shown = format!("{contact:?} {:#?}", Some(&contact));
    for secret in ["bo@example.com", "example", "+821012345678", "1012345678"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("[redacted]"), "{shown}");
    // Serde, which the API and the database use, keeps them.
    let json = serde_json::to_value(&contact).unwrap();
    assert_eq!(json["email"], "bo@example.com");
    assert_eq!(json["phone"], "+821012345678");
}
