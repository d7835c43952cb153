//! Rate limiting of the auth endpoints, keyed by client IP, and of failed logins per
//! account. Quotas are counted in a store shared by all instances ([`SharedLimits`]; Redis
//! with the `redis` feature) when the app has one, with governor's in-process limiter as
//! the fallback while that store does not answer ([`Limits`]).
//!
//! The client IP is the TCP peer, unless the peer is one of `auth.trusted_proxies`: only
//! then is `X-Forwarded-For` read, right to left, skipping trusted hops, and the first
//! untrusted address is the client. Anyone can write `X-Forwarded-For`; only a proxy you
//! run appends a true entry to it, and it appends on the right. An IPv6 client is keyed
//! by its `auth.rate_limit.ipv6_prefix` (/64 by default): one subscriber usually holds a
//! whole /64 and could otherwise take a fresh quota per address.
//!
//! A request with `X-Forwarded-For` (or `Forwarded`, `X-Real-IP`) from a loopback or
//! private-range peer that is not in `auth.trusted_proxies` looks like a reverse proxy
//! nobody told the app about: every client behind it would share the proxy's quota. The
//! first such request logs one warning naming `auth.trusted_proxies` (once per router,
//! so once per process for an app that mounts it once); later ones log nothing.
//!
//! [`FailureLimiter`] counts failed logins per account, whatever the address.

use std::{
    collections::HashMap,
    fmt,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, Response},
    response::IntoResponse,
};
use futures_util::future::BoxFuture;
use governor::{DefaultKeyedRateLimiter, RateLimiter, clock::Clock};
use ipnet::IpNet;
use starter_core::ApiError;

use crate::settings::Quota;

/// The client IP of a request, trusting `X-Forwarded-For` only from `trusted` peers.
#[derive(Debug, Clone)]
pub struct ClientIp {
    trusted: Arc<[IpNet]>,
    ipv6_prefix: u8,
    /// Whether the untrusted-proxy warning was logged (shared by every clone).
    warned: Arc<AtomicBool>,
}

impl ClientIp {
    /// IPv6 clients keyed by /64 unless [`ClientIp::with_ipv6_prefix`] says otherwise.
    pub fn new(trusted_proxies: &[IpNet]) -> Self {
        Self {
            trusted: trusted_proxies.into(),
            ipv6_prefix: 64,
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Keys IPv6 clients by their first `bits` bits (clamped to 0..=128).
    pub fn with_ipv6_prefix(mut self, bits: u8) -> Self {
        self.ipv6_prefix = bits.min(128);
        self
    }

    /// The rate-limit key of a client address: IPv4 as is, IPv6 cut to the prefix.
    pub fn key(&self, client: IpAddr) -> IpAddr {
        match client {
            IpAddr::V4(_) => client,
            IpAddr::V6(v6) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.ipv6_prefix))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client address for a request from `peer` with these headers.
    pub fn resolve(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            if is_private_range(peer) && FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h))
            {
                self.warn_untrusted_proxy(peer);
            }
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An unreadable entry ends the chain: what lies left of it cannot be trusted.
            let Some(ip) = parse_hop(hop) else { break };
            client = ip.to_canonical();
            if !self.is_trusted(client) {
                break;
            }
        }
        client
    }

    /// Logs, the first time only, that `peer` forwards requests but is not trusted.
    fn warn_untrusted_proxy(&self, peer: IpAddr) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                %peer,
                "requests arrive with X-Forwarded-For through a private-range peer that is not in auth.trusted_proxies: \
                 its forwarded client addresses are ignored, so every client behind it shares one rate limit. \
                 If it is your reverse proxy, add it to auth.trusted_proxies (APP_AUTH__TRUSTED_PROXIES); \
                 this warning is logged once"
            );
        }
    }
}

/// Headers a reverse proxy adds to say whom it forwards for.
const FORWARDING_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// Loopback, RFC 1918, shared (100.64/10), link-local and IPv6 unique-local addresses:
/// where a reverse proxy in front of the app usually connects from.
fn is_private_range(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (a == 100 && (b & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// One `X-Forwarded-For` entry: `ip`, `ip:port` (IPv4), `[v6]` or `[v6]:port`. Some
/// proxies append the client's port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    // `[v6]` without a port.
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<std::net::Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// Failed logins per account (the key is the normalised email, whether or not an account
/// has it, so the answer tells nothing about existence): a token bucket per key that
/// only failures drain. Checking does not drain it, so a client that stays under the
/// quota is never limited by its successes.
pub struct FailureLimiter {
    burst: f64,
    /// Seconds for one failure to be forgiven.
    replenish: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Above this many tracked keys, the full buckets are dropped before adding one.
const FAILURE_KEYS_SOFT_CAP: usize = 10_000;

impl FailureLimiter {
    pub fn new(quota: Quota) -> Self {
        Self {
            burst: f64::from(quota.burst.max(1)),
            replenish: quota.replenish_secs.as_secs_f64().max(f64::MIN_POSITIVE),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let earned = now.duration_since(bucket.at).as_secs_f64() / self.replenish;
        (bucket.tokens + earned).min(self.burst)
    }

    /// `Err(wait)` while `key` has no failure left: the wait until it has one.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bucket) = buckets.get(key) else {
            return Ok(());
        };
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) * self.replenish))
        }
    }

    /// Records a failed login for `key`.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= FAILURE_KEYS_SOFT_CAP && !buckets.contains_key(key) {
            buckets.retain(|_, b| self.refilled(*b, now) < self.burst);
        }
        let tokens = buckets
            .get(key)
            .map_or(self.burst, |b| self.refilled(*b, now));
        buckets.insert(
            key.to_owned(),
            Bucket {
                tokens: (tokens - 1.0).max(0.0),
                at: now,
            },
        );
    }

    /// Forgets the keys that are back to a full bucket.
    pub fn retain_recent(&self) {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets.retain(|_, b| self.refilled(*b, now) < self.burst);
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a quota check does to its key's bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Takes one request's worth if the quota has it, else refuses (per-IP quotas).
    Take,
    /// Only looks whether one more is allowed (before a login attempt, per account).
    Peek,
    /// Takes one, even past the quota (a failed login: the bucket stays empty longer).
    Drain,
}

/// A quota store shared by every instance of the app, so that a client gets one quota
/// whichever instance answers it. `redis_limits::RedisLimits` (feature `redis`)
/// is the kit's. Keys never hold an email: account quotas are keyed by a hash of it.
pub trait SharedLimits: Send + Sync + 'static {
    /// Applies `spend` to `key` under `quota` (GCRA: one request every
    /// `quota.replenish_secs`, up to `quota.burst` at once). `Ok(None)`: allowed.
    /// `Ok(Some(wait))`: refused until `wait` has passed. `Err`: the store could not be
    /// asked; the caller falls back to its own process-local count.
    fn spend<'a>(
        &'a self,
        key: &'a str,
        quota: Quota,
        spend: Spend,
    ) -> BoxFuture<'a, anyhow::Result<Option<Duration>>>;
}

/// Where quotas are counted: in a [`SharedLimits`] store when there is one and it answers,
/// otherwise in this process. Losing the shared store degrades to per-instance quotas,
/// not to no quotas: each instance then allows the whole quota on its own, so a client
/// may get up to one quota per instance until the store is back. The switch is logged
/// once each way (`warn` when the store is lost, `info` when it answers again).
#[derive(Clone, Default)]
pub struct Limits {
    shared: Option<Arc<dyn SharedLimits>>,
    degraded: Arc<AtomicBool>,
}

impl fmt::Debug for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limits")
            .field("shared", &self.shared.is_some())
            .field("degraded", &self.degraded.load(Ordering::Relaxed))
            .finish()
    }
}

impl Limits {
    /// Counts in this process only.
    pub fn local() -> Self {
        Self::default()
    }

    /// Counts in `store`, falling back to this process while it does not answer.
    pub fn shared(store: Arc<dyn SharedLimits>) -> Self {
        Self {
            shared: Some(store),
            degraded: Arc::default(),
        }
    }

    /// Whether a shared store is configured.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The shared store's answer, or `None` to count locally (no store, or it failed).
    pub async fn spend(&self, key: &str, quota: Quota, spend: Spend) -> Option<Option<Duration>> {
        let store = self.shared.as_ref()?;
        match store.spend(key, quota, spend).await {
            Ok(answer) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        "the shared rate-limit store answers again: quotas are shared by all instances"
                    );
                }
                Some(answer)
            }
            Err(err) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %err,
                        "the shared rate-limit store does not answer: each instance counts quotas on its own until it is back"
                    );
                }
                None
            }
        }
    }
}

/// Per-IP quota of one endpoint: a tower layer, built by [`layer`].
#[derive(Clone)]
pub struct RateLimitLayer {
    state: Arc<IpLimit>,
}

struct IpLimit {
    name: &'static str,
    quota: Quota,
    client_ip: ClientIp,
    local: DefaultKeyedRateLimiter<IpAddr>,
    limits: Limits,
}

impl IpLimit {
    /// `Err(wait)` when the client is over the quota.
    async fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limits.is_shared() {
            let key = format!("{}:{client}", self.name);
            match self.limits.spend(&key, self.quota, Spend::Take).await {
                Some(None) => return Ok(()),
                Some(Some(wait)) => return Err(wait),
                None => {}
            }
        }
        self.local
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.local.clock().now()))
    }
}

impl<S> tower::Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The service of [`RateLimitLayer`].
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    state: Arc<IpLimit>,
}

impl<S> tower::Service<Request<Body>> for RateLimit<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's usual swap).
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let state = self.state.clone();
        Box::pin(async move {
            let mut inner = ready;
            let Some(peer) = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
            else {
                return Ok(ApiError::internal(anyhow::anyhow!(
                    "rate limiting needs the peer address: serve with App::run, or with into_make_service_with_connect_info::<SocketAddr>()"
                ))
                .into_response());
            };
            let client = state
                .client_ip
                .key(state.client_ip.resolve(peer, request.headers()));
            match state.check(client).await {
                Ok(()) => inner.call(request).await,
                Err(wait) => {
                    record_rejection(state.name);
                    Ok(too_many_requests(wait))
                }
            }
        })
    }
}

/// 429 with `Retry-After` in whole seconds, rounded up: a client that waits that long
/// gets through.
pub fn too_many_requests(wait: Duration) -> Response<Body> {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::too_many_requests(secs.max(1)).into_response()
}

/// A layer that allows `quota` per client IP, counted in `limits` (shared by the
/// instances, or local); over it, 429 problem+json with `Retry-After`, counted in
/// `rate_limit_rejections_total{limit}` ([`record_rejection`]).
///
/// Needs the peer address (`ConnectInfo<SocketAddr>`), which `App::run`/`App::serve`
/// provide. A background task drops idle local keys every minute; it ends with the layer.
pub fn layer(
    limit: &'static str,
    quota: Quota,
    client_ip: ClientIp,
    limits: Limits,
) -> RateLimitLayer {
    let burst = NonZeroU32::new(quota.burst).expect("quota checked at config load: burst above 0");
    let local_quota = governor::Quota::with_period(quota.replenish_secs)
        .expect("quota checked at config load: period above 0")
        .allow_burst(burst);
    let state = Arc::new(IpLimit {
        name: limit,
        quota,
        client_ip,
        local: RateLimiter::keyed(local_quota),
        limits,
    });
    spawn_cleanup(Arc::downgrade(&state));
    RateLimitLayer { state }
}

/// Counts one refusal of the `limit` quota (`login`, `register`, `refresh`,
/// `login_account`) in the `rate_limit_rejections_total{limit}` metric.
pub fn record_rejection(limit: &'static str) {
    static DESCRIBE: std::sync::Once = std::sync::Once::new();
    DESCRIBE.call_once(|| {
        metrics::describe_counter!(
            REJECTIONS,
            "Requests refused with 429 by a rate limit (login, register, refresh per client IP; login_account per account)."
        );
    });
    metrics::counter!(REJECTIONS, "limit" => limit).increment(1);
}

const REJECTIONS: &str = "rate_limit_rejections_total";

/// Forgets clients that are back to a full bucket, so the key map does not grow forever.
fn spawn_cleanup(state: Weak<IpLimit>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else {
                break;
            };
            state.local.retain_recent();
        }
    });
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in xff {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_ranges() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(is_private_range(ip(private)), "{private}");
        }
        for public in [
            "203.0.113.9",
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "2001:db8::1",
        ] {
            assert!(!is_private_range(ip(public)), "{public}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let resolver = ClientIp::new(&["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(
            resolver.resolve(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_entry_is_the_client() {
        let resolver = ClientIp::new(&["10.0.0.0/8".parse().unwrap()]);
        // The client forged "6.6.6.6"; the proxy appended the real peer 1.2.3.4.
        assert_eq!(
            resolver.resolve(ip("10.0.0.2"), &headers(&["6.6.6.6, 1.2.3.4"])),
            ip("1.2.3.4")
        );
        // Two trusted hops, over two header lines.
        assert_eq!(
            resolver.resolve(ip("10.0.0.2"), &headers(&["1.2.3.4", "10.0.0.7"])),
            ip("1.2.3.4")
        );
        // No header: the proxy itself.
        assert_eq!(
            resolver.resolve(ip("10.0.0.2"), &headers(&[])),
            ip("10.0.0.2")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            resolver.resolve(ip("10.0.0.2"), &headers(&["1.2.3.4, junk, 10.0.0.9"])),
            ip("10.0.0.9")
        );
    }

    #[test]
    fn forwarded_entries_with_ports_and_brackets_parse() {
        let resolver = ClientIp::new(&["10.0.0.0/8".parse().unwrap()]);
        for (entry, client) in [
            ("1.2.3.4:5678", "1.2.3.4"),
            ("[2001:db8::7]:443", "2001:db8::7"),
            ("[2001:db8::7]", "2001:db8::7"),
            ("2001:db8::7", "2001:db8::7"),
            ("[::ffff:192.0.2.1]:80", "192.0.2.1"),
        ] {
            assert_eq!(
                resolver.resolve(ip("10.0.0.2"), &headers(&[entry])),
                ip(client),
                "{entry}"
            );
        }
        // A trusted hop with a port is still skipped.
        assert_eq!(
            resolver.resolve(ip("10.0.0.2"), &headers(&["1.2.3.4:1, 10.0.0.7:8080"])),
            ip("1.2.3.4")
        );
        // Still garbage: a port without brackets on IPv6, a bad port.
        for junk in ["2001:db8::7:443x", "1.2.3.4:99999", "[1.2.3.4]:80"] {
            assert_eq!(
                resolver.resolve(ip("10.0.0.2"), &headers(&[junk])),
                ip("10.0.0.2"),
                "{junk}"
            );
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_prefix() {
        let resolver = ClientIp::new(&[]);
        assert_eq!(
            resolver.key(ip("2001:db8:1:2:aaaa::1")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            resolver.key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(resolver.key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(resolver.key(ip("192.0.2.1")), ip("192.0.2.1"));
        let exact = ClientIp::new(&[]).with_ipv6_prefix(128);
        assert_eq!(exact.key(ip("2001:db8::1")), ip("2001:db8::1"));
        let wide = ClientIp::new(&[]).with_ipv6_prefix(48);
        assert_eq!(wide.key(ip("2001:db8:1:ffff::1")), ip("2001:db8:1::"));
    }

    #[test]
    fn failures_drain_the_account_bucket_and_refill() {
        let limiter = FailureLimiter::new(Quota {
            burst: 2,
            replenish_secs: Duration::from_millis(200),
        });
        assert!(limiter.check("a@x.io").is_ok());
        limiter.fail("a@x.io");
        assert!(limiter.check("a@x.io").is_ok());
        limiter.fail("a@x.io");
        let wait = limiter.check("a@x.io").expect_err("limited");
        assert!(wait <= Duration::from_millis(200), "{wait:?}");
        assert!(
            limiter.check("b@x.io").is_ok(),
            "another key is not limited"
        );
        std::thread::sleep(Duration::from_millis(250));
        assert!(limiter.check("a@x.io").is_ok());
        std::thread::sleep(Duration::from_millis(250));
        limiter.retain_recent();
        assert!(limiter.is_empty());
    }

    #[test]
    fn ipv4_mapped_addresses_are_one_key() {
        let resolver = ClientIp::new(&[]);
        assert_eq!(
            resolver.resolve(ip("::ffff:192.0.2.1"), &headers(&[])),
            ip("192.0.2.1")
        );
    }
}
