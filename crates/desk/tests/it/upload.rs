//! `upload::Uploader` against the real reference ticket server, started in-process: the receipt,
//! the stored copy, idempotency, and each way a submit fails.

use std::fs;

use callsupport_desk::bundle::writer::WrittenBundle;
use callsupport_desk::config::{Config, TicketApiConfig};
use callsupport_desk::progress::Progress;
use callsupport_desk::ticket::TicketRequest;
use callsupport_desk::upload::{UploadError, Uploader};
use callsupport_desk::{Error, ErrorCode};

use crate::support::{
    LogTree, Server, TOKEN_ENV, UNSET_TOKEN_ENV, WRONG_TOKEN_ENV, collected_bundle, config_toml,
    dead_url, random_bytes, sha256_of, sha256sum, tokens, write_file,
};

fn api(tree: &LogTree, url: &str, token_env: Option<&str>) -> TicketApiConfig {
    let text = config_toml(url, token_env, &tree.sources_toml(), 200);
    Config::parse(&tree.dir.path().join("upload.toml"), &text)
        .unwrap()
        .ticket_api
}

async fn submit(
    api: &TicketApiConfig,
    bundle: &WrittenBundle,
) -> Result<callsupport_desk::ticket::TicketReceipt, UploadError> {
    let (request, bytes) = TicketRequest::for_file(&bundle.path).unwrap();
    assert_eq!(bytes, bundle.bytes);
    Uploader::new(api)?
        .submit(&bundle.path, &request, |_| true)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_becomes_a_ticket_stored_byte_for_byte() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let bundle = collected_bundle(&tree);
    let api = api(&tree, &server.url(), Some(TOKEN_ENV));
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    assert_eq!(request.bundle_id, bundle.manifest.bundle_id);
    assert_eq!(request.bundle_sha256, sha256sum(&bundle.path));

    let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let receipt = Uploader::new(&api)
        .unwrap()
        .submit(&bundle.path, &request, move |p| {
            seen.lock().unwrap().push(p);
            true
        })
        .await
        .unwrap();

    assert_eq!(receipt.ticket_id, "CS-000001");
    assert_eq!(receipt.bundle_sha256, sha256_of(&bundle.path));
    assert_eq!(
        receipt.bundle_bytes,
        fs::metadata(&bundle.path).unwrap().len()
    );
    assert_eq!(
        receipt.ticket_url,
        format!("http://{}/api/v1/tickets/CS-000001", server.running.addr())
    );
    let stored = server.stored_bundle("CS-000001");
    assert_eq!(fs::read(&stored).unwrap(), fs::read(&bundle.path).unwrap());
    assert_eq!(sha256sum(&stored), receipt.bundle_sha256);
    match progress.lock().unwrap().last() {
        Some(Progress::Uploading {
            bytes_sent,
            bytes_total,
            ..
        }) => assert_eq!((bytes_sent, bytes_total), (&bundle.bytes, &bundle.bytes)),
        other => panic!("last progress was {other:?}"),
    }

    // The same bundle again: the same ticket, and still one stored bundle.
    let again = submit(&api, &bundle).await.unwrap();
    assert_eq!(again, receipt);
    assert_eq!(server.folder("bundles"), ["CS-000001.zip"]);
    assert!(server.folder("incoming").is_empty());

    // Another bundle is another ticket.
    let other = LogTree::new();
    let second = submit(&api, &collected_bundle(&other)).await.unwrap();
    assert_eq!(second.ticket_id, "CS-000002");
}

/// A log tree whose bundle is about 1 MiB, the small end of real bundles.
fn megabyte_tree() -> LogTree {
    let tree = LogTree::new();
    write_file(&tree.acs("acs_big.blog"), &random_bytes(1 << 20, 5));
    tree
}

/// Submits `bundle` `attempts` times and returns every error. The server refuses some requests
/// before it has read the whole body, so its answer races with the upload; the client must report
/// the refusal every time, not only when it wins the race.
async fn refusals(
    api: &TicketApiConfig,
    bundle: &WrittenBundle,
    attempts: usize,
) -> Vec<UploadError> {
    let mut errors = Vec::new();
    for _ in 0..attempts {
        errors.push(
            submit(api, bundle)
                .await
                .expect_err("the server must refuse"),
        );
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_unauthorized() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = megabyte_tree();
    let bundle = collected_bundle(&tree);

    let errors = refusals(
        &api(&tree, &server.url(), Some(WRONG_TOKEN_ENV)),
        &bundle,
        20,
    )
    .await;

    for err in &errors {
        match err {
            UploadError::Unauthorized { host, .. } => {
                assert_eq!(host, &server.running.addr().to_string())
            }
            other => panic!(
                "expected Unauthorized every time, got {other:?}; all attempts: {:?}",
                errors.iter().map(ToString::to_string).collect::<Vec<_>>()
            ),
        }
    }
    let err = errors.into_iter().next().unwrap();
    assert_eq!(Error::from(err).code(), ErrorCode::Unauthorized);
    assert!(server.folder("bundles").is_empty());
}

#[test]
fn an_unset_token_variable_is_named() {
    let tree = LogTree::new();

    let err = match Uploader::new(&api(
        &tree,
        "https://support.example.com/api/v1/tickets",
        Some(UNSET_TOKEN_ENV),
    )) {
        Ok(_) => panic!("an uploader was built without its token"),
        Err(err) => err,
    };

    match &err {
        UploadError::MissingToken(name) => assert_eq!(name, UNSET_TOKEN_ENV),
        other => panic!("expected MissingToken, got {other:?}"),
    }
    assert!(err.to_string().contains(UNSET_TOKEN_ENV), "{err}");
    assert_eq!(Error::from(err).code(), ErrorCode::ConfigInvalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_listening_is_unreachable() {
    let tree = LogTree::new();
    let bundle = collected_bundle(&tree);
    let url = dead_url();

    let err = submit(&api(&tree, &url, None), &bundle).await.unwrap_err();

    match &err {
        UploadError::Unreachable { host, .. } => assert!(url.contains(host.as_str()), "{err}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert_eq!(Error::from(err).code(), ErrorCode::Unreachable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_over_the_server_limit_is_too_large() {
    tokens();
    let server = Server::start(64 * 1024).await;
    let tree = megabyte_tree();
    let bundle = collected_bundle(&tree);
    assert!(
        bundle.bytes > 1 << 20,
        "bundle is only {} bytes",
        bundle.bytes
    );

    let errors = refusals(&api(&tree, &server.url(), Some(TOKEN_ENV)), &bundle, 20).await;

    assert!(
        errors
            .iter()
            .all(|err| matches!(err, UploadError::TooLarge { .. })),
        "expected TooLarge every time, got {:?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    let err = errors.into_iter().next().unwrap();
    assert_eq!(Error::from(err).code(), ErrorCode::Rejected);
    assert!(server.folder("bundles").is_empty());
    assert!(server.folder("incoming").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_bundle_is_rejected_by_the_server() {
    // The zip's own hash is right (the request is computed from the file as it is now), but one
    // file inside no longer matches the manifest: the server checks every file and refuses.
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let bundle = collected_bundle(&tree);
    // Rebuild the zip with Python so the CRCs match the changed byte: only the manifest knows.
    let damaged = tree.dir.path().join("out/damaged.zip");
    crate::support::run_tool(
        "python3",
        &[
            "-c",
            r#"
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
    for info in a.infolist():
        data = a.read(info)
        if info.filename == "files/acs/acs_1.blog":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        b.writestr(info, data)
"#,
            bundle.path.to_str().unwrap(),
            damaged.to_str().unwrap(),
        ],
    );
    let (request, _) = TicketRequest::for_file(&damaged).unwrap();

    let err = Uploader::new(&api(&tree, &server.url(), Some(TOKEN_ENV)))
        .unwrap()
        .submit(&damaged, &request, |_| true)
        .await
        .unwrap_err();

    match &err {
        UploadError::Rejected { status, code, .. } => {
            assert_eq!((*status, code.as_str()), (422, "bundle_damaged"), "{err}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(server.folder("bundles").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_upload_creates_no_ticket() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    write_file(&tree.acs("acs_big.blog"), &random_bytes(2 << 20, 5));
    let bundle = collected_bundle(&tree);
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();

    let err = Uploader::new(&api(&tree, &server.url(), Some(TOKEN_ENV)))
        .unwrap()
        .submit(&bundle.path, &request, |_| false)
        .await
        .unwrap_err();

    assert!(matches!(err, UploadError::Cancelled), "{err:?}");
    assert!(server.folder("bundles").is_empty());
}

/// A TLS front for the test server: a certificate for `localhost` signed by a CA made here, which
/// no operating system trusts.
struct TlsFront {
    port: u16,
    ca_pem: String,
}

impl TlsFront {
    async fn start(upstream: std::net::SocketAddr) -> TlsFront {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::from_params(&ca_params, &ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            port,
            ca_pem: ca.pem(),
        }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/api/v1/tickets", self.port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "under Wine a client with an extra CA cannot be built (`builder error`); likely cause: rustls-platform-verifier asks for a chain engine with an exclusive root (Windows 8 and later), which Wine 8 lacks"
)]
async fn a_corporate_ca_from_the_config_is_trusted_and_without_it_the_error_says_so() {
    tokens();
    let server = Server::start(64 << 20).await;
    let front = TlsFront::start(server.running.addr()).await;
    let tree = LogTree::new();
    let bundle = collected_bundle(&tree);
    let ca_file = tree.dir.path().join("contoso-ca.pem");
    fs::write(&ca_file, &front.ca_pem).unwrap();

    // Without the CA: refused at once (no retry can fix it), and the message says what IT can do.
    let untrusted = api(&tree, &front.url(), Some(TOKEN_ENV));
    let err = submit(&untrusted, &bundle).await.unwrap_err();
    assert!(matches!(err, UploadError::Untrusted { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("ticket_api.ca_files"), "{err}");
    assert_eq!(Error::from(err).code(), ErrorCode::ConfigInvalid);

    // With it, over TLS, the report goes through.
    let text = config_toml(&front.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200).replace(
        "[ticket_api]\n",
        &format!("[ticket_api]\nca_files = ['{}']\n", ca_file.display()),
    );
    let trusted = Config::parse(&tree.dir.path().join("tls.toml"), &text)
        .unwrap()
        .ticket_api;
    let receipt = submit(&trusted, &bundle).await.unwrap();
    assert_eq!(receipt.ticket_id, "CS-000001");
    assert_eq!(receipt.bundle_sha256, bundle.sha256);

    // A CA file that is not one is a configuration error naming the key.
    fs::write(&ca_file, "not a certificate").unwrap();
    let err = Config::parse(&tree.dir.path().join("tls.toml"), &text).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("ticket_api.ca_files[0]"), "{err}");
}
