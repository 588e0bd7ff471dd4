//! A simulated network and clock for two transaction layers: a client
//! endpoint and a server endpoint, stepped by moving their transmits to
//! each other with no latency, optionally dropping or duplicating packets.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip::header::Via;
use sip::transaction::{Config, Event, Peer, Protocol, Transactions};
use sip::{parse_message, HeaderName, Message, Method, NameAddr, Request, Uri};

/// One of the two endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Sends the requests of the scenario.
    Client,
    /// Receives them.
    Server,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// What the network does with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered once.
    Deliver,
    /// Lost.
    Drop,
    /// Delivered twice.
    Duplicate,
}

/// A packet that went on the wire.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Time since the start of the scenario.
    pub at: Duration,
    /// Who sent it.
    pub from: Side,
    /// The parsed message.
    pub message: Message,
    /// Its start line, e.g. `INVITE sip:bob@example.com SIP/2.0` or
    /// `SIP/2.0 100 Trying`.
    pub line: String,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// What the network did with it.
    pub fate: Fate,
}

impl Sent {
    /// True for a request of `method`.
    pub fn is_request(&self, method: &Method) -> bool {
        matches!(&self.message, Message::Request(r) if r.method == *method)
    }

    /// True for a response with `status` to a request of `method`.
    pub fn is_response(&self, status: u16, method: &Method) -> bool {
        matches!(&self.message, Message::Response(r) if r.status.code() == status && r.head.cseq.method == *method)
    }
}

/// An endpoint: its transaction layer, the address the other side sees,
/// and the events its TU received.
pub struct Node {
    /// The transaction layer.
    pub layer: Transactions,
    /// How the other endpoint reaches this one.
    pub me: Peer,
    /// Events polled so far.
    pub events: Vec<Event>,
}

/// The network, the clock and the two endpoints.
pub struct Sim {
    /// Time zero of the scenario.
    pub start: Instant,
    /// The simulated now.
    pub now: Instant,
    /// The requesting endpoint.
    pub client: Node,
    /// The answering endpoint.
    pub server: Node,
    /// Every packet sent, in order.
    pub wire: Vec<Sent>,
    /// Decides each packet's fate (default: deliver).
    pub fate: Box<dyn FnMut(&Sent) -> Fate>,
}

/// The client's address.
pub const CLIENT: &str = "192.0.2.1:5060";
/// The server's address.
pub const SERVER: &str = "192.0.2.2:5060";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

impl Sim {
    /// Two endpoints over UDP with default timers.
    pub fn udp() -> Sim {
        Sim::new(Protocol::Udp, Config::default(), Config::default())
    }

    /// Two endpoints over TCP with default timers.
    pub fn tcp() -> Sim {
        Sim::new(Protocol::Tcp, Config::default(), Config::default())
    }

    /// Two endpoints over `protocol` with their own configurations.
    pub fn new(protocol: Protocol, client: Config, server: Config) -> Sim {
        let start = Instant::now();
        Sim {
            start,
            now: start,
            client: Node {
                layer: Transactions::new(client),
                me: Peer { addr: addr(CLIENT), protocol },
                events: Vec::new(),
            },
            server: Node {
                layer: Transactions::new(server),
                me: Peer { addr: addr(SERVER), protocol },
                events: Vec::new(),
            },
            wire: Vec::new(),
            fate: Box::new(|_| Fate::Deliver),
        }
    }

    /// The endpoint on `side`.
    pub fn node(&mut self, side: Side) -> &mut Node {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// How `side` reaches the other endpoint.
    pub fn peer_of(&self, side: Side) -> Peer {
        match side {
            Side::Client => self.server.me,
            Side::Server => self.client.me,
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Delivers every queued packet (and those they cause) at the current
    /// time, and collects the events.
    pub fn flush(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for side in [Side::Client, Side::Server] {
                while let Some(t) = self.node(side).layer.poll_transmit() {
                    moved = true;
                    assert_eq!(t.peer, self.peer_of(side), "{side:?} sent to the wrong peer");
                    self.deliver(side, t.bytes);
                }
            }
            for side in [Side::Client, Side::Server] {
                let node = self.node(side);
                while let Some(e) = node.layer.poll_event() {
                    node.events.push(e);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the endpoints never went quiet");
    }

    fn deliver(&mut self, from: Side, bytes: Vec<u8>) {
        let message = parse_message(&bytes).unwrap_or_else(|e| {
            panic!("{from:?} sent what does not parse ({e}):\n{}", String::from_utf8_lossy(&bytes))
        });
        let text = String::from_utf8_lossy(&bytes);
        let line = text.lines().next().unwrap_or_default().to_owned();
        let mut sent = Sent { at: self.elapsed(), from, message, line, bytes, fate: Fate::Deliver };
        sent.fate = (self.fate)(&sent);
        let copies = match sent.fate {
            Fate::Deliver => 1,
            Fate::Drop => 0,
            Fate::Duplicate => 2,
        };
        let source = self.node(from).me;
        let now = self.now;
        for _ in 0..copies {
            self.node(from.other()).layer.handle_message(now, sent.message.clone(), source);
        }
        self.wire.push(sent);
    }

    /// Lets `d` pass: timers fire in time order, packets are delivered as
    /// they are sent.
    pub fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        self.flush();
        for _ in 0..100_000 {
            let next = [self.client.layer.poll_timeout(), self.server.layer.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    let now = self.now;
                    self.client.layer.handle_timeout(now);
                    self.server.layer.handle_timeout(now);
                    self.flush();
                }
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
        panic!("timers never settled");
    }

    /// Advances by `ms` milliseconds.
    pub fn advance_ms(&mut self, ms: u64) {
        self.advance(Duration::from_millis(ms));
    }

    /// Takes the events `side` has collected.
    pub fn take_events(&mut self, side: Side) -> Vec<Event> {
        self.flush();
        std::mem::take(&mut self.node(side).events)
    }

    /// Packets from `side` matching `pred`.
    pub fn sent_by(&self, side: Side, pred: impl Fn(&Sent) -> bool) -> Vec<&Sent> {
        self.wire.iter().filter(|s| s.from == side && pred(s)).collect()
    }

    /// How many requests of `method` `side` sent.
    pub fn requests(&self, side: Side, method: Method) -> usize {
        self.sent_by(side, |s| s.is_request(&method)).len()
    }

    /// How many `status` responses to `method` `side` sent.
    pub fn responses(&self, side: Side, status: u16, method: Method) -> usize {
        self.sent_by(side, |s| s.is_response(status, &method)).len()
    }

    /// Times (since the start) at which `side` sent requests of `method`.
    pub fn request_times(&self, side: Side, method: Method) -> Vec<Duration> {
        self.sent_by(side, |s| s.is_request(&method)).iter().map(|s| s.at).collect()
    }
}

/// A request from the client to the server with the client's Via (and a
/// Contact), ready for `send_request`.
pub fn request(method: Method, branch: &str) -> Request {
    let uri: Uri = "sip:bob@192.0.2.2".parse().expect("uri");
    let mut from: NameAddr = "<sip:alice@192.0.2.1>".parse().expect("from");
    from.set_tag("alice-tag");
    let to: NameAddr = "<sip:bob@192.0.2.2>".parse().expect("to");
    let sent_by = sip::HostPort::parse(CLIENT).expect("sent-by");
    let via = Via::new(sip::header::Transport::Udp, sent_by, branch);
    Request::new(method, uri, from, to, "call-1@192.0.2.1", 1)
        .with_via(via)
        .with_header(HeaderName::Contact, "<sip:alice@192.0.2.1:5060>")
}

/// An INVITE from the client.
pub fn invite(branch: &str) -> Request {
    request(Method::Invite, branch)
}

/// Milliseconds as a duration.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

impl Sim {
    /// Both layers' next timeouts (client, server).
    pub fn poll_timeouts(&self) -> (Option<Instant>, Option<Instant>) {
        (self.client.layer.poll_timeout(), self.server.layer.poll_timeout())
    }
}
