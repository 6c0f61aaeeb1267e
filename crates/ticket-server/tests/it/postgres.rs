//! Tickets in PostgreSQL (a private cluster from Debian's packages): the same behaviour as SQLite
//! (numbers, repeats, added logs, a restart); and two server instances on one database and one
//! blob store (Azurite) taking reports at once, where a bundle sent to both is one ticket and
//! every ticket becomes one work item though both forward from the one queue.

use std::collections::BTreeSet;

use callsupport_bundle::ticket::TicketReceipt;
use callsupport_ticket_server::DatabaseConfig;
use reqwest::StatusCode;

use std::time::Duration;

use callsupport_ticket_server::{AzureDevOps, ForwardConfig};

use crate::ado_standin::{self, StandIn};
use crate::support::{AGENT_TOKEN, Collected, Server, Setup, Upload};
use callsupport_ticket_server::testing::Azurite;
use callsupport_ticket_server::testing::Postgres;

fn on(postgres: &Postgres) -> Setup {
    Setup {
        database: DatabaseConfig::Postgres(postgres.url.clone()),
        ..Setup::default()
    }
}

async fn ticket_ids(server: &Server) -> Vec<String> {
    let list: serde_json::Value = server
        .get("/api/v1/tickets", Some(AGENT_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ticket_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "starts PostgreSQL, a Linux program a test under Wine can start but not wait for; the database code is the same on Windows"
)]
async fn tickets_in_postgres_behave_as_in_sqlite() {
    let postgres = Postgres::start();
    let server = Server::start_with(on(&postgres)).await;
    let first = Collected::new();
    let created = server.post(&Upload::of(&first)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let receipt: TicketReceipt = created.json().await.unwrap();
    assert_eq!(receipt.ticket_id, "CS-000001");
    let again = server.post(&Upload::of(&first)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<TicketReceipt>().await.unwrap(), receipt);

    // Logs through a link for one report: the first is added, the same again answered as
    // before, another refused.
    let link = server
        .make_link("CS-000001", serde_json::json!({"uses": 1}))
        .await;
    let through_link = |bundle: &Collected| {
        let mut request = bundle.request();
        request.report.ticket_id = Some("CS-000001".into());
        request.report.link = Some(link["url"].as_str().unwrap().to_owned());
        Upload::of(bundle).with_request(&request)
    };
    let added = Collected::new();
    let attached = server.post(&through_link(&added)).await;
    assert_eq!(attached.status(), StatusCode::CREATED);
    assert_eq!(
        server.post(&through_link(&added)).await.status(),
        StatusCode::OK
    );
    crate::support::assert_problem(
        server.post(&through_link(&Collected::new())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "link_used_up",
    )
    .await;
    let ticket: serde_json::Value = server
        .get("/api/v1/tickets/CS-000001", Some(AGENT_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["summary"], first.request().report.summary.as_str());
    assert_eq!(
        ticket["attachments"][0]["bundle_id"],
        added.written.manifest.bundle_id.to_string().as_str()
    );
    assert_eq!(ticket["report"]["bundle_id"], receipt_bundle(&first));
    let download = server
        .get("/api/v1/tickets/CS-000001/bundle", Some(AGENT_TOKEN))
        .await;
    assert_eq!(download.bytes().await.unwrap()[..], first.bytes()[..]);

    // Restarted (with a fresh data folder: the records are in the database), it goes on.
    server.stop().await;
    let server = Server::start_with(on(&postgres)).await;
    let next = server.post(&Upload::of(&Collected::new())).await;
    assert_eq!(next.status(), StatusCode::CREATED);
    assert_eq!(
        next.json::<TicketReceipt>().await.unwrap().ticket_id,
        "CS-000002"
    );
    assert_eq!(ticket_ids(&server).await, ["CS-000002", "CS-000001"]);
}

fn receipt_bundle(bundle: &Collected) -> String {
    bundle.written.manifest.bundle_id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "starts PostgreSQL, a Linux program a test under Wine can start but not wait for; the database code is the same on Windows"
)]
async fn two_instances_on_one_database_and_one_blob_store_take_reports_at_once() {
    let postgres = Postgres::start();
    let azurite = Azurite::start().await;
    azurite.create_container("shared").await;
    let ado = StandIn::start().await;
    let setup = || Setup {
        blobs: azurite.blobs("shared"),
        forward: Some(ForwardConfig {
            retry_base: Duration::from_millis(100),
            ..ForwardConfig::new(AzureDevOps {
                organization_url: ado.organization_url(),
                project: ado_standin::PROJECT.into(),
                work_item_type: "Bug".into(),
                area_path: None,
                token: ado_standin::PAT.into(),
                attachment_limit_bytes: 10 << 20,
                chunk_bytes: 1 << 20,
            })
        }),
        // Every report comes from this one address here: it may send them all at once.
        intake: callsupport_ticket_server::Intake {
            at_once: 64,
            per_client: 64,
        },
        ..on(&postgres)
    };
    let (a, b) = (
        Server::start_with(setup()).await,
        Server::start_with(setup()).await,
    );

    // Twenty reports, ten to each instance, all at once; and five more, each sent to both.
    let own: Vec<Collected> = (0..20).map(|_| Collected::new()).collect();
    let both: Vec<Collected> = (0..5).map(|_| Collected::new()).collect();
    let uploads: Vec<(&Server, Upload)> = own
        .iter()
        .enumerate()
        .map(|(i, bundle)| (if i % 2 == 0 { &a } else { &b }, Upload::of(bundle)))
        .chain(
            both.iter()
                .flat_map(|bundle| [(&a, Upload::of(bundle)), (&b, Upload::of(bundle))]),
        )
        .collect();
    let answers = futures_util::future::join_all(uploads.iter().map(|(server, upload)| async {
        let response = server.post(upload).await;
        let status = response.status();
        (status, response.json::<TicketReceipt>().await.unwrap())
    }))
    .await;

    let (own_answers, both_answers) = answers.split_at(20);
    assert!(
        own_answers.iter().all(|(s, _)| *s == StatusCode::CREATED),
        "{own_answers:?}"
    );
    for pair in both_answers.chunks(2) {
        let [(first, x), (second, y)] = pair else {
            unreachable!()
        };
        assert_eq!(x.ticket_id, y.ticket_id, "one bundle, one ticket");
        let mut statuses = [first.as_u16(), second.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 201],
            "one made it, the other was told of it"
        );
    }
    let tickets: BTreeSet<String> = answers.iter().map(|(_, r)| r.ticket_id.clone()).collect();
    assert_eq!(tickets.len(), 25, "{tickets:?}");

    // Both instances list all of them, and every bundle is in the container once.
    let listed_a: BTreeSet<String> = ticket_ids(&a).await.into_iter().collect();
    let listed_b: BTreeSet<String> = ticket_ids(&b).await.into_iter().collect();
    assert_eq!(listed_a, tickets);
    assert_eq!(listed_b, tickets);
    let blobs: BTreeSet<String> = azurite.blob_names("shared").await.into_iter().collect();
    let expected: BTreeSet<String> = tickets.iter().map(|t| format!("bundles/{t}.zip")).collect();
    assert_eq!(blobs, expected, "no copy is left without its ticket");

    // A ticket taken by one instance is read through the other.
    let (_, taken_by_a) = &answers[0];
    let through_b = b
        .get(
            &format!("/api/v1/tickets/{}/bundle", taken_by_a.ticket_id),
            Some(AGENT_TOKEN),
        )
        .await;
    assert_eq!(through_b.status(), StatusCode::OK);
    assert_eq!(through_b.bytes().await.unwrap()[..], own[0].bytes()[..]);

    // Both forward from the one queue: every ticket becomes exactly one work item.
    for _ in 0..300 {
        let open: serde_json::Value = a
            .get("/api/v1/forwards", Some(AGENT_TOKEN))
            .await
            .json()
            .await
            .unwrap();
        if open["forwards"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let titles: Vec<String> = ado
        .inner()
        .work_items
        .values()
        .map(|item| item.fields["System.Title"].as_str().unwrap()[1..10].to_owned())
        .collect();
    let distinct: BTreeSet<String> = titles.iter().cloned().collect();
    assert_eq!(titles.len(), 25, "one work item a ticket: {titles:?}");
    assert_eq!(distinct, tickets);
    assert_eq!(ado.inner().attachments.len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "starts PostgreSQL, a Linux program a test under Wine can start but not wait for; the database code is the same on Windows"
)]
async fn a_bundle_stored_before_a_crash_is_recorded_in_postgres_with_its_forward() {
    let postgres = Postgres::start();
    let store = callsupport_ticket_server::store::postgres::Postgres::connect(&postgres.url)
        .await
        .unwrap();
    let pended = crate::crash::pended_in(Box::new(store), tempfile::tempdir().unwrap(), true).await;
    crate::crash::whole_blob_is_recorded_with_its_forward(pended).await;
}
