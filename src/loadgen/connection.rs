//! One keep-alive HTTP/1.1 connection: a hyper `client::conn::http1` pair (the
//! `SendRequest` handle and the connection future that does the I/O), and one request
//! sent and its response drained, under a deadline.
//!
//! The connection future is polled inline by the task that sends, instead of being
//! spawned as its own task (hyper's usual pattern): when the response arrives, the same
//! poll that reads it also completes the request, saving a task wake-up per request, and
//! dropping a [`Connection`] closes the socket at once — which is what a timed-out or
//! abandoned request needs.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::errors::ErrorKind;

type Driver = http1::Connection<TokioIo<TcpStream>, Empty<Bytes>>;

/// A connected keep-alive connection.
pub struct Connection {
    sender: http1::SendRequest<Empty<Bytes>>,
    /// Does the reading and writing; boxed once per connection because it is not `Unpin`
    /// and outlives each request.
    driver: Pin<Box<Driver>>,
    /// The driver returned (the connection ended); it must not be polled again.
    driver_done: bool,
    /// How many requests this connection has carried.
    pub requests_sent: u64,
}

/// A complete response.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    pub status: u16,
    pub body_bytes: u64,
    /// When the request was handed to the connection.
    pub sent_at: Instant,
}

impl Connection {
    /// Opens a TCP connection with `TCP_NODELAY` (a small request must not wait for
    /// Nagle's algorithm) and sets up HTTP/1.1 on it.
    pub async fn open(addr: SocketAddr) -> Result<Connection, ErrorKind> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|err| ErrorKind::from_io(&err))?;
        stream
            .set_nodelay(true)
            .map_err(|err| ErrorKind::from_io(&err))?;
        let (sender, driver) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|err| ErrorKind::from_hyper(&err))?;
        Ok(Connection {
            sender,
            driver: Box::pin(driver),
            driver_done: false,
            requests_sent: 0,
        })
    }

    /// Waits until the connection can take a request. Fails when the server closed it
    /// (e.g. a keep-alive connection it dropped while idle).
    pub async fn ready(&mut self) -> Result<(), ErrorKind> {
        let Connection {
            sender,
            driver,
            driver_done,
            ..
        } = self;
        drive(driver, driver_done, sender.ready())
            .await
            .map_err(|err| ErrorKind::from_hyper(&err))
    }

    /// Sends one request and reads the whole response body, counting its bytes.
    pub async fn exchange(
        &mut self,
        request: Request<Empty<Bytes>>,
    ) -> Result<Exchange, ErrorKind> {
        let Connection {
            sender,
            driver,
            driver_done,
            requests_sent,
        } = self;
        *requests_sent += 1;
        let sent_at = Instant::now();
        let response = async {
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            let mut body = response.into_body();
            let mut body_bytes = 0u64;
            while let Some(frame) = body.frame().await {
                if let Some(data) = frame?.data_ref() {
                    body_bytes += data.len() as u64;
                }
            }
            Ok::<_, hyper::Error>(Exchange {
                status,
                body_bytes,
                sent_at,
            })
        };
        drive(driver, driver_done, response)
            .await
            .map_err(|err| ErrorKind::from_hyper(&err))
    }
}

/// Runs `work` while polling the connection's driver, which does the I/O `work` waits on.
///
/// The driver is polled first: it reads the response and hands it over, and `work` is
/// ready in the same poll. When the driver ends (the connection closed or failed) it is
/// never polled again, and `work` then fails on its own (hyper fails every pending request
/// of a closed connection).
async fn drive<T>(
    driver: &mut Pin<Box<Driver>>,
    driver_done: &mut bool,
    work: impl Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            biased;
            _ = driver.as_mut(), if !*driver_done => *driver_done = true,
            output = &mut work => return output,
        }
    }
}
