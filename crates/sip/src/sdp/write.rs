//! Writing SDP text (CRLF line ends, RFC 4566 line order). Each value is
//! laid out once, in a `write_to` over a [`Sink`]: `Display` and
//! [`SessionDescription::to_bytes`] (its length counted first, then
//! written into one allocation, without the formatting machinery) both
//! come from it.

use std::fmt;

use super::{Attribute, Connection, MediaDescription, Origin, SessionDescription};
use crate::written_len::{Sink, WrittenLen};

impl SessionDescription {
    /// The description's text as bytes, as `to_string()` writes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.written_len());
        self.write_into(&mut out);
        out.into_bytes()
    }
}

/// Writes `n` in decimal (numbers past `u32` through `fmt`).
fn number<W: Sink>(out: &mut W, n: u64) -> fmt::Result {
    match u32::try_from(n) {
        Ok(n) => out.number(n),
        Err(_) => write!(out, "{n}"),
    }
}

/// Writes `k=v` and a line end.
fn line<W: Sink>(out: &mut W, k: char, v: &str) -> fmt::Result {
    out.write_char(k)?;
    out.write_char('=')?;
    out.write_str(v)?;
    out.write_str("\r\n")
}

impl WrittenLen for Connection {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str(&self.net_type)?;
        out.write_char(' ')?;
        out.write_str(&self.addr_type)?;
        out.write_char(' ')?;
        out.write_str(&self.address)
    }
}

impl WrittenLen for Origin {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str(&self.username)?;
        out.write_char(' ')?;
        out.write_str(&self.session_id)?;
        out.write_char(' ')?;
        number(out, self.session_version)?;
        out.write_char(' ')?;
        self.address.write_to(out)
    }
}

impl WrittenLen for Attribute {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        match self {
            Attribute::RtpMap(m) => {
                out.write_str("rtpmap:")?;
                out.number(u32::from(m.payload_type))?;
                out.write_char(' ')?;
                out.write_str(&m.encoding)?;
                out.write_char('/')?;
                out.number(m.clock_rate)?;
                if let Some(c) = m.channels {
                    out.write_char('/')?;
                    out.number(u32::from(c))?;
                }
                Ok(())
            }
            Attribute::Fmtp { payload_type, params } => {
                out.write_str("fmtp:")?;
                out.number(u32::from(*payload_type))?;
                if !params.is_empty() {
                    out.write_char(' ')?;
                    out.write_str(params)?;
                }
                Ok(())
            }
            Attribute::Ptime(p) => {
                out.write_str("ptime:")?;
                out.number(*p)
            }
            Attribute::Direction(d) => out.write_str(d.as_str()),
            Attribute::Rtcp { port, connection } => {
                out.write_str("rtcp:")?;
                out.number(u32::from(*port))?;
                if let Some(c) = connection {
                    out.write_char(' ')?;
                    c.write_to(out)?;
                }
                Ok(())
            }
            Attribute::Other { name, value } => {
                out.write_str(name)?;
                if let Some(v) = value {
                    out.write_char(':')?;
                    out.write_str(v)?;
                }
                Ok(())
            }
        }
    }
}

/// Writes `a=` lines.
fn attributes<W: Sink>(out: &mut W, attributes: &[Attribute]) -> fmt::Result {
    for a in attributes {
        out.write_str("a=")?;
        a.write_to(out)?;
        out.write_str("\r\n")?;
    }
    Ok(())
}

/// Writes `c=` and `b=` lines.
fn connection_and_bandwidths<W: Sink>(
    out: &mut W,
    connection: Option<&Connection>,
    bandwidths: &[String],
) -> fmt::Result {
    if let Some(c) = connection {
        out.write_str("c=")?;
        c.write_to(out)?;
        out.write_str("\r\n")?;
    }
    bandwidths.iter().try_for_each(|b| line(out, 'b', b))
}

impl WrittenLen for SessionDescription {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str("v=0\r\no=")?;
        self.origin.write_to(out)?;
        out.write_str("\r\n")?;
        line(out, 's', &self.session_name)?;
        if let Some(i) = &self.info {
            line(out, 'i', i)?;
        }
        let before_c = |k: char| matches!(k, 'u' | 'e' | 'p');
        for (k, v) in self.other.iter().filter(|(k, _)| before_c(*k)) {
            line(out, *k, v)?;
        }
        connection_and_bandwidths(out, self.connection.as_ref(), &self.bandwidths)?;
        for t in &self.timing {
            out.write_str("t=")?;
            number(out, t.start)?;
            out.write_char(' ')?;
            number(out, t.stop)?;
            out.write_str("\r\n")?;
        }
        // r= belongs right after t=; z= and k= follow.
        let after_t = || self.other.iter().filter(|(k, _)| !before_c(*k));
        for (k, v) in after_t().filter(|(k, _)| *k == 'r').chain(after_t().filter(|(k, _)| *k != 'r')) {
            line(out, *k, v)?;
        }
        attributes(out, &self.attributes)?;
        self.media.iter().try_for_each(|m| m.write_to(out))
    }
}

impl WrittenLen for MediaDescription {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str("m=")?;
        out.write_str(&self.media)?;
        out.write_char(' ')?;
        out.number(u32::from(self.port))?;
        if let Some(n) = self.port_count {
            out.write_char('/')?;
            out.number(u32::from(n))?;
        }
        out.write_char(' ')?;
        out.write_str(&self.proto)?;
        out.write_char(' ')?;
        for (i, f) in self.formats.iter().enumerate() {
            if i > 0 {
                out.write_char(' ')?;
            }
            out.write_str(f)?;
        }
        out.write_str("\r\n")?;
        if let Some(i) = &self.info {
            line(out, 'i', i)?;
        }
        connection_and_bandwidths(out, self.connection.as_ref(), &self.bandwidths)?;
        for (k, v) in &self.other {
            line(out, *k, v)?;
        }
        attributes(out, &self.attributes)
    }
}

macro_rules! display_from_write_to {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.write_to(f)
            }
        }
    )*};
}

display_from_write_to!(Connection, Origin, Attribute, SessionDescription, MediaDescription);
