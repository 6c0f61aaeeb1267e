//! The OpenAPI 3.1 document of the ticket API, generated from the handlers' annotations and the
//! wire types themselves (`utoipa`), served at `GET /api/v1/openapi.json`.

use callsupport_bundle::report::{Category, Report};
use callsupport_bundle::ticket::{Problem, TicketReceipt, TicketRequest};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes;
use crate::store::TicketRecord;

/// The `multipart/form-data` body of `POST /api/v1/tickets`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TicketForm {
    /// The report (`application/json`): the manifest's `report`, the bundle's id and SHA-256, and
    /// the app's and the OS's versions.
    report: TicketRequest,
    /// The bundle (`application/zip`).
    #[schema(value_type = String, format = Binary)]
    bundle: Vec<u8>,
}

/// The `application/json` body of `POST /api/v1/tickets` when the bundle came as a resumable
/// upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadedTicketForm {
    /// The report, as in the multipart form's `report` part.
    report: TicketRequest,
    /// The finished upload's URL (its `Location`) or id.
    upload: String,
}

/// The tus protocol version every upload request names (`Tus-Resumable`).
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
pub enum TusVersion {
    #[serde(rename = "1.0.0")]
    V1,
}

/// `GET /api/v1/tickets`: the newest tickets first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TicketList {
    tickets: Vec<TicketRecord>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Call Support ticket API",
        description = "Receives support reports (a report and its bundle) from Call Support and serves them to support agents. Errors are RFC 9457 problem documents with a machine-readable `code`."
    ),
    paths(
        routes::create_ticket,
        routes::list_tickets,
        routes::get_ticket,
        routes::list_forwards,
        routes::get_bundle,
        routes::get_attachment,
        routes::create_link,
        routes::list_links,
        routes::link_key,
        routes::healthz,
        routes::openapi_json,
        crate::uploads::options_uploads,
        crate::uploads::create_upload,
        crate::uploads::head_upload,
        crate::uploads::patch_upload,
        crate::uploads::delete_upload
    ),
    components(schemas(TicketForm, UploadedTicketForm, TusVersion, TicketList, TicketRequest, TicketReceipt, TicketRecord, crate::store::AttachmentRecord, crate::store::Forward, routes::ForwardList, crate::store::LinkRecord, routes::NewLink, routes::LinkList, routes::LinkKeyView, Problem, Report, Category)),
    modifiers(&BearerTokens)
)]
pub struct ApiDoc;

/// The two bearer tokens: one to submit, one for agents.
struct BearerTokens;

impl Modify for BearerTokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in ["submit_token", "agent_token"] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}
