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
