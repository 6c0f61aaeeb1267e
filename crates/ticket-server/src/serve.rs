//! Connections accepted and served over HTTP/1.1, as `axum::serve` does, but with a deadline for
//! a request's head: a client that connects and sends its headers a byte at a time, or nothing,
//! is let go after [`crate::ServerConfig::header_read`] instead of holding a connection, a task
//! and a file descriptor for as long as it likes. A body that stops is ended by the body timeout
//! of [`crate::routes::router`]. On shutdown the listener closes, each connection finishes the
//! request it is in, and [`serve`] returns once all are done.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests under way finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    // Dropped to tell the connections to finish; its receivers dropped tell us they have.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before it was taken: wait
                    // a moment rather than spin, as axum::serve does.
                    tracing::debug!("cannot accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            request
        });
        let (mut stop_rx, done_rx) = (stop_rx.clone(), done_rx.clone());
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read);
            let connection = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(peer = %peer, "connection ended: {err}");
                    }
                }
                _ = stop_rx.changed() => {
                    connection.as_mut().graceful_shutdown();
                    if let Err(err) = connection.await {
                        tracing::debug!(peer = %peer, "connection ended: {err}");
                    }
                }
            }
            drop(done_rx);
        });
    }
    drop(listener);
    drop(stop_tx);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}
