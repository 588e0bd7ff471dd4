//! The `auth-param` list of a challenge or credentials: `Digest a=b, c="d"`.

use super::DigestError;
use crate::scan::{is_token, split_outside, unquote};

/// Most parameters accepted in one header value.
const MAX_PARAMS: usize = 32;

/// A parsed `Digest` parameter list: names lower-cased, values unquoted.
pub(crate) struct AuthParams(Vec<(String, String)>);

impl AuthParams {
    /// Parses `Digest name=value, ...`; the scheme must be Digest.
    pub(crate) fn parse(value: &str) -> Result<AuthParams, DigestError> {
        let value = value.trim();
        let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::Scheme);
        }
        let mut params: Vec<(String, String)> = Vec::new();
        for part in split_outside(rest, ',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, v) = part.split_once('=').ok_or(DigestError::Syntax)?;
            let name = name.trim().to_ascii_lowercase();
            let v = v.trim();
            let bare_ok = v.starts_with('"') || v.chars().all(|c| c.is_ascii_graphic() && c != '"');
            if !is_token(&name) || v.is_empty() || !bare_ok {
                return Err(DigestError::Syntax);
            }
            if params.iter().any(|(n, _)| *n == name) {
                return Err(DigestError::Duplicate(name));
            }
            if params.len() == MAX_PARAMS {
                return Err(DigestError::Syntax);
            }
            params.push((name, unquote(v).map_err(|_| DigestError::Syntax)?));
        }
        Ok(AuthParams(params))
    }

    /// The unquoted value of `name` (lowercase).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or an error naming it.
    pub(crate) fn require(&self, name: &'static str) -> Result<String, DigestError> {
        self.get(name).map(str::to_owned).ok_or(DigestError::Missing(name))
    }
}
