//! Lexical helpers shared by the parsers: character classes, quoted strings
//! and splitting outside quotes and angle brackets.

use std::borrow::Cow;

use crate::error::ParseError;

/// True for the characters of an RFC 3261 `token`.
pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '!' | '%' | '*' | '_' | '+' | '`' | '\'' | '~')
}

/// True when `s` is a non-empty RFC 3261 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    // By bytes: a character past ASCII is no token character, nor any of its bytes.
    !s.is_empty() && s.bytes().all(|b| is_token_char(char::from(b)))
}

/// Whether `s` holds a control character other than a tab: a scan of
/// bytes for ASCII text (the usual), of characters otherwise (C1 controls
/// are two bytes in UTF-8).
pub(crate) fn has_control(s: &str) -> bool {
    // One pass without early exit, which the compiler vectorises: a flag
    // for controls, another for bytes past ASCII.
    let (control, wide) = s.bytes().fold((false, false), |(control, wide), b| {
        (control | ((b < 0x20 && b != b'\t') || b == 0x7f), wide | (b >= 0x80))
    });
    if control || !wide {
        return control;
    }
    s.chars().any(|c| c.is_control() && c != '\t')
}

/// `s.trim()`, quicker for the usual ASCII text: bytes are looked at
/// first, Unicode whitespace only when an end left is not ASCII.
pub(crate) fn trim(s: &str) -> &str {
    // Rust's ASCII whitespace: space and tab through carriage return.
    let white = |b: &u8| matches!(b, b' ' | b'\t'..=b'\r');
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !white(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !white(b)).map_or(start, |i| i + 1);
    // Both ends are next to ASCII bytes or the text's ends: boundaries.
    let t = s.get(start..end).unwrap_or("");
    let wide = |b: Option<&u8>| b.is_some_and(|b| !b.is_ascii());
    if wide(t.as_bytes().first()) || wide(t.as_bytes().last()) {
        t.trim()
    } else {
        t
    }
}

/// `s` split at the first `sep` (ASCII), as `str::split_once` does.
pub(crate) fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let i = memchr::memchr(sep, s.as_bytes())?;
    // An ASCII byte is a whole character: both sides are on boundaries.
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Where `sep` first occurs outside double quotes and angle brackets.
pub(crate) fn find_outside(s: &str, sep: char) -> Option<usize> {
    // The usual separators are ASCII: scan bytes. Every byte of a
    // multi-byte character is 0x80 or above, so an ASCII byte is always a
    // whole character and its index a character boundary.
    if let Ok(sep) = u8::try_from(sep) {
        if sep.is_ascii() {
            return find_outside_ascii(s.as_bytes(), sep);
        }
    }
    find_outside_chars(s, sep)
}

/// [`find_outside`] character by character: a state machine.
fn find_outside_chars(s: &str, sep: char) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = false;
    for (i, c) in s.char_indices() {
        if quoted {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '<' => angle = true,
            '>' => angle = false,
            _ if c == sep && !angle => return Some(i),
            _ => {}
        }
    }
    None
}

/// [`find_outside`] for an ASCII separator, over bytes: jumps (`memchr`)
/// from one byte that matters to the next (the separator, a quote, a
/// bracket; within a quoted string, its end or an escape).
fn find_outside_ascii(s: &[u8], sep: u8) -> Option<usize> {
    if matches!(sep, b'"' | b'<' | b'>') {
        // Each opens or closes what is skipped: never a separator.
        return None;
    }
    let mut i = 0;
    loop {
        i += memchr::memchr3(sep, b'"', b'<', s.get(i..)?)?;
        match s.get(i)? {
            b'"' => i = closing_quote(s, i)?,
            b'<' => loop {
                // To the closing bracket (brackets do not nest), quoted
                // strings skipped.
                i += 1;
                i += memchr::memchr2(b'>', b'"', s.get(i..)?)?;
                if *s.get(i)? == b'>' {
                    break;
                }
                i = closing_quote(s, i)?;
            },
            _ => return Some(i),
        }
        i += 1;
    }
}

/// The index of the quote that closes the quoted string opened at `open`.
fn closing_quote(s: &[u8], open: usize) -> Option<usize> {
    let mut j = open + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', s.get(j..)?)?;
        if *s.get(j)? == b'"' {
            return Some(j);
        }
        // An escape: the next byte is taken as it is.
        j += 2;
    }
}

/// Splits `s` on `sep` where it is outside double quotes and angle brackets.
pub(crate) fn split_outside(s: &str, sep: char) -> SplitOutside<'_> {
    SplitOutside { rest: Some(s), sep }
}

/// Iterator returned by [`split_outside`].
pub(crate) struct SplitOutside<'a> {
    rest: Option<&'a str>,
    sep: char,
}

impl<'a> Iterator for SplitOutside<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match find_outside(rest, self.sep) {
            Some(i) => {
                self.rest = rest.get(i + self.sep.len_utf8()..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Parses a quoted string at the start of `s`; returns its unescaped content
/// and the text after the closing quote.
pub(crate) fn take_quoted(s: &str) -> Result<(String, &str), ParseError> {
    take_quoted_borrowed(s).map(|(inner, rest)| (inner.into_owned(), rest))
}

/// [`take_quoted`], borrowing the content from `s` when it has no escapes
/// (the usual).
pub(crate) fn take_quoted_borrowed(s: &str) -> Result<(Cow<'_, str>, &str), ParseError> {
    let mut chars = s.char_indices();
    if !matches!(chars.next(), Some((_, '"'))) {
        return Err(ParseError::Quoted);
    }
    // The usual quoted string has no escapes: find its end by bytes and
    // take it whole. `"` and `\` are ASCII, so never inside another
    // character's encoding.
    let inner = s.get(1..).unwrap_or("");
    if let Some(end) = memchr::memchr2(b'"', b'\\', inner.as_bytes()) {
        let body = inner.get(..end).unwrap_or("");
        if inner.as_bytes().get(end) == Some(&b'"') && !has_control(body) {
            return Ok((Cow::Borrowed(body), inner.get(end + 1..).unwrap_or("")));
        }
    }
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in chars {
        if c.is_control() && c != '\t' {
            return Err(ParseError::Quoted);
        }
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Ok((Cow::Owned(out), s.get(i + 1..).unwrap_or("")));
        } else {
            out.push(c);
        }
    }
    Err(ParseError::Quoted)
}

/// Writes `s` as a quoted string, escaping `"` and `\`.
#[cfg(test)]
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Writes `s` as [`quote`] makes it, without a `String` of its own.
pub(crate) fn write_quoted(w: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    w.write_char('"')?;
    write_escaped(w, s)?;
    w.write_char('"')
}

/// Writes `s` with `"` and `\` escaped: the inside of a quoted string.
pub(crate) fn write_escaped(w: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    let mut rest = s;
    // `"` and `\` are ASCII: the text between them is written whole.
    while let Some(at) = memchr::memchr2(b'"', b'\\', rest.as_bytes()) {
        w.write_str(rest.get(..at).unwrap_or(""))?;
        w.write_char('\\')?;
        w.write_str(rest.get(at..=at).unwrap_or(""))?;
        rest = rest.get(at + 1..).unwrap_or("");
    }
    w.write_str(rest)
}

/// Removes surrounding quotes (and escapes) when `s` is a quoted string;
/// returns other text unchanged.
pub(crate) fn unquote(s: &str) -> Result<String, ParseError> {
    unquote_borrowed(s).map(Cow::into_owned)
}

/// [`unquote`], borrowing from `s` unless the quoted string has escapes.
pub(crate) fn unquote_borrowed(s: &str) -> Result<Cow<'_, str>, ParseError> {
    if s.starts_with('"') {
        let (inner, rest) = take_quoted_borrowed(s)?;
        if !rest.trim().is_empty() {
            return Err(ParseError::Quoted);
        }
        Ok(inner)
    } else {
        Ok(Cow::Borrowed(s))
    }
}

/// Parses a decimal number of at most `max_digits` digits.
pub(crate) fn number<T: std::str::FromStr>(s: &str, max_digits: usize) -> Option<T> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_brackets() {
        let parts: Vec<_> =
            split_outside(r#""a,b" <sip:x;y=1,2>;p, <sip:z>, "q\",r" <sip:w>"#, ',').collect();
        assert_eq!(parts, vec![r#""a,b" <sip:x;y=1,2>;p"#, " <sip:z>", r#" "q\",r" <sip:w>"#]);
    }

    #[test]
    fn quoted_strings_are_skipped_to_their_closing_quote() {
        assert_eq!(find_outside(r#"a="x,y", b"#, ','), Some(7));
        assert_eq!(find_outside(r#"a="x\",y", b"#, ','), Some(9), "an escaped quote does not close");
        assert_eq!(find_outside(r#"a="x\\",y"#, ','), Some(7), "an escaped backslash does not escape");
        assert_eq!(find_outside(r#"a="x,y"#, ','), None, "never closed");
        assert_eq!(find_outside(r#"a="x\"#, ','), None, "ends in an escape");
        assert_eq!(find_outside(r#""",x"#, ','), Some(2), "empty");
        assert_eq!(find_outside(r#"<a,"b>",c>,d"#, ','), Some(10), "a quote inside brackets");
    }

    #[test]
    fn trim_trims_as_str_does() {
        let texts = [
            "",
            " ",
            "a",
            " a ",
            "\t\r\n\x0b\x0ca b\x0c",
            "\u{a0}x\u{a0}",
            " \u{a0} x \u{2003} ",
            "é",
            " é ",
            "\u{85}",
            "\u{a0} \u{a0}",
            "x\u{1c}",
            "ü \u{3000}\t",
        ];
        for text in texts {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn the_byte_scan_finds_what_the_state_machine_finds() {
        let texts = [
            r#"a="x,y", b"#,
            r#"a="x\",y", b"#,
            r#"a="x\\",y"#,
            r#"a="x,y"#,
            r#"a="x\"#,
            r#""",x"#,
            r#"<a,"b>",c>,d"#,
            r#"<a,<b>,c>;d=">,",e"#,
            "\"é,ü\" <sip:ß@x,y>;ñ=1,ø",
            "<open,never;closed",
            "a>b,c<d,e>f;g",
            r#"Digest username="a\"b", realm=r, nonce="n,\\", uri=<sip:x;a=b,c>"#,
            "",
            ",;<>\"",
        ];
        for text in texts {
            for sep in [',', ';', '"', '<', '>', '=', ' ', '\\'] {
                assert_eq!(find_outside(text, sep), find_outside_chars(text, sep), "{text:?} {sep:?}");
            }
        }
    }

    #[test]
    fn separators_are_found_by_byte_index_beside_multibyte_characters() {
        let s = "\"é,ü\" <sip:ß@x,y>;ñ=1,ø";
        assert_eq!(find_outside(s, ','), s.rfind(','));
        assert_eq!(find_outside(s, ';'), s.find(';'));
        assert_eq!(find_outside("a→b,c", '→'), Some(1));
        assert_eq!(find_outside("\"a→\"→b", '→'), Some(6));
    }

    #[test]
    fn quoted_strings_round_trip() {
        let (s, rest) = take_quoted(r#""a \"b\" \\c" <x>"#).expect("quoted");
        assert_eq!(s, r#"a "b" \c"#);
        assert_eq!(rest, " <x>");
        assert_eq!(quote(&s), r#""a \"b\" \\c""#);
        for text in [s.as_str(), "", "plain", "\"", "\\", "é\"ü\\"] {
            let mut written = String::new();
            write_quoted(&mut written, text).expect("writes");
            assert_eq!(written, quote(text), "{text}");
        }
        assert!(take_quoted(r#""open"#).is_err());
        assert!(take_quoted(r#""ends in escape\"#).is_err());
    }

    #[test]
    fn numbers_are_bounded() {
        assert_eq!(number::<u32>("4294967295", 10), Some(u32::MAX));
        assert_eq!(number::<u32>("4294967296", 10), None);
        assert_eq!(number::<u16>("+1", 5), None);
        assert_eq!(number::<u16>("", 5), None);
    }

    #[test]
    fn split_once_byte_splits_as_str_does() {
        assert_eq!(split_once_byte("Via: a:b", b':'), Some(("Via", " a:b")));
        assert_eq!(split_once_byte("é:ü", b':'), "é:ü".split_once(':'));
        assert_eq!(split_once_byte("none", b':'), None);
    }
}
