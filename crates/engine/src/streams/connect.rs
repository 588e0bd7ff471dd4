//! Opening a stream's WebSocket: the URL read, its host resolved (bounded),
//! each address checked against where streams may go, then TCP, TLS for
//! `wss://` (rustls, the webpki roots) and the handshake, all within one
//! timeout. The socket is opened to the address that was checked, so a
//! name cannot resolve differently between the check and the connection.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::StreamError;

/// An open stream socket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where and how a stream may connect.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The longest the lookup, TCP, TLS and the handshake may take together.
    pub connect_timeout: Duration,
    /// The largest message (and frame) read from the socket; a larger one
    /// ends the stream.
    pub max_message: usize,
    /// Networks streams may connect to; empty: anywhere.
    pub destinations: Vec<ipnet::IpNet>,
}

impl Default for Limits {
    /// 5 s to connect, 64 KiB messages, anywhere.
    fn default() -> Limits {
        Limits { connect_timeout: Duration::from_secs(5), max_message: 64 * 1024, destinations: Vec::new() }
    }
}

impl Limits {
    /// Whether a stream may connect to `addr`.
    pub fn allows(&self, addr: &SocketAddr) -> bool {
        let ip = addr.ip().to_canonical();
        self.destinations.is_empty() || self.destinations.iter().any(|n| n.contains(&ip))
    }
}

/// Opens the WebSocket at `url` (`ws://` or `wss://`).
pub async fn open(url: &str, limits: &Limits) -> Result<Socket, StreamError> {
    let parsed = url::Url::parse(url).map_err(|e| StreamError::BadUrl(format!("{url:?}: {e}")))?;
    let default_port = match parsed.scheme() {
        "ws" => 80,
        "wss" => 443,
        other => return Err(StreamError::BadUrl(format!("{url:?}: the scheme {other:?} is not ws or wss"))),
    };
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(StreamError::BadUrl(format!("{url:?}: no host"))),
    };
    let port = parsed.port().unwrap_or(default_port);
    let attempt = async {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| StreamError::Unreachable(format!("{host} does not resolve: {e}")))?
            .collect();
        let allowed: Vec<SocketAddr> = addrs.iter().copied().filter(|a| limits.allows(a)).collect();
        if allowed.is_empty() {
            return Err(match addrs.first() {
                Some(a) => {
                    StreamError::Refused(format!("{host} ({}) is outside where streams may go", a.ip()))
                }
                None => StreamError::Unreachable(format!("{host} resolves to nothing")),
            });
        }
        let mut last = None;
        let mut tcp = None;
        for addr in allowed {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(format!("{addr}: {e}")),
            }
        }
        let Some(tcp) = tcp else {
            return Err(StreamError::Unreachable(last.unwrap_or_else(|| "no address".into())));
        };
        let _ = tcp.set_nodelay(true);
        let config = WebSocketConfig::default()
            .max_message_size(Some(limits.max_message))
            .max_frame_size(Some(limits.max_message));
        let (socket, _) = tokio_tungstenite::client_async_tls_with_config(url, tcp, Some(config), None)
            .await
            .map_err(|e| StreamError::Handshake(e.to_string()))?;
        Ok(socket)
    };
    match tokio::time::timeout(limits.connect_timeout, attempt).await {
        Ok(r) => r,
        Err(_) => {
            Err(StreamError::Unreachable(format!("{url} did not answer within {:?}", limits.connect_timeout)))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_urls_and_closed_ports_are_clear_errors() {
        let limits = Limits::default();
        assert!(matches!(open("http://127.0.0.1/x", &limits).await, Err(StreamError::BadUrl(_))));
        assert!(matches!(open("not a url", &limits).await, Err(StreamError::BadUrl(_))));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = open(&format!("ws://127.0.0.1:{port}/"), &limits).await.unwrap_err();
        assert_eq!(e.cause(), "STREAM_UNREACHABLE", "{e}");
    }

    #[tokio::test]
    async fn destinations_outside_the_allowed_networks_are_refused() {
        let limits = Limits { destinations: vec!["10.0.0.0/8".parse().unwrap()], ..Limits::default() };
        let e = open("ws://127.0.0.1:9/", &limits).await.unwrap_err();
        assert_eq!(e.cause(), "STREAM_DESTINATION_REFUSED", "{e}");
    }

    #[tokio::test]
    async fn a_server_that_is_not_a_websocket_fails_the_handshake() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno").await;
        });
        let e = open(&format!("ws://{addr}/"), &Limits::default()).await.unwrap_err();
        assert_eq!(e.cause(), "STREAM_HANDSHAKE_FAILED", "{e}");
    }
}
