//! The connection loop of `sahih serve`: HTTP/1.1 connections with a header-read timeout (which
//! also closes idle keep-alive connections), a deadline and an idle limit on request bodies,
//! and graceful shutdown. `axum::serve` has none of these timeouts, so a slow client could hold
//! a connection open indefinitely (security finding 9).
//!
//! Owns: accepting, per-connection settings, body deadlines. Must not know: routes.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

/// How long a connection may take to send a request's headers, and stay idle between requests.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// The request's headers must arrive within this; also the longest idle time between requests.
    pub header: Duration,
    /// The whole body must arrive within this of the request's start.
    pub body: Duration,
    /// Longest pause between two parts of a body.
    pub body_idle: Duration,
}

/// How long shutdown waits for requests in flight (signatures included) before it stops anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(300);

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn_with_state(
        timeouts,
        limit_body_time,
    ));
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(router) = make_service.call(peer).await;
        let service = hyper_util::service::TowerToHyperService::new(router);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is not the server's error.
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
    Ok(())
}

/// Wraps every request body so that reading it fails once the deadline passes or the client
/// pauses too long; the handler's extractor then answers with an error and the connection ends.
async fn limit_body_time(
    axum::extract::State(timeouts): axum::extract::State<Timeouts>,
    req: Request,
    next: Next,
) -> Response {
    // Most requests (GETs) have no body: nothing to time, no timers to set up.
    if http_body::Body::is_end_stream(req.body()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = Body::new(TimedBody::new(body, timeouts));
    next.run(Request::from_parts(parts, body)).await
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("request body not received in time")]
pub struct BodyTimeout;

struct TimedBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    idle: Pin<Box<Sleep>>,
    idle_after: Duration,
}

impl TimedBody {
    fn new(inner: Body, t: Timeouts) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(t.body)),
            idle: Box::pin(tokio::time::sleep(t.body_idle)),
            idle_after: t.body_idle,
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next_idle = Instant::now() + this.idle_after;
                this.idle.as_mut().reset(next_idle);
                Poll::Ready(frame)
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready()
                    || this.idle.as_mut().poll(cx).is_ready()
                {
                    Poll::Ready(Some(Err(axum::Error::new(BodyTimeout))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
