//! A listener whose connections fail a write that stays blocked too long.

use std::{io, pin::Pin, time::Duration};

use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;

/// Wraps a [`TcpListener`] for `axum::serve`: a write to a connection that stays blocked for
/// `timeout` (the client stopped reading and the socket buffers are full) fails, and the
/// connection closes.
///
/// The realtime endpoints drop a slow client's events and subscription by themselves, but
/// an SSE response whose socket is full is no longer polled by hyper, so only the transport
/// can close that socket. Idle connections are unaffected: only pending writes time out.
pub struct SlowClientListener {
    inner: TcpListener,
    timeout: Duration,
}

impl SlowClientListener {
    /// `listener` with a write timeout (use `realtime.slow_client_timeout`).
    pub fn new(listener: TcpListener, timeout: Duration) -> Self {
        Self {
            inner: listener,
            timeout,
        }
    }
}

impl axum::serve::Listener for SlowClientListener {
    type Io = Pin<Box<TimeoutStream<TcpStream>>>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(self.timeout));
        (Box::pin(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
