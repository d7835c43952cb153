//! `{{project-name}} --healthcheck`: exits 0 if this service, running on this machine,
//! answers 200 on `/health/ready`, and 1 otherwise. It is the container healthcheck (see
//! `docker-compose.yml`): the runtime image has no shell, curl or wget, so the binary
//! checks itself with a bare HTTP/1.1 request.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};

use crate::core::config::Settings;

/// The whole check (connect, send, read the answer) must end within this time.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Where to reach the service from this machine: its `server.host` (the loopback address
/// when it listens on all interfaces) and `server.port`.
pub fn local_addr(settings: &Settings) -> anyhow::Result<SocketAddr> {
    let server = &settings.core.server;
    if server.port == 0 {
        bail!("server.port is 0 (any free port): set APP_SERVER__PORT to check the service");
    }
    let host = match server.host {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(host, server.port))
}

/// `Ok` if `GET /health/ready` at `addr` answers 200.
pub async fn check(addr: SocketAddr) -> anyhow::Result<()> {
    let status_line = timeout(TIMEOUT, status_line(addr))
        .await
        .with_context(|| format!("no answer from {addr} within {TIMEOUT:?}"))??;
    // "HTTP/1.1 200 OK": the second word is the status code.
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => bail!("http://{addr}/health/ready answered `{status_line}`"),
    }
}

async fn status_line(addr: SocketAddr) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream
        .write_all(b"GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    // The status line fits in the first packet; `Connection: close` ends the stream.
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer);
    Ok(answer.lines().next().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, port: u16) -> Settings {
        let mut settings = Settings::default();
        settings.core.server.host = host.parse().unwrap();
        settings.core.server.port = port;
        settings
    }

    #[test]
    fn a_service_listening_everywhere_is_checked_on_loopback() {
        let addr = local_addr(&settings("0.0.0.0", 8080)).unwrap();
        assert_eq!(addr, "127.0.0.1:8080".parse().unwrap());
        let addr = local_addr(&settings("::", 8080)).unwrap();
        assert_eq!(addr, "[::1]:8080".parse().unwrap());
        let addr = local_addr(&settings("10.1.2.3", 9000)).unwrap();
        assert_eq!(addr, "10.1.2.3:9000".parse().unwrap());
    }

    #[test]
    fn port_zero_cannot_be_checked() {
        let err = local_addr(&settings("127.0.0.1", 0)).unwrap_err();
        assert!(err.to_string().contains("APP_SERVER__PORT"), "{err}");
    }
}
