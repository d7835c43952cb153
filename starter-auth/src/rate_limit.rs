//! Rate limiting of the auth endpoints with tower_governor, keyed by client IP.
//!
//! The client IP is the TCP peer, unless the peer is one of `auth.trusted_proxies`: only
//! then is `X-Forwarded-For` read, right to left, skipping trusted hops, and the first
//! untrusted address is the client. Anyone can write `X-Forwarded-For`; only a proxy you
//! run appends a true entry to it, and it appends on the right.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Weak},
    time::Duration,
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, Response},
    response::IntoResponse,
};
use governor::middleware::NoOpMiddleware;
use ipnet::IpNet;
use starter_core::ApiError;
use tower_governor::{
    GovernorError, GovernorLayer, governor::GovernorConfigBuilder, key_extractor::KeyExtractor,
};

use crate::settings::Quota;

/// The client IP of a request, trusting `X-Forwarded-For` only from `trusted` peers.
#[derive(Debug, Clone)]
pub struct ClientIp {
    trusted: Arc<[IpNet]>,
}

impl ClientIp {
    pub fn new(trusted_proxies: &[IpNet]) -> Self {
        Self {
            trusted: trusted_proxies.into(),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client address for a request from `peer` with these headers.
    pub fn resolve(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
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

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or(GovernorError::UnableToExtractKey)?;
        Ok(self.resolve(peer, request.headers()))
    }
}

/// The tower layer type of one limited endpoint.
pub type RateLimitLayer = GovernorLayer<ClientIp, NoOpMiddleware, Body>;

/// A layer that allows `quota` per client IP; over it, 429 problem+json with
/// `Retry-After`.
///
/// Needs the peer address (`ConnectInfo<SocketAddr>`), which `App::run`/`App::serve`
/// provide. A background task drops idle keys every minute; it ends with the layer.
pub fn layer(quota: Quota, client_ip: ClientIp) -> RateLimitLayer {
    let config = GovernorConfigBuilder::default()
        .key_extractor(client_ip)
        .period(quota.replenish_secs)
        .burst_size(quota.burst)
        .finish()
        .expect("quota checked at config load: burst and period above 0");
    let config = Arc::new(config);
    spawn_cleanup(Arc::downgrade(&config));
    GovernorLayer::new(config).error_handler(problem)
}

fn problem(error: GovernorError) -> Response<Body> {
    match error {
        // governor's wait time is rounded down to whole seconds; one more makes sure a
        // client that waits exactly `Retry-After` gets through.
        GovernorError::TooManyRequests { wait_time, .. } => {
            ApiError::too_many_requests(wait_time + 1).into_response()
        }
        GovernorError::UnableToExtractKey => ApiError::internal(anyhow::anyhow!(
            "rate limiting needs the peer address: serve with App::run, or with into_make_service_with_connect_info::<SocketAddr>()"
        ))
        .into_response(),
        GovernorError::Other { code, msg, .. } => {
            ApiError::new(code, "rate_limit_error")
                .with_detail(msg.unwrap_or_default())
                .into_response()
        }
    }
}

/// Forgets clients that are back to a full bucket, so the key map does not grow forever.
fn spawn_cleanup<K, M>(config: Weak<tower_governor::governor::GovernorConfig<K, M>>)
where
    K: KeyExtractor + Send + Sync + 'static,
    K::Key: Send + Sync,
    M: governor::middleware::RateLimitingMiddleware<governor::clock::QuantaInstant>
        + Send
        + Sync
        + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(config) = config.upgrade() else {
                break;
            };
            config.limiter().retain_recent();
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
    fn ipv4_mapped_addresses_are_one_key() {
        let resolver = ClientIp::new(&[]);
        assert_eq!(
            resolver.resolve(ip("::ffff:192.0.2.1"), &headers(&[])),
            ip("192.0.2.1")
        );
    }
}
