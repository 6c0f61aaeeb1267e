//! Links from support: an agent makes one for a ticket; it is signed with the key the server
//! publishes, lasts its hours and brings at most its uses of logs; every other way of adding logs
//! to a ticket is refused, and nothing of a refused report is stored.

use callsupport_bundle::ticket::TicketRequest;
use callsupport_link::{Link, LinkKey, PublicKey};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// A server with one ticket, CS-000001.
async fn server_with_a_ticket() -> Server {
    let server = Server::start().await;
    let first = Collected::new();
    assert_eq!(
        server.post(&Upload::of(&first)).await.status(),
        StatusCode::CREATED
    );
    server
}

/// A new bundle's request adding to `ticket` through `link` (none: no link).
fn adding(ticket: &str, link: Option<&str>) -> (Collected, TicketRequest) {
    let added = Collected::new();
    let mut request = added.request();
    request.report.ticket_id = Some(ticket.to_owned());
    request.report.link = link.map(str::to_owned);
    (added, request)
}

async fn post_adding(server: &Server, ticket: &str, link: Option<&str>) -> reqwest::Response {
    let (added, request) = adding(ticket, link);
    server
        .post(&Upload::of(&added).with_request(&request))
        .await
}

async fn public_key(server: &Server) -> PublicKey {
    let key: serde_json::Value = server
        .get("/api/v1/link-key", None)
        .await
        .json()
        .await
        .unwrap();
    PublicKey::parse(key["key"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn an_agents_link_is_signed_and_brings_logs_as_often_as_it_may() {
    let server = server_with_a_ticket().await;
    let made = server
        .make_link("CS-000001", json!({"hours": 2, "uses": 2}))
        .await;
    assert_eq!(made["ticket_id"], "CS-000001");
    assert_eq!(made["max_uses"], 2);
    assert_eq!(made["uses"], 0);
    let url = made["url"].as_str().unwrap();
    let link = Link::parse(url).unwrap();
    assert_eq!(link.link_id.as_deref(), made["link_id"].as_str());
    link.check(&public_key(&server).await, Utc::now()).unwrap();
    let hours = (link.expires_at - Utc::now()).num_minutes();
    assert!((118..=120).contains(&hours), "{hours} minutes left");

    let (first, request) = adding("CS-000001", Some(url));
    let upload = Upload::of(&first).with_request(&request);
    assert_eq!(server.post(&upload).await.status(), StatusCode::CREATED);
    // The same report again (a retry) is answered as before, and takes no use.
    assert_eq!(server.post(&upload).await.status(), StatusCode::OK);
    assert_eq!(
        post_adding(&server, "CS-000001", Some(url)).await.status(),
        StatusCode::CREATED
    );
    let problem = assert_problem(
        post_adding(&server, "CS-000001", Some(url)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "link_used_up",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("new one"),
        "{problem}"
    );

    let listed = server.agent_json("/api/v1/tickets/CS-000001/links").await;
    assert_eq!(listed["links"][0]["uses"], 2, "{listed}");
    assert_eq!(listed["links"][0]["url"], url);
    let ticket = server.agent_json("/api/v1/tickets/CS-000001").await;
    assert_eq!(ticket["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(ticket["attachments"][0]["report"]["link"], url);
    server.assert_nothing_stored_but(2);
}

#[tokio::test]
async fn logs_without_a_good_link_are_refused_and_nothing_is_kept() {
    let server = server_with_a_ticket().await;
    let second = Collected::new();
    assert_eq!(
        server.post(&Upload::of(&second)).await.status(),
        StatusCode::CREATED
    );
    let made = server.make_link("CS-000001", json!({})).await;
    let url = made["url"].as_str().unwrap();
    let link = Link::parse(url).unwrap();
    // The server's own key, to sign what it never made.
    let server_key =
        LinkKey::from_text(&std::fs::read_to_string(server.data.path().join("link-key")).unwrap())
            .unwrap();
    let expires = link.expires_at.timestamp().to_string();
    let cases: Vec<(Option<String>, &str, &str)> = vec![
        (None, "link_required", "ask support for a link"),
        (
            Some(format!(
                "callsupport://report?ticket=CS-000001&expires={expires}"
            )),
            "link_invalid",
            "not signed",
        ),
        (
            Some(
                url.replace(
                    &expires,
                    &(link.expires_at + Duration::days(30))
                        .timestamp()
                        .to_string(),
                ),
            ),
            "link_invalid",
            "signature does not match",
        ),
        (
            Some(
                LinkKey::generate()
                    .unwrap()
                    .sign("CS-000001", "x1", Utc::now() + Duration::hours(1))
                    .unwrap()
                    .url(),
            ),
            "link_invalid",
            "signature does not match",
        ),
        (
            Some(
                server_key
                    .sign("CS-000001", "never-made", Utc::now() + Duration::hours(1))
                    .unwrap()
                    .url(),
            ),
            "link_invalid",
            "no record",
        ),
        (
            Some(
                server_key
                    .sign("CS-000001", "old", Utc::now() - Duration::days(8))
                    .unwrap()
                    .url(),
            ),
            "link_expired",
            "expired",
        ),
        (
            Some("https://example.com/".into()),
            "link_invalid",
            "not a Call Support link",
        ),
    ];
    for (link, code, words) in cases {
        let problem = assert_problem(
            post_adding(&server, "CS-000001", link.as_deref()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains(words),
            "{link:?}: {problem}"
        );
    }
    // A good link for one ticket does not add to another.
    let problem = assert_problem(
        post_adding(&server, "CS-000002", Some(url)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "link_invalid",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("CS-000001"));
    // A link signed for CS-000002 with a known id of CS-000001's is not that ticket's.
    let moved = server_key
        .sign(
            "CS-000002",
            made["link_id"].as_str().unwrap(),
            link.expires_at,
        )
        .unwrap()
        .url();
    assert_problem(
        post_adding(&server, "CS-000002", Some(&moved)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "link_invalid",
    )
    .await;

    server.assert_nothing_stored_but(2);
    let listed = server.agent_json("/api/v1/tickets/CS-000001/links").await;
    assert_eq!(listed["links"][0]["uses"], 0, "no refusal took a use");
}

#[tokio::test]
async fn a_link_past_its_expiry_still_brings_logs_agreed_to_in_time_for_a_week() {
    let server = server_with_a_ticket().await;
    let made = server.make_link("CS-000001", json!({"hours": 1})).await;
    let server_key =
        LinkKey::from_text(&std::fs::read_to_string(server.data.path().join("link-key")).unwrap())
            .unwrap();
    // The same link id signed as if it had ended six days ago: a report that waited offline.
    let waited = server_key
        .sign(
            "CS-000001",
            made["link_id"].as_str().unwrap(),
            Utc::now() - Duration::days(6),
        )
        .unwrap()
        .url();
    assert_eq!(
        post_adding(&server, "CS-000001", Some(&waited))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_last_use_goes_to_one_report_of_many_at_once() {
    let server = Server::start_with(Setup {
        intake: callsupport_ticket_server::Intake {
            at_once: 16,
            per_client: 16,
        },
        ..Setup::default()
    })
    .await;
    assert_eq!(
        server.post(&Upload::of(&Collected::new())).await.status(),
        StatusCode::CREATED
    );
    let made = server.make_link("CS-000001", json!({"uses": 1})).await;
    let url = made["url"].as_str().unwrap().to_owned();
    let bundles: Vec<_> = (0..6).map(|_| adding("CS-000001", Some(&url))).collect();
    let uploads: Vec<Upload> = bundles
        .iter()
        .map(|(added, request)| Upload::of(added).with_request(request))
        .collect();
    let answers = futures_util::future::join_all(uploads.iter().map(|u| server.post(u))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 422).count(),
        5,
        "{statuses:?}"
    );
    server.assert_nothing_stored_but(2);
}

#[tokio::test]
async fn making_a_link_checks_the_ticket_the_token_and_the_request() {
    let server = server_with_a_ticket().await;
    let post = |ticket: &str, token: Option<&str>, body: &str| {
        let mut request = server
            .client
            .post(server.url(&format!("/api/v1/tickets/{ticket}/links")))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_problem(
        post("CS-000009", Some(AGENT_TOKEN), "{}").await.unwrap(),
        StatusCode::NOT_FOUND,
        "ticket_not_found",
    )
    .await;
    assert_eq!(
        post("CS-000001", None, "{}").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post("CS-000001", Some(SUBMIT_TOKEN), "{}")
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED,
        "the submit token every desktop holds makes no links"
    );
    for body in [
        "",
        "not json",
        "[]",
        r#"{"hours": 0}"#,
        r#"{"hours": 721}"#,
        r#"{"hours": "72"}"#,
        r#"{"uses": 0}"#,
        r#"{"uses": 101}"#,
        r#"{"uses": -1}"#,
        r#"{"forever": true}"#,
    ] {
        let problem = assert_problem(
            post("CS-000001", Some(AGENT_TOKEN), body).await.unwrap(),
            StatusCode::BAD_REQUEST,
            "link_request_invalid",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("hours")
                || problem["detail"].as_str().unwrap().contains("uses"),
            "{body}: {problem}"
        );
    }
    // Left out, they are 72 hours and 3 uses.
    let made = server.make_link("CS-000001", json!({})).await;
    assert_eq!(made["max_uses"], 3);
    let link = Link::parse(made["url"].as_str().unwrap()).unwrap();
    let hours = (link.expires_at - Utc::now()).num_hours();
    assert!((71..=72).contains(&hours), "{hours}");
}

#[tokio::test]
async fn the_key_and_its_links_outlive_a_restart() {
    let server = server_with_a_ticket().await;
    let before = public_key(&server).await;
    let made = server.make_link("CS-000001", json!({})).await;
    let data = server.stop().await;
    let server = Server::start_in(data, Setup::default()).await;
    assert_eq!(public_key(&server).await, before);
    assert_eq!(
        post_adding(&server, "CS-000001", made["url"].as_str())
            .await
            .status(),
        StatusCode::CREATED
    );
}
