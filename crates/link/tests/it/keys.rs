//! Keys: the RFC 8032 test vector, kept and read back, printed and parsed.

use callsupport_link::{LinkError, LinkKey, PublicKey};

/// RFC 8032, section 7.1, TEST 1: this seed has this public key.
#[test]
fn the_seed_of_rfc_8032_test_1_gives_its_public_key() {
    let seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = LinkKey::from_text(&engine.encode(&seed)).unwrap();
    assert_eq!(
        key.public().to_string(),
        format!("ed25519:{}", engine.encode(&public))
    );
}

#[test]
fn a_key_kept_as_text_reads_back_the_same() {
    let key = LinkKey::generate().unwrap();
    let again = LinkKey::from_text(&format!("  {}\n", key.to_text())).unwrap();
    assert_eq!(key.public(), again.public());
    assert_ne!(key.public(), LinkKey::generate().unwrap().public());
    // The debug form shows the public half only.
    assert!(!format!("{key:?}").contains(&key.to_text()));
    assert!(LinkKey::from_text("short").is_none());
    assert!(LinkKey::from_text("").is_none());
}

#[test]
fn a_public_key_prints_and_parses() {
    let public = LinkKey::generate().unwrap().public();
    let text = public.to_string();
    assert!(text.starts_with("ed25519:"), "{text}");
    assert_eq!(text.len(), "ed25519:".len() + 43);
    assert_eq!(PublicKey::parse(&format!(" {text} ")).unwrap(), public);
    for bad in [
        "",
        "ed25519:",
        "age1qqqq",
        &text[8..],
        &format!("{text}AA"),
        &text.replace("ed25519:", "rsa:"),
        "ed25519:!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
    ] {
        assert!(
            matches!(PublicKey::parse(bad), Err(LinkError::BadKey(_))),
            "{bad:?}"
        );
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}
