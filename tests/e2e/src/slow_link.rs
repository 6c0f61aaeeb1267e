//! A slow uplink: a TCP relay on loopback that passes the app's bytes to the ticket server at a
//! fixed rate (answers go back at full speed), so an upload lasts long enough to be cancelled.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The relay; it stops when dropped.
pub struct SlowLink {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for SlowLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SlowLink {
    /// Relays to `target`, uploads at `bytes_per_second`.
    pub async fn start(target: SocketAddr, bytes_per_second: usize) -> anyhow::Result<SlowLink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, target, bytes_per_second));
            }
        });
        Ok(SlowLink { addr, task })
    }
}

async fn relay(client: TcpStream, target: SocketAddr, bytes_per_second: usize) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    // Ten slices a second, each at most a tenth of the rate.
    let slice = (bytes_per_second / 10).max(1);
    let up = async move {
        let mut buffer = vec![0; slice];
        loop {
            match from_client.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to_server.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        let _ = to_server.shutdown().await;
    };
    let down = async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(up, down);
}
