//! `SendTimeoutListener` (what `App::serve` listens with): a client that stops reading an
//! endless response has its connection closed once the server's writes stay blocked for
//! the timeout.

use std::time::Duration;

use starter_core::app::SendTimeoutListener;
use tokio::{io::AsyncWriteExt, net::TcpListener};

/// Polls `check` every 20 ms, for at most 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not within 10 s: {what}");
}

#[tokio::test]
async fn a_connection_whose_writes_stay_blocked_is_closed() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    /// Set when the response body is dropped, i.e. when the server let go of the connection.
    struct Dropped(Arc<AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    // An endless body, like an SSE response that hyper stopped polling.
    let app = axum::Router::new().route(
        "/flood",
        axum::routing::get(move || {
            let guard = Dropped(flag.clone());
            async move {
                let chunks = futures_util::stream::repeat_with(move || {
                    let _ = &guard;
                    Ok::<_, std::convert::Infallible>(bytes::Bytes::from(vec![b'z'; 64 * 1024]))
                });
                axum::body::Body::from_stream(chunks)
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = SendTimeoutListener::new(listener, Duration::from_millis(300));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(b"GET /flood HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    // The client never reads: once the buffers are full, the server's write blocks and
    // times out, and the connection (with its body) is dropped.
    eventually("the blocked connection is dropped", || async {
        dropped.load(Ordering::SeqCst)
    })
    .await;
    drop(stream);
    server.abort();
}
