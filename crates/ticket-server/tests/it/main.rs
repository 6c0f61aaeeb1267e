//! Integration tests of the reference ticket server: one binary, one module an area.
//!
//! Each test starts the real server in-process on `127.0.0.1:0` with its own temporary data folder,
//! builds real bundles with `callsupport-desk`, and talks plain HTTP to it with `reqwest`.

mod ado_standin; // a stand-in for Azure DevOps from the REST reference, recording every request
mod agent; // GET /api/v1/tickets[/{id}[/bundle]]: agent token, 401 without it, 403 when turned off
mod blobs; // bundles in Azure Blob Storage: the container, signed links for agents, streaming
mod crash; // the server killed, or its stores failing, between the steps of storing a report: nothing lost, nothing left over
mod flags; // the command line: forwarding without a usable token, a blob store it cannot use
mod forward; // forwarding to Azure DevOps: attached, chunked, linked, rate limited, refused, down
mod health; // GET /healthz and the OpenAPI document
mod hostile; // issue 21: padded manifests, bundles that unpack too far, clients that hog what all share
mod links; // links from support: made by agents, signed, expiring, used a bounded number of times
mod load; // the server process under 50 concurrent 20 MiB uploads: memory does not follow the data
mod postgres; // tickets in PostgreSQL; two instances on one database and one blob store
mod store; // restart on the same data folder: tickets kept, numbering goes on, incoming/ cleared
mod submit; // POST /api/v1/tickets: 201/200 idempotency, and every refusal as a problem document
mod support; // shared fixtures: server, bundles written by the format's own writer, multipart requests, problem checks
mod uploads; // tus 1.0 at /api/v1/uploads: chunks, a cut connection resumed, every refusal
