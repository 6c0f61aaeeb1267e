//! `GET /healthz`: what load balancers and `doctor` poll.

use reqwest::StatusCode;

use crate::support::Server;

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let server = Server::start().await;

    let response = server.get("/healthz", None).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn an_unknown_path_is_not_found() {
    let server = Server::start().await;

    let response = server.get("/api/v1/nothing-here", None).await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_problem() {
    // schemathesis checks the live server against this document (`cargo xtask test`); here, that
    // the document covers what the server serves.
    let server = Server::start().await;

    let response = server.get("/api/v1/openapi.json", None).await;

    assert_eq!(response.status(), StatusCode::OK);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut paths: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v1/forwards",
            "/api/v1/link-key",
            "/api/v1/openapi.json",
            "/api/v1/tickets",
            "/api/v1/tickets/{id}",
            "/api/v1/tickets/{id}/attachments/{bundle_id}",
            "/api/v1/tickets/{id}/bundle",
            "/api/v1/tickets/{id}/links",
            "/api/v1/uploads",
            "/api/v1/uploads/{id}",
            "/healthz"
        ]
    );
    let post = &document["paths"]["/api/v1/tickets"]["post"];
    for status in ["200", "201", "400", "401", "413", "422", "429", "500"] {
        assert!(
            post["responses"][status].is_object(),
            "POST /api/v1/tickets does not document {status}"
        );
    }
    for content in ["multipart/form-data", "application/json"] {
        assert!(
            post["requestBody"]["content"][content].is_object(),
            "{content}"
        );
    }
    let uploads = &document["paths"]["/api/v1/uploads/{id}"];
    for method in ["head", "patch", "delete"] {
        assert!(
            uploads[method].is_object(),
            "{method} /api/v1/uploads/{{id}}"
        );
    }
    assert!(uploads["patch"]["responses"]["460"].is_object());
    assert!(document["paths"]["/api/v1/uploads"]["options"].is_object());
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["submit_token"]["scheme"], "bearer");
    assert_eq!(schemes["agent_token"]["scheme"], "bearer");
}

#[tokio::test]
async fn a_dry_run_checks_the_submit_token_and_stores_nothing() {
    let server = Server::start().await;
    let client = reqwest::Client::new();
    let post = |token: Option<&'static str>, query: &'static str| {
        let mut request = client.post(server.url(&format!("/api/v1/tickets{query}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let accepted = post(Some(crate::support::SUBMIT_TOKEN), "?dry_run=true")
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::NO_CONTENT);
    let limit: u64 = accepted.headers()["x-max-bundle-bytes"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(limit > 0);
    // With a body it is no dry run: refused, so a client never believes a report went.
    let with_body = client
        .post(server.url("/api/v1/tickets?dry_run=true"))
        .bearer_auth(crate::support::SUBMIT_TOKEN)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(with_body.status(), StatusCode::BAD_REQUEST);

    let refused = post(Some("not-the-token"), "?dry_run=true").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let missing = post(None, "?dry_run=1").await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let odd = post(Some(crate::support::SUBMIT_TOKEN), "?dry_run=maybe")
        .await
        .unwrap();
    assert_eq!(odd.status(), StatusCode::BAD_REQUEST);
    let problem: serde_json::Value = odd.json().await.unwrap();
    assert_eq!(problem["code"], "query_invalid");

    let listed = server
        .get("/api/v1/tickets", Some(crate::support::AGENT_TOKEN))
        .await;
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(
        listed["tickets"],
        serde_json::json!([]),
        "a dry run stores nothing"
    );
}
