//! The one test of "is this a WebSocket upgrade?", used by every layer that treats
//! upgrades differently. Header values are compared as case-insensitive token lists, so
//! `Connection: keep-alive, Upgrade` and `Upgrade: WebSocket` are upgrades too.

use actix_web::http::header::{HeaderMap, CONNECTION, UPGRADE};

/// Whether the headers ask to switch this request to the WebSocket protocol.
pub fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    has_token(headers, &UPGRADE, "websocket") && has_token(headers, &CONNECTION, "upgrade")
}

fn has_token(headers: &HeaderMap, name: &actix_web::http::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).any(|value| {
        value
            .to_str()
            .map(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(upgrade: &'static str, connection: &'static str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(UPGRADE, HeaderValue::from_static(upgrade));
        map.insert(CONNECTION, HeaderValue::from_static(connection));
        map
    }

    #[test]
    fn mixed_case_and_token_lists_are_upgrades() {
        assert!(is_websocket_upgrade(&headers("websocket", "Upgrade")));
        assert!(is_websocket_upgrade(&headers(
            "WebSocket",
            "keep-alive, UPGRADE"
        )));
        assert!(is_websocket_upgrade(&headers("WEBSOCKET", "upgrade")));
    }

    #[test]
    fn other_requests_are_not_upgrades() {
        assert!(!is_websocket_upgrade(&headers("h2c", "Upgrade")));
        assert!(!is_websocket_upgrade(&headers("websocket", "keep-alive")));
        assert!(!is_websocket_upgrade(&HeaderMap::new()));
    }
}
