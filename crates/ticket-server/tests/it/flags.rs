//! The server's command line refuses what cannot work, in words, before it listens: forwarding to
//! Azure DevOps without a token, a token file that is missing or empty, a blob store it cannot use.

use std::process::Command;

fn server(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_callsupport-ticket-server"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .args(args)
        .env_remove("CALLSUPPORT_ADO_TOKEN")
        .env_remove("CALLSUPPORT_ADO_TOKEN_FILE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn forwarding_without_a_usable_token_or_store_is_refused_in_words() {
    let forward = [
        "--ado-organization",
        "https://dev.azure.com/contoso",
        "--ado-project",
        "Fabrikam",
    ];
    let (code, said) = server(&forward, &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("CALLSUPPORT_ADO_TOKEN_FILE"), "{said}");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-token");
    let (code, said) = server(
        &forward,
        &[("CALLSUPPORT_ADO_TOKEN_FILE", missing.to_str().unwrap())],
    );
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("cannot read the Azure DevOps token from"),
        "{said}"
    );

    let empty = dir.path().join("empty-token");
    std::fs::write(&empty, "\n").unwrap();
    let (code, said) = server(
        &forward,
        &[("CALLSUPPORT_ADO_TOKEN_FILE", empty.to_str().unwrap())],
    );
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("is empty"), "{said}");

    // A usable token, but an organisation that is not https: refused at start too.
    let token = dir.path().join("token");
    std::fs::write(&token, "pat\n").unwrap();
    let (code, said) = server(
        &[
            "--ado-organization",
            "http://dev.azure.example.com/contoso",
            "--ado-project",
            "Fabrikam",
        ],
        &[("CALLSUPPORT_ADO_TOKEN_FILE", token.to_str().unwrap())],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("must be https"), "{said}");

    let (code, said) = server(&["--blob-store", "ftp://bundles"], &[]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("use az://CONTAINER or s3://BUCKET"), "{said}");
}

#[test]
fn a_setup_that_would_leak_or_mislead_is_refused_in_words() {
    // Every desktop holds the submit token: as the agent token it would open every ticket.
    let (code, said) = server(&["--token", "shared", "--agent-token", "shared"], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("the agent token is the submit token"),
        "{said}"
    );

    // Links to http://0.0.0.0:… lead nowhere: listening on all addresses needs --public-url.
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_callsupport-ticket-server"))
        .args(["--listen", "0.0.0.0:0", "--token", "t", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("--public-url is needed"), "{said}");
}

#[test]
fn a_proxy_that_is_not_an_address_block_is_refused_in_words() {
    let (code, said) = server(&["--trust-proxy", "10.0.0.0/8,proxy.local"], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("`proxy.local` is not an address"), "{said}");
}
