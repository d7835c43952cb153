//! The client, the per-request layer and the scrubber, with the `sentry` feature.

use std::{
    borrow::Cow,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, OnceLock},
    task::{Context, Poll},
};

use axum::{
    extract::Request,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use pin_project_lite::pin_project;
use secrecy::ExposeSecret;
use sentry::{
    Client, ClientOptions, Hub,
    protocol::{Event, Level, Url, Value},
};
use sentry_tower::{SentryLayer, SentryService};
use tower::{Layer, Service};

use super::{FLUSH_TIMEOUT, mask_emails};
use crate::{config::CoreSettings, layers::REQUEST_ID_HEADER};

/// The client, from [`init`] until [`flush`] takes it.
static CLIENT: OnceLock<Mutex<Option<Arc<Client>>>> = OnceLock::new();

pub(super) fn init(settings: &CoreSettings, info: &utoipa::openapi::Info) {
    let Some(dsn) = &settings.sentry.dsn else {
        return;
    };
    CLIENT.get_or_init(|| {
        let Ok(dsn) = dsn.expose_secret().parse() else {
            // `config::load` refuses it; settings built by hand may still hold one.
            tracing::error!("sentry.dsn is not a valid DSN; errors are not reported");
            return Mutex::new(None);
        };
        let mut options =
            ClientOptions::new().sample_rate(settings.sentry.sample_rate.clamp(0.0, 1.0));
        options.dsn = Some(dsn);
        options.release = Some(settings.sentry.release_for(info).into());
        options.environment = Some(settings.sentry.environment_for(settings.profile).into());
        options.send_default_pii = false;
        options.before_send = Some(Arc::new(|event| Some(scrub(event))));
        // `sentry::apply_defaults` adds the default integrations (the panic hook, stack
        // traces, OS and runtime contexts) and the transport; the client is bound to the
        // main Hub, from which every request's Hub starts, whichever thread builds the
        // app (`sentry::init` binds the calling thread's Hub).
        let client = Arc::new(Client::from(sentry::apply_defaults(options)));
        Hub::main().bind_client(Some(client.clone()));
        tracing::info!(
            environment = %settings.sentry.environment_for(settings.profile),
            release = %settings.sentry.release_for(info),
            "reporting errors to Sentry"
        );
        Mutex::new(Some(client))
    });
}

pub(super) fn flush() {
    let Some(client) = CLIENT.get().and_then(|slot| slot.lock().ok()?.take()) else {
        return;
    };
    if !client.close(Some(FLUSH_TIMEOUT)) {
        tracing::warn!(
            timeout_secs = FLUSH_TIMEOUT.as_secs(),
            "Sentry events still queued were dropped"
        );
    }
    Hub::main().bind_client(None);
}

/// Gives each request a Hub of its own (sentry-tower's `SentryLayer`), started from the
/// main Hub, whose scope carries the request's id and context, and reports 5xx answers
/// that no event of the request (a panic) reported already. See the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLayer;

type HubForRequest = fn(&Request) -> Arc<Hub>;

fn request_hub(_: &Request) -> Arc<Hub> {
    Arc::new(Hub::new_from_top(Hub::main()))
}

impl<S> Layer<S> for RequestLayer {
    type Service = SentryService<RequestService<S>, HubForRequest, Arc<Hub>, Request>;

    fn layer(&self, inner: S) -> Self::Service {
        SentryLayer::new(request_hub as HubForRequest).layer(RequestService(inner))
    }
}

/// The service inside the request's Hub: sets the scope, reports 5xx.
#[derive(Clone, Debug)]
pub struct RequestService<S>(S);

/// The matched route, filled in by the router ([`record_route`]) for the report of a 5xx.
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<Box<str>>>);

impl<S, B> Service<Request> for RequestService<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ReportFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // `SentryService` calls this with the request's Hub current.
        let hub = Hub::current();
        let context = request_context(&request);
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|id| id.to_str().ok())
            .map(str::to_owned);
        hub.configure_scope(|scope| {
            if let Some(id) = &request_id {
                scope.set_tag("request_id", id);
            }
            scope.add_event_processor(move |mut event| {
                event.request.get_or_insert_with(|| context.clone());
                Some(event)
            });
        });
        let route = RouteSlot::default();
        request.extensions_mut().insert(route.clone());
        ReportFuture {
            method: request.method().to_string(),
            inner: self.0.call(request),
            hub,
            route,
        }
    }
}

pin_project! {
    /// The future of [`RequestService`].
    pub struct ReportFuture<F> {
        #[pin]
        inner: F,
        hub: Arc<Hub>,
        method: String,
        route: RouteSlot,
    }
}

impl<F, B, E> Future for ReportFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            let status = response.status();
            // A panic of this request was reported by the panic hook, in this Hub.
            if reported(status) && this.hub.last_event_id().is_none() {
                let route = this.route.0.get().map_or("<unknown>", |r| r);
                this.hub
                    .capture_event(server_error_event(this.method, route, status));
            }
        }
        Poll::Ready(result)
    }
}

/// 500–599 but 503 (see the module docs).
fn reported(status: StatusCode) -> bool {
    status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE
}

/// The event of a 5xx answer: grouped by method, route and status.
fn server_error_event(method: &str, route: &str, status: StatusCode) -> Event<'static> {
    let mut event = Event {
        level: Level::Error,
        message: Some(format!("{method} {route} answered {status}")),
        fingerprint: Cow::Owned(vec![
            "server-error".into(),
            method.to_owned().into(),
            route.to_owned().into(),
            status.as_str().to_owned().into(),
        ]),
        ..Event::default()
    };
    event.tags.insert("status".into(), status.as_str().into());
    event
}

/// Request headers an event may carry: none that can identify or authenticate anyone.
const SAFE_HEADERS: [header::HeaderName; 3] =
    [header::ACCEPT, header::CONTENT_LENGTH, header::CONTENT_TYPE];

/// The request as events show it: method, URL without query string, safe headers.
fn request_context(request: &Request) -> sentry::protocol::Request {
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
        })
        .unwrap_or("localhost");
    let url = Url::parse(&format!("http://{host}"))
        .ok()
        .and_then(|base| base.join(request.uri().path()).ok())
        .map(|mut url| {
            url.set_query(None);
            url
        });
    sentry::protocol::Request {
        url,
        method: Some(request.method().to_string()),
        headers: safe_headers(request.headers()),
        ..Default::default()
    }
}

fn safe_headers(headers: &HeaderMap) -> sentry::protocol::Map<String, String> {
    SAFE_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect()
}

pub(super) fn record_route(request: &Request, route: &str) {
    if let Some(slot) = request.extensions().get::<RouteSlot>() {
        let _ = slot.0.set(route.into());
        Hub::current().configure_scope(|scope| {
            scope.set_transaction(Some(route));
            scope.set_tag("route", route);
        });
    }
}

/// The client's `before_send`: removes from `event` what must never be sent, whoever
/// added it (see the module docs): request headers but [`SAFE_HEADERS`] (so
/// `Authorization`, `Cookie`, `Proxy-Authorization`), cookies, bodies, query strings and
/// the URL's query, fragment and credentials; a user's email, IP address, username and
/// other fields (an id stays); and email addresses in messages, exception values,
/// breadcrumbs, tags and extra values, masked.
pub fn scrub(mut event: Event<'static>) -> Event<'static> {
    if let Some(request) = &mut event.request {
        request.headers.retain(|name, _| {
            SAFE_HEADERS
                .iter()
                .any(|safe| name.eq_ignore_ascii_case(safe.as_str()))
        });
        request.cookies = None;
        request.data = None;
        request.query_string = None;
        request.env.clear();
        if let Some(url) = &mut request.url {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
    }
    if let Some(user) = &mut event.user {
        user.email = None;
        user.ip_address = None;
        user.username = None;
        user.other.clear();
    }
    mask_option(&mut event.message);
    if let Some(entry) = &mut event.logentry {
        mask(&mut entry.message);
        entry.params.iter_mut().for_each(mask_value);
    }
    for exception in &mut event.exception.values {
        mask_option(&mut exception.value);
    }
    for breadcrumb in &mut event.breadcrumbs.values {
        mask_option(&mut breadcrumb.message);
        breadcrumb.data.values_mut().for_each(mask_value);
    }
    event.tags.values_mut().for_each(mask);
    event.extra.values_mut().for_each(mask_value);
    event
}

fn mask(text: &mut String) {
    if let Cow::Owned(masked) = mask_emails(text) {
        *text = masked;
    }
}

fn mask_option(text: &mut Option<String>) {
    if let Some(text) = text {
        mask(text);
    }
}

fn mask_value(value: &mut Value) {
    match value {
        Value::String(text) => mask(text),
        Value::Array(values) => values.iter_mut().for_each(mask_value),
        Value::Object(map) => map.values_mut().for_each(mask_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use sentry::protocol::{Exception, User};

    use super::*;

    /// Whatever an integration or an app put in the event, the secrets and personal data
    /// named in the module docs are gone after `scrub`.
    #[test]
    fn scrub_removes_secrets_and_personal_data() {
        let mut event = Event {
            message: Some("lookup of alice@example.com failed".into()),
            request: Some(sentry::protocol::Request {
                url: Url::parse("http://user:pw@host/x?email=alice@example.com#frag").ok(),
                method: Some("POST".into()),
                data: Some(r#"{"password":"secret"}"#.into()),
                query_string: Some("email=alice@example.com".into()),
                cookies: Some("refresh=secret".into()),
                headers: [
                    ("Authorization", "Bearer secret"),
                    ("cookie", "refresh=secret"),
                    ("Proxy-Authorization", "Basic secret"),
                    ("Content-Type", "application/json"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
                ..Default::default()
            }),
            user: Some(User {
                id: Some("u1".into()),
                email: Some("alice@example.com".into()),
                ip_address: Some(sentry::protocol::IpAddress::Auto),
                username: Some("alice".into()),
                ..Default::default()
            }),
            ..Event::default()
        };
        event.exception.values.push(Exception {
            ty: "panic".into(),
            value: Some("no account for alice@example.com".into()),
            ..Default::default()
        });
        event
            .extra
            .insert("who".into(), Value::from("alice@example.com"));
        let event = scrub(event);
        let text = serde_json::to_string(&event).unwrap();
        for secret in [
            "secret", "Bearer", "alice@", "pw", "frag", "email=", "alice\"",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let request = event.request.unwrap();
        assert_eq!(request.url.unwrap().as_str(), "http://host/x");
        assert_eq!(request.headers.keys().collect::<Vec<_>>(), ["Content-Type"]);
        assert_eq!(event.user.unwrap().id.as_deref(), Some("u1"));
        assert_eq!(
            event.exception.values[0].value.as_deref(),
            Some("no account for a***@example.com")
        );
    }

    #[test]
    fn only_server_errors_but_503_are_reported() {
        for (status, expected) in [
            (200, false),
            (404, false),
            (499, false),
            (500, true),
            (502, true),
            (503, false),
            (504, true),
        ] {
            assert_eq!(
                reported(StatusCode::from_u16(status).unwrap()),
                expected,
                "{status}"
            );
        }
    }
}
