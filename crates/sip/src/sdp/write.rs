//! Writing SDP text (CRLF line ends, RFC 4566 line order).

use std::fmt;

use super::{Connection, MediaDescription, Origin, SessionDescription};

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.net_type, self.addr_type, self.address)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.username, self.session_id, self.session_version, self.address)
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v=0\r\no={}\r\ns={}\r\n", self.origin, self.session_name)?;
        if let Some(i) = &self.info {
            write!(f, "i={i}\r\n")?;
        }
        let (before_c, after_t): (Vec<_>, Vec<_>) =
            self.other.iter().partition(|(k, _)| matches!(k, 'u' | 'e' | 'p'));
        for (k, v) in before_c {
            write!(f, "{k}={v}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={b}\r\n")?;
        }
        for t in &self.timing {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
        }
        // r= belongs right after t=; z= and k= follow.
        for (k, v) in
            after_t.iter().filter(|(k, _)| *k == 'r').chain(after_t.iter().filter(|(k, _)| *k != 'r'))
        {
            write!(f, "{k}={v}\r\n")?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        for m in &self.media {
            m.fmt(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {} {}\r\n", self.proto, self.formats.join(" "))?;
        if let Some(i) = &self.info {
            write!(f, "i={i}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={b}\r\n")?;
        }
        for (k, v) in &self.other {
            write!(f, "{k}={v}\r\n")?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        Ok(())
    }
}
