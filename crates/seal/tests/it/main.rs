//! Integration tests of `callsupport-seal`, checked against Debian's `age` (a tool we did not
//! write): it opens what we seal, we open what it seals, and bad keys, other keys, damage and a
//! file that opens too large are refused with what to do.

use std::fs;
use std::path::Path;

use callsupport_outside_tools::{output, run};
use callsupport_seal::{
    Identities, Recipients, SealError, is_sealed, seal, unseal, unseal_to_temp,
};

/// Bytes that look like nothing in particular, larger than age's 64 KiB chunk.
fn plain() -> Vec<u8> {
    (0..300_000u32)
        .flat_map(|i| (i.wrapping_mul(2_654_435_761)).to_le_bytes())
        .collect()
}

fn identity_file(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let identities = Identities::generate();
    let path = dir.join(name);
    fs::write(&path, identities.to_file_text()).unwrap();
    (path, identities.public_keys().remove(0))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn age_opens_what_we_seal_for_any_of_the_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let (server_key, server_public) = identity_file(dir.path(), "server.txt");
    let (agent_key, agent_public) = identity_file(dir.path(), "agent.txt");
    let recipients = Recipients::parse(&[server_public, agent_public]).unwrap();
    let sealed_path = dir.path().join("bundle.zip.age");
    let bytes = seal(
        &mut &plain()[..],
        &mut fs::File::create(&sealed_path).unwrap(),
        &recipients,
    )
    .unwrap();
    assert_eq!(bytes, fs::metadata(&sealed_path).unwrap().len());
    assert!(is_sealed(&sealed_path).unwrap());
    for key in [&server_key, &agent_key] {
        let opened = dir.path().join("opened.zip");
        let _ = fs::remove_file(&opened);
        run(
            "age",
            &[
                "-d",
                "-i",
                path(key),
                "-o",
                path(&opened),
                path(&sealed_path),
            ],
        );
        assert!(
            fs::read(&opened).unwrap() == plain(),
            "age opened it with {}",
            key.display()
        );
    }
}

#[test]
fn we_open_what_age_seals() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = identity_file(dir.path(), "agent.txt");
    let plain_path = dir.path().join("bundle.zip");
    fs::write(&plain_path, plain()).unwrap();
    let sealed_path = dir.path().join("bundle.zip.age");
    run(
        "age",
        &["-r", &public, "-o", path(&sealed_path), path(&plain_path)],
    );
    assert!(is_sealed(&sealed_path).unwrap());
    assert!(!is_sealed(&plain_path).unwrap());

    let identities = Identities::from_file(&key).unwrap();
    let mut opened = unseal_to_temp(&sealed_path, &identities, dir.path(), 10 << 20).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut opened, &mut bytes).unwrap();
    assert!(bytes == plain());
}

#[test]
fn other_keys_damage_and_a_file_too_large_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = identity_file(dir.path(), "agent.txt");
    let (other, _) = identity_file(dir.path(), "other.txt");
    let mut sealed = Vec::new();
    seal(
        &mut &plain()[..],
        &mut sealed,
        &Recipients::parse(&[public]).unwrap(),
    )
    .unwrap();
    let ours = Identities::from_file(&key).unwrap();

    let err = unseal(
        &mut &sealed[..],
        &mut Vec::new(),
        &Identities::from_file(&other).unwrap(),
        u64::MAX,
    )
    .unwrap_err();
    assert!(matches!(err, SealError::NotForUs), "{err}");

    let mut damaged = sealed.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x01;
    let err = unseal(&mut &damaged[..], &mut Vec::new(), &ours, u64::MAX).unwrap_err();
    assert!(matches!(err, SealError::Damaged(_)), "{err}");
    // `age` agrees that it is damaged.
    let damaged_path = dir.path().join("damaged.age");
    fs::write(&damaged_path, &damaged).unwrap();
    let refused = output("age", &["-d", "-i", path(&key), path(&damaged_path)]).unwrap();
    assert!(!refused.status.success());

    let err = unseal(&mut &sealed[..], &mut Vec::new(), &ours, 1000).unwrap_err();
    assert!(matches!(err, SealError::TooLarge { limit: 1000 }), "{err}");

    let err = unseal(
        &mut &b"PK\x03\x04 not sealed"[..],
        &mut Vec::new(),
        &ours,
        u64::MAX,
    )
    .unwrap_err();
    assert!(matches!(err, SealError::Damaged(_)), "{err}");
}

#[test]
fn bad_keys_and_identity_files_are_named_without_showing_secrets() {
    let err = Recipients::parse(&[
        Identities::generate().public_keys().remove(0),
        "age1notakey".into(),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("recipient 1 (`age1notakey`)"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key.txt");
    fs::write(&file, "# a comment\nAGE-SECRET-KEY-1NOTASECRETATALL\n").unwrap();
    let err = Identities::from_file(&file).err().unwrap().to_string();
    assert!(
        err.contains("line 2") && !err.contains("NOTASECRET"),
        "{err}"
    );
    fs::write(&file, "# only comments\n").unwrap();
    assert!(matches!(
        Identities::from_file(&file),
        Err(SealError::NoIdentity(_))
    ));
}
