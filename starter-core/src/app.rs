//! The app builder: routers + middleware stack + health + lifespan hooks + graceful shutdown.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use starter_core::{App, config::{self, CoreSettings}};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let settings: CoreSettings = config::load()?;
//! starter_core::logging::init(&settings);
//! App::new(&settings)
//!     .merge(Router::new().route("/hello", get(|| async { "hi" })))
//!     .on_startup("warm cache", || async { Ok(()) })
//!     .on_shutdown("flush", || async {})
//!     .run() // until SIGINT/SIGTERM
//!     .await
//! # }
//! ```
//!
//! Lifespan:
//! 1. bind the listener (a port in use fails here, before anything else happens);
//! 2. run startup hooks in order; the first failure stops start-up with its error, after
//!    the shutdown hooks of components already started have run;
//! 3. serve; `/health/ready` turns 200 once every probe passes;
//! 4. on SIGINT/SIGTERM: stop accepting, let in-flight requests finish within
//!    `server.shutdown_grace` (requests still running then are answered 503 and their
//!    handlers dropped), then run shutdown hooks in reverse order.

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use anyhow::Context as _;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use futures_util::future::BoxFuture;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::Layer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    config::CoreSettings,
    docs::{self, OpenApiRouter},
    error::not_found_fallback,
    health::{Health, Probe},
    layers, metrics,
};

/// Something with a lifespan: started before serving, stopped after, optionally probed.
///
/// `starter_mongo::Mongo` is one: it connects at startup, closes at shutdown and pings
/// in `/health`.
pub trait Component: Send + Sync + 'static {
    /// Used in logs and error messages.
    fn name(&self) -> &str;
    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    fn probe(&self) -> Option<Arc<dyn Probe>> {
        None
    }
    /// Called once the server has stopped accepting connections, before it waits for the
    /// requests in flight: a component that holds long-lived responses open (event
    /// streams, WebSockets) ends them here, so that they do not hold the shutdown for the
    /// whole grace period. `shutdown` still follows.
    fn drain(&self) {}
}

type StartupFn = Box<dyn FnOnce() -> BoxFuture<'static, anyhow::Result<()>> + Send>;
type ShutdownFn = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

enum Step {
    Hook {
        name: String,
        startup: Option<StartupFn>,
        shutdown: Option<ShutdownFn>,
    },
    Component(Arc<dyn Component>),
}

/// Builds and runs an HTTP service. See the module docs for the lifespan.
pub struct App {
    settings: CoreSettings,
    router: Router,
    openapi: utoipa::openapi::OpenApi,
    versions: Vec<docs::DocVersion>,
    steps: Vec<Step>,
    probes: Vec<Arc<dyn Probe>>,
    /// The Prometheus recorder's handle, when `metrics.enabled`.
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl App {
    /// An app with no routes yet. With `metrics.enabled`, installs the process's metrics
    /// recorder ([`metrics::install`]), so that what other crates record from now on is
    /// served at `/metrics`.
    pub fn new(settings: &CoreSettings) -> Self {
        let metrics = if settings.metrics.enabled {
            metrics::install(&settings.metrics)
        } else {
            None
        };
        Self {
            settings: settings.clone(),
            router: Router::new(),
            openapi: utoipa::openapi::OpenApiBuilder::new()
                .info(
                    utoipa::openapi::InfoBuilder::new()
                        .title("API")
                        .version("0.1.0")
                        .build(),
                )
                .build(),
            versions: Vec::new(),
            steps: Vec::new(),
            probes: Vec::new(),
            metrics,
        }
    }

    /// Adds routes. Give the router its state first (`.with_state(state)`).
    pub fn merge(mut self, router: Router) -> Self {
        self.router = self.router.merge(router);
        self
    }

    /// Adds routes under a prefix (`/api`).
    pub fn nest(mut self, path: &str, router: Router) -> Self {
        self.router = self.router.nest(path, router);
        self
    }

    /// Adds documented routes: each handler's `#[utoipa::path]` joins the OpenAPI document
    /// (see [`docs`]). Give the router its state first.
    pub fn api(mut self, router: OpenApiRouter) -> Self {
        let (router, doc) = router.split_for_parts();
        self.router = self.router.merge(router);
        self.openapi.merge(doc);
        self
    }

    /// [`api`](Self::api) for one version of the API (`"v1"`, with its routes under
    /// `/api/v1`): its operations join the whole document and are also served alone at
    /// `/openapi/{name}.json`, which `/docs` offers in its selector.
    pub fn api_version(mut self, name: &str, router: OpenApiRouter) -> Self {
        let (router, doc) = router.split_for_parts();
        self.router = self.router.merge(router);
        self.openapi.merge(doc.clone());
        // Only its paths are kept here; `version_documents` adds the info, tags and
        // components of the whole document when the app is built, whatever the call order.
        self.versions.push(docs::DocVersion {
            name: name.to_owned(),
            doc,
        });
        self
    }

    /// Merges `doc` into the document: its `info` (title, version, description) replaces
    /// the default, and its tags, components and security schemes are added.
    pub fn openapi(mut self, doc: utoipa::openapi::OpenApi) -> Self {
        let info = doc.info.clone();
        self.openapi.merge(doc);
        self.openapi.info = info;
        self
    }

    /// The document as `/openapi.json` serves it (health routes and [`docs::finish`]
    /// included).
    pub fn openapi_document(&self) -> utoipa::openapi::OpenApi {
        let mut doc = self.openapi.clone();
        doc.merge(Health::default().api().into_openapi());
        docs::finish(doc)
    }

    /// Routes the router serves that the document lacks, and the other way round. Each
    /// example and the generated service test that this is empty. The routes the app adds
    /// besides the API (`/docs`, `/openapi.json`, `/metrics`) are not compared.
    pub fn undocumented_routes(&self) -> docs::RouteMismatch {
        let router = self.router.clone().merge(Health::default().router());
        docs::compare(&router, &self.openapi_document())
    }

    /// Each version's document: the whole document's info, tags and components, with only
    /// that version's paths.
    fn version_documents(&self) -> Vec<docs::DocVersion> {
        self.versions
            .iter()
            .map(|version| {
                let mut doc = self.openapi.clone();
                doc.paths = version.doc.paths.clone();
                doc.info.version = version.name.clone();
                // Only the tags this version's operations use.
                let used = docs::documented_tags(&doc);
                if let Some(tags) = doc.tags.as_mut() {
                    tags.retain(|tag| used.contains(&tag.name));
                }
                docs::DocVersion {
                    name: version.name.clone(),
                    doc: docs::finish(doc),
                }
            })
            .collect()
    }

    /// Registers a component: its startup runs in registration order with the other hooks,
    /// its shutdown in reverse order, and its probe joins `/health`.
    pub fn component(mut self, component: impl Component) -> Self {
        let component: Arc<dyn Component> = Arc::new(component);
        if let Some(probe) = component.probe() {
            self.probes.push(probe);
        }
        self.steps.push(Step::Component(component));
        self
    }

    /// Runs `hook` before the listener accepts anything. An error stops start-up.
    pub fn on_startup<F, Fut>(mut self, name: &str, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.steps.push(Step::Hook {
            name: name.to_owned(),
            startup: Some(Box::new(move || Box::pin(hook()))),
            shutdown: None,
        });
        self
    }

    /// Runs `hook` after in-flight requests have finished (or the grace period is over).
    pub fn on_shutdown<F, Fut>(mut self, name: &str, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.steps.push(Step::Hook {
            name: name.to_owned(),
            startup: None,
            shutdown: Some(Box::new(move || Box::pin(hook()))),
        });
        self
    }

    /// Adds a health probe to `/health` and `/health/ready`.
    pub fn probe(mut self, probe: impl Probe) -> Self {
        self.probes.push(Arc::new(probe));
        self
    }

    /// The complete router (routes, health, fallback, middleware) without running any hook.
    /// Useful with `tower::ServiceExt::oneshot` in tests; `/health/ready` stays 503 until
    /// `health.set_started(true)`.
    pub fn into_router(self) -> (Router, Health, Lifespan) {
        let (service, health, lifespan) =
            self.build(CancellationToken::new(), Arc::new(AtomicBool::new(false)));
        (Router::new().fallback_service(service), health, lifespan)
    }

    /// `into_router`, plus (for `serve`) a switch that ends every in-flight request and
    /// one that makes every response close its connection ([`ServerSettings::drain`]).
    ///
    /// [`ServerSettings::drain`]: crate::config::ServerSettings::drain
    fn build(
        self,
        cut: CancellationToken,
        draining: Arc<AtomicBool>,
    ) -> (
        impl tower::Service<
            axum::extract::Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static,
        Health,
        Lifespan,
    ) {
        let docs = self
            .settings
            .docs
            .enabled_for(self.settings.profile)
            .then(|| docs::router(self.openapi_document(), self.version_documents()));
        let health = Health::new(self.probes);
        let mut router = self.router.merge(health.router());
        if let Some(docs) = docs {
            router = router.merge(docs);
        }
        if let Some(handle) = &self.metrics {
            metrics::record_build_info(&self.openapi.info.version);
            if self.settings.metrics.port.is_none() {
                router = router.merge(metrics::router(&self.settings.metrics.path, handle.clone()));
            }
        }
        let router = router.fallback(not_found_fallback);
        // Before the stack, whose Sentry layer starts each request's Hub from the client's.
        crate::sentry::init(&self.settings, &self.openapi.info);
        let router = layers::stack(router, &self.settings, cut);
        // While draining, every response closes its connection, so that clients (a proxy)
        // close them rather than the server closing idle ones under a request in flight.
        // Not an upgrade (a WebSocket handshake needs `Connection: upgrade`).
        let router = SetResponseHeaderLayer::overriding(
            header::CONNECTION,
            move |response: &axum::response::Response| {
                (draining.load(Ordering::Relaxed)
                    && response.status() != StatusCode::SWITCHING_PROTOCOLS)
                    .then(|| HeaderValue::from_static("close"))
            },
        )
        .layer(router);
        let lifespan = Lifespan {
            steps: self.steps,
            started: 0,
            grace: self.settings.server.shutdown_grace,
            send_timeout: self.settings.server.send_timeout,
            drain: self.settings.server.drain,
        };
        (router, health, lifespan)
    }

    /// Binds `server.host:server.port` and serves until SIGINT or SIGTERM, then writes out
    /// the queued log lines ([`crate::logging::flush`]).
    pub async fn run(self) -> anyhow::Result<()> {
        let addr = SocketAddr::new(self.settings.server.host, self.settings.server.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (set APP_SERVER__PORT)"))?;
        let result = self.serve(listener, shutdown_signal()).await;
        if result.is_ok() {
            crate::logging::flush();
        }
        result
    }

    /// Serves on `listener` until `shutdown` completes. `run` calls this with the signals.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Metrics on their own port: bound before anything starts, as the main listener.
        let metrics_server = match (&self.metrics, self.settings.metrics.port) {
            (Some(handle), Some(port)) => {
                let addr = SocketAddr::new(self.settings.server.host, port);
                let listener = TcpListener::bind(addr).await.with_context(|| {
                    format!("cannot listen on {addr} for metrics (set APP_METRICS__PORT)")
                })?;
                Some((
                    listener,
                    metrics::router(&self.settings.metrics.path, handle.clone()),
                ))
            }
            _ => None,
        };
        let _upkeep = self
            .metrics
            .clone()
            .map(|handle| AbortOnDrop(tokio::spawn(metrics::upkeep(handle))));
        let cut = CancellationToken::new();
        let draining = Arc::new(AtomicBool::new(false));
        let (router, health, mut lifespan) = self.build(cut.clone(), draining.clone());
        let local = listener.local_addr()?;

        // Startup hooks; a signal during a slow startup (say, waiting for the database)
        // stops promptly instead of waiting for the retries to run out.
        let mut shutdown = Box::pin(shutdown);
        let started = tokio::select! {
            result = lifespan.startup() => result,
            () = &mut shutdown => {
                tracing::info!("signal received during startup; stopping");
                lifespan.shutdown().await;
                return Ok(());
            }
        };
        if let Err(err) = started {
            lifespan.shutdown().await;
            return Err(err);
        }
        health.set_started(true);

        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let (close_tx, close_rx) = tokio::sync::watch::channel(false);
        let connections = TaskTracker::new();
        // (`tap_io` with nothing to do: axum provides `ConnectInfo<SocketAddr>` for its
        // `TapIo` over any listener, not for a listener of ours.)
        let listener = axum::serve::ListenerExt::tap_io(
            DrainingListener {
                inner: Some(SendTimeoutListener::new(listener, lifespan.send_timeout)),
                close: close_rx,
                connections: connections.clone(),
            },
            |_| {},
        );
        let server = axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(router),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        });
        let mut server = tokio::spawn(async move { server.await });
        tracing::info!(addr = %local, "listening on http://{local}");
        let _metrics_server = metrics_server.map(|(listener, router)| {
            let addr = listener.local_addr().ok();
            tracing::info!(addr = ?addr, "serving metrics on their own port");
            let mut stop = stop_tx.subscribe();
            // Scrapes are short: it stops with the main server's signal, without a grace.
            AbortOnDrop(tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|stop| *stop).await;
                    })
                    .await;
                if let Err(err) = served {
                    tracing::error!(error = %err, "metrics server failed");
                }
            }))
        });

        tokio::select! {
            () = &mut shutdown => {}
            result = &mut server => {
                // The server only ends by itself on an accept error.
                lifespan.shutdown().await;
                return result.context("server task failed")?.context("server failed");
            }
        }

        health.set_started(false);
        lifespan.drain();
        if !lifespan.drain.is_zero() {
            tracing::info!(
                drain_secs = lifespan.drain.as_secs_f64(),
                open = connections.len(),
                "draining: new connections refused; open ones close after their next response"
            );
            draining.store(true, Ordering::Relaxed);
            let _ = close_tx.send(true);
            connections.close();
            match tokio::time::timeout(lifespan.drain, connections.wait()).await {
                Ok(()) => tracing::info!("drained: every connection was closed by its client"),
                Err(_) => tracing::info!(
                    open = connections.len(),
                    "drain period over; closing the connections left"
                ),
            }
        }
        let grace = lifespan.grace;
        tracing::info!(
            grace_secs = grace.as_secs_f64(),
            "shutting down: no new connections; waiting for in-flight requests"
        );
        let _ = stop_tx.send(true);
        match tokio::time::timeout(grace, &mut server).await {
            Ok(Ok(Ok(()))) => tracing::info!("all requests finished"),
            Ok(Ok(Err(err))) => tracing::error!(error = %err, "server error while draining"),
            Ok(Err(err)) => tracing::error!(error = %err, "server task failed while draining"),
            Err(_) => {
                tracing::warn!("grace period over; cutting the remaining requests");
                // Drop the handlers still running (so none of them outlives the shutdown
                // hooks) and answer 503; then the connections can close.
                cut.cancel();
                if tokio::time::timeout(CUT_FLUSH, &mut server).await.is_err() {
                    server.abort();
                }
            }
        }
        lifespan.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// A background task that ends with its owner (the metrics listener and upkeep of
/// [`App::serve`]).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// After the grace period, how long the 503s of cut requests get to reach their clients.
const CUT_FLUSH: Duration = Duration::from_secs(1);

/// The listener of [`App::serve`]: a write that stays blocked for `server.send_timeout`
/// fails, which closes the connection (`tokio-io-timeout`; hyper has no write timeout).
/// Without it, a client that stops reading a streamed response (an event stream, a
/// download) keeps its socket, and the kernel's buffers, for as long as the OS lets it.
/// Idle connections are unaffected: only pending writes time out.
pub struct SendTimeoutListener {
    inner: TcpListener,
    timeout: Duration,
}

impl SendTimeoutListener {
    /// `listener` whose connections' blocked writes fail after `timeout`.
    pub fn new(listener: TcpListener, timeout: Duration) -> Self {
        Self {
            inner: listener,
            timeout,
        }
    }
}

impl axum::serve::Listener for SendTimeoutListener {
    type Io = std::pin::Pin<Box<tokio_io_timeout::TimeoutStream<tokio::net::TcpStream>>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(self.timeout));
        (Box::pin(stream), addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The listener [`App::serve`] serves: a [`SendTimeoutListener`] that closes its socket
/// when `close` turns true (so that new connections are refused while the open ones
/// drain), and whose connections each hold a token of `connections` until they end.
struct DrainingListener {
    inner: Option<SendTimeoutListener>,
    close: tokio::sync::watch::Receiver<bool>,
    connections: TaskTracker,
}

impl axum::serve::Listener for DrainingListener {
    type Io = Tracked<<SendTimeoutListener as axum::serve::Listener>::Io>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        if let Some(inner) = &mut self.inner {
            tokio::select! {
                (io, addr) = inner.accept() => {
                    let token = self.connections.token();
                    return (Tracked { io, _token: token }, addr);
                }
                _ = self.close.wait_for(|close| *close) => {}
            }
        }
        // Dropping the socket refuses new connections; axum stops calling `accept` once
        // its graceful shutdown starts.
        self.inner = None;
        std::future::pending().await
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        match &self.inner {
            Some(inner) => inner.local_addr(),
            None => Err(std::io::Error::other("the listener is closed (draining)")),
        }
    }
}

/// A connection counted in [`DrainingListener`]'s tracker while it is open. (A wrapper
/// rather than a `tap_io` callback: the count must drop when the connection does.)
struct Tracked<Io> {
    io: Io,
    _token: tokio_util::task::task_tracker::TaskTrackerToken,
}

impl<Io: AsyncRead + Unpin> AsyncRead for Tracked<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Tracked<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Startup and shutdown hooks, in the order they were registered.
pub struct Lifespan {
    steps: Vec<Step>,
    /// How many steps (from the front) have started.
    started: usize,
    grace: Duration,
    send_timeout: Duration,
    drain: Duration,
}

impl Lifespan {
    /// Runs the startup side of every step, stopping at the first error.
    pub async fn startup(&mut self) -> anyhow::Result<()> {
        for (index, step) in self.steps.iter_mut().enumerate() {
            let result = match step {
                Step::Hook { name, startup, .. } => match startup.take() {
                    Some(hook) => {
                        tracing::debug!(hook = %name, "startup hook");
                        hook()
                            .await
                            .with_context(|| format!("startup hook `{name}` failed"))
                    }
                    None => Ok(()),
                },
                Step::Component(c) => {
                    tracing::debug!(component = c.name(), "starting");
                    c.startup()
                        .await
                        .with_context(|| format!("`{}` failed to start", c.name()))
                }
            };
            if let Err(err) = result {
                // Only what has started gets shut down.
                self.steps.truncate(index);
                return Err(err);
            }
            self.started = index + 1;
        }
        Ok(())
    }

    /// Tells every started component that the server is draining ([`Component::drain`]).
    pub fn drain(&self) {
        for step in &self.steps[..self.started] {
            if let Step::Component(c) = step {
                c.drain();
            }
        }
    }

    /// Runs the shutdown side of every step that has started, in reverse order, each bounded
    /// by the grace period so a stuck hook cannot keep the process alive.
    ///
    /// Steps after the last one started (start-up failed or was interrupted) are skipped.
    pub async fn shutdown(&mut self) {
        self.steps.truncate(self.started);
        self.started = 0;
        for step in std::mem::take(&mut self.steps).into_iter().rev() {
            let (name, fut): (String, BoxFuture<'static, ()>) = match step {
                Step::Hook {
                    name,
                    shutdown: Some(hook),
                    ..
                } => (name, hook()),
                Step::Component(c) => {
                    let name = c.name().to_owned();
                    (name, Box::pin(async move { c.shutdown().await }))
                }
                _ => continue,
            };
            if tokio::time::timeout(self.grace, fut).await.is_err() {
                tracing::warn!(hook = %name, "shutdown hook did not finish in time");
            }
        }
    }
}

/// Completes on SIGINT (Ctrl+C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Ends `main` with a clear one-line error and a failure exit code, never a backtrace
/// (anyhow prints one from `main() -> Result` when `RUST_BACKTRACE` is set).
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     starter_core::app::exit_code(run().await)
/// }
/// async fn run() -> anyhow::Result<()> {
///     Ok(())
/// }
/// ```
pub fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => {
            crate::logging::flush();
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            // `{:#}` joins the causes: "`mongo` failed to start: cannot reach MongoDB at …".
            tracing::error!(error = format!("{err:#}"), "stopped with an error");
            crate::logging::flush();
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    struct Named(&'static str, Arc<Mutex<Vec<String>>>);

    impl Component for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
            Box::pin(async move {
                self.1.lock().unwrap().push(format!("{}.start", self.0));
                Ok(())
            })
        }
        fn shutdown(&self) -> BoxFuture<'_, ()> {
            Box::pin(async move { self.1.lock().unwrap().push(format!("{}.stop", self.0)) })
        }
    }

    fn lifespan(log: &Arc<Mutex<Vec<String>>>) -> Lifespan {
        let (_, _, lifespan) = App::new(&CoreSettings::default())
            .component(Named("a", log.clone()))
            .on_startup("fails", || async { anyhow::bail!("nope") })
            .component(Named("b", log.clone()))
            .into_router();
        lifespan
    }

    #[tokio::test]
    async fn shutdown_without_startup_stops_nothing() {
        let log = Arc::new(Mutex::new(Vec::new()));
        lifespan(&log).shutdown().await;
        assert!(log.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn shutdown_after_a_failed_startup_stops_what_started_once() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lifespan = lifespan(&log);
        let err = lifespan.startup().await.unwrap_err();
        assert_eq!(err.to_string(), "startup hook `fails` failed");
        lifespan.shutdown().await;
        lifespan.shutdown().await;
        assert_eq!(*log.lock().unwrap(), ["a.start", "a.stop"]);
    }
}
