//! `callsupport-ticket-server`: the reference ticket API as a program.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// The reference ticket API for Call Support: receives reports, keeps each bundle byte for byte and
/// the tickets in SQLite, and serves them to support agents.
#[derive(Parser)]
#[command(name = "callsupport-ticket-server", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder for the database and the bundles; created if missing.
    #[arg(long)]
    data: PathBuf,
    /// Bearer token clients must send to submit reports (or set CALLSUPPORT_SERVER_TOKEN).
    #[arg(long, env = "CALLSUPPORT_SERVER_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Bearer token for the agent endpoints (or set CALLSUPPORT_AGENT_TOKEN); without it they are off.
    #[arg(long, env = "CALLSUPPORT_AGENT_TOKEN", hide_env_values = true)]
    agent_token: Option<String>,
    /// Largest bundle accepted, in MiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    max_bundle_mb: u64,
    /// Base URL for the ticket links handed out, when clients reach the server under another name.
    #[arg(long)]
    public_url: Option<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if args.token.is_none() && !args.listen.ip().is_loopback() {
        eprintln!(
            "error: --token is required when listening on a non-loopback address ({})",
            args.listen
        );
        std::process::exit(2);
    }
    if args.token.as_ref().is_some_and(|t| t.trim().is_empty()) {
        eprintln!("error: --token is empty; pass a non-empty token or leave it out on loopback");
        std::process::exit(2);
    }
    let config = callsupport_ticket_server::ServerConfig {
        listen: args.listen,
        data_dir: args.data,
        submit_token: args.token,
        agent_token: args.agent_token,
        max_bundle_bytes: args.max_bundle_mb << 20,
        public_url: args.public_url,
    };
    let server = match callsupport_ticket_server::start(config).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    };
    println!("listening on http://{}", server.addr());
    let addr = server.addr();
    tokio::select! {
        result = server.wait() => {
            if let Err(err) = result {
                eprintln!("error: server on {addr} stopped: {err}");
                std::process::exit(1);
            }
        }
        _ = shutdown_signal() => {}
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
