//! The origin policy: which browser pages may call the API and open a socket. The origin
//! of `PUBLIC_URL` is "same origin"; `ALLOWED_ORIGINS` adds more; development also trusts
//! local pages. CORS and the WebSocket `Origin` check both ask [`Config::origin_allowed`].

use super::parse::invalid;
use super::{Config, ConfigError};

impl Config {
    /// The origin (`scheme://host[:port]`) of `PUBLIC_URL`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Whether the server is reached over TLS: HSTS and `Secure` cookies follow from it.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Whether a browser page at `origin` may talk to this server (CORS and socket `Origin`).
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if origin == self.public_origin() || self.allowed_origins.iter().any(|o| o == origin) {
            return true;
        }
        self.allow_local_origins && is_local_http_origin(origin)
    }
}

/// `http://localhost` or `http://127.0.0.1`, with any port or none.
fn is_local_http_origin(origin: &str) -> bool {
    ["http://localhost", "http://127.0.0.1"].iter().any(|base| {
        origin.strip_prefix(base).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(':')
                    .is_some_and(|p| p.parse::<u16>().is_ok())
        })
    })
}

/// `PUBLIC_URL`: an `http://` or `https://` URL with a host.
pub(super) fn parse_public_url(raw: &str) -> Result<url::Url, ConfigError> {
    let url =
        url::Url::parse(raw.trim()).map_err(|e| invalid("PUBLIC_URL", format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            "PUBLIC_URL",
            format!("{raw:?}: expected http:// or https:// with a host"),
        ));
    }
    Ok(url)
}

/// `ALLOWED_ORIGINS`: a comma-separated list, each entry reduced to its origin.
pub(super) fn parse_allowed_origins(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    match raw {
        None => Ok(Vec::new()),
        Some(raw) => raw
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(parse_origin)
            .collect(),
    }
}

/// One entry of `ALLOWED_ORIGINS`; `*` is refused because cookies and tokens travel
/// cross-origin.
fn parse_origin(raw: &str) -> Result<String, ConfigError> {
    if raw == "*" {
        return Err(invalid(
            "ALLOWED_ORIGINS",
            "\"*\" is not allowed: credentials are sent cross-origin, list the origins",
        ));
    }
    let url =
        url::Url::parse(raw).map_err(|e| invalid("ALLOWED_ORIGINS", format!("{raw:?}: {e}")))?;
    let origin = url.origin();
    if !origin.is_tuple() || !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            "ALLOWED_ORIGINS",
            format!("{raw:?}: expected an http(s) origin"),
        ));
    }
    Ok(origin.ascii_serialization())
}
