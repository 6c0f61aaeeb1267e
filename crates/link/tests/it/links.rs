//! Links: signed, sent as text, read and checked; edits, other keys, old unsigned links and
//! bad shapes refused.

use callsupport_link::{Link, LinkError, LinkKey};
use chrono::{DateTime, Duration, Utc};

fn now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn signed(key: &LinkKey) -> Link {
    key.sign("CS-000123", "0199a7f0e3b47c1d", now() + Duration::hours(24))
        .unwrap()
}

#[test]
fn a_signed_link_reads_back_and_passes_its_check() {
    let key = LinkKey::generate().unwrap();
    let link = signed(&key);
    let text = link.url();
    assert!(
        text.starts_with("callsupport://report?ticket=CS-000123&expires="),
        "{text}"
    );
    let read = Link::parse(&format!("  {text}\n")).unwrap();
    assert_eq!(read, link);
    assert_eq!(read.ticket_id, "CS-000123");
    assert_eq!(read.link_id.as_deref(), Some("0199a7f0e3b47c1d"));
    read.check(&key.public(), now()).unwrap();
}

#[test]
fn an_edited_link_is_a_forgery() {
    let key = LinkKey::generate().unwrap();
    let text = signed(&key).url();
    let expires = (now() + Duration::hours(24)).timestamp().to_string();
    let later = (now() + Duration::days(365)).timestamp().to_string();
    for edited in [
        text.replace(&expires, &later),
        text.replace("CS-000123", "CS-000124"),
        text.replace("0199a7f0e3b47c1d", "0199a7f0e3b47c1e"),
    ] {
        let link = Link::parse(&edited).unwrap();
        assert_eq!(
            link.check(&key.public(), now()),
            Err(LinkError::Forged),
            "{edited}"
        );
    }
    // Signed by another service.
    let other = LinkKey::generate().unwrap();
    assert_eq!(
        Link::parse(&text).unwrap().check(&other.public(), now()),
        Err(LinkError::Forged)
    );
    // A signature of the wrong length, or not base64.
    for sig in ["AAAA", "!!!!"] {
        let broken = format!("{}{sig}", &text[..text.find("sig=").unwrap() + 4]);
        assert_eq!(Link::parse(&broken), Err(LinkError::Forged), "{broken}");
    }
}

#[test]
fn an_unsigned_link_is_refused_with_what_to_do() {
    let key = LinkKey::generate().unwrap();
    for text in [
        "callsupport://report?ticket=CS-000123&expires=1895694400",
        "callsupport://report?ticket=CS-000123&expires=1895694400&link=abc",
        "callsupport://report?ticket=CS-000123&expires=1895694400&sig=abc",
    ] {
        let link = Link::parse(text).unwrap();
        let err = link.check(&key.public(), now()).unwrap_err();
        assert_eq!(err, LinkError::Unsigned, "{text}");
        assert!(err.to_string().contains("new link"), "{err}");
    }
}

#[test]
fn a_signed_link_past_its_expiry_is_refused_as_expired() {
    let key = LinkKey::generate().unwrap();
    let link = signed(&key);
    let later = now() + Duration::hours(25);
    let err = link.check(&key.public(), later).unwrap_err();
    assert!(matches!(err, LinkError::Expired(_)), "{err:?}");
    assert!(err.to_string().contains("2026"), "{err}");
    // At the second it ends, it is over.
    assert!(link.check(&key.public(), link.expires_at).is_err());
}

#[test]
fn the_expiry_is_signed_to_the_second() {
    let key = LinkKey::generate().unwrap();
    let at = now() + Duration::milliseconds(1500);
    let link = key.sign("CS-1", "id", at).unwrap();
    assert_eq!(link.expires_at.timestamp_subsec_nanos(), 0);
    Link::parse(&link.url())
        .unwrap()
        .check(&key.public(), now())
        .unwrap();
}

#[test]
fn bad_links_say_what_is_wrong() {
    let cases = [
        (
            "https://example.com/report?ticket=CS-1&expires=1895694400",
            LinkError::NotOurs,
        ),
        ("not a link", LinkError::NotOurs),
        ("", LinkError::NotOurs),
        (
            "callsupport://delete?ticket=CS-1&expires=1895694400",
            LinkError::UnknownAction("delete".into()),
        ),
        (
            "callsupport://report?expires=1895694400",
            LinkError::NoTicket,
        ),
        (
            "callsupport://report?ticket=&expires=1895694400",
            LinkError::NoTicket,
        ),
        (
            "callsupport://report?ticket=CS%201;rm&expires=1895694400",
            LinkError::BadTicket("CS 1;rm".into()),
        ),
        ("callsupport://report?ticket=CS-1", LinkError::NoExpiry),
        (
            "callsupport://report?ticket=CS-1&expires=soon",
            LinkError::BadExpiry("soon".into()),
        ),
        (
            "callsupport://report?ticket=CS-1&expires=99999999999999999999",
            LinkError::BadExpiry("99999999999999999999".into()),
        ),
        (
            "callsupport://report?ticket=CS-1&expires=1895694400&link=a%2Fb&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            LinkError::Forged,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(Link::parse(text), Err(expected), "{text}");
    }
    let long = format!(
        "callsupport://report?ticket={}&expires=1895694400",
        "A".repeat(65)
    );
    assert!(matches!(Link::parse(&long), Err(LinkError::BadTicket(_))));
    // Both ways of writing the scheme, and an RFC 3339 expiry.
    for text in [
        "callsupport:report?expires=1795694400&ticket=CS-000123",
        "callsupport://report/?ticket=CS-000123&expires=2026-11-26T13:00:00%2B01:00",
    ] {
        let link = Link::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(link.ticket_id, "CS-000123");
        assert!(link.check_expiry(now()).is_ok());
    }
}

#[test]
fn a_link_for_a_bad_ticket_is_not_signed() {
    let key = LinkKey::generate().unwrap();
    assert!(matches!(
        key.sign("CS 1", "id", now()),
        Err(LinkError::BadTicket(_))
    ));
    assert!(key.sign("CS-1", "", now()).is_err());
}
