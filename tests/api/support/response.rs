//! [`TestResponse`], a whole HTTP answer read into memory, and the assertions every suite
//! makes about answers: the JSON error body, its headers, its time format.

use actix_web::web::Bytes;
use awc::cookie::Cookie;
use awc::http::header::HeaderMap;
use awc::http::StatusCode;
use serde_json::Value;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "palaver_session";

/// A complete HTTP answer: status, headers, cookies and body.
#[derive(Debug)]
pub struct TestResponse {
    /// The status line's code.
    pub status: StatusCode,
    /// Every header, as sent.
    pub headers: HeaderMap,
    /// The cookies the answer sets.
    pub cookies: Vec<Cookie<'static>>,
    /// The whole body.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as JSON; panics with the body text when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text, for messages and non-JSON answers.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of header `name`, when present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header value is text"))
    }

    /// The cookie `name` the answer sets, when it sets one.
    pub fn cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.cookies.iter().find(|c| c.name() == name).cloned()
    }

    /// The `palaver_session` cookie as a browser would send it back.
    pub fn session_cookie(&self) -> Cookie<'static> {
        let cookie = self
            .cookie(SESSION_COOKIE)
            .expect("the response sets palaver_session");
        Cookie::new(SESSION_COOKIE, cookie.value().to_string())
    }

    /// `error.code` of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .expect("an error body with a code")
            .to_string()
    }

    /// `error.message` of a JSON error body.
    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .expect("an error body with a message")
            .to_string()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.text()
        );
    }

    /// Asserts `400 bad_request` with a message naming `field`, as every refused value gets.
    #[track_caller]
    pub fn assert_bad_request_naming(&self, field: &str) {
        self.assert_error(400, "bad_request");
        assert!(
            self.error_message().contains(field),
            "the 400 names {field}: {}",
            self.text()
        );
    }

    /// Asserts the status and the JSON error body with its code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        self.assert_status(status);
        assert_json_content_type(self);
        assert_eq!(self.error_code(), code, "body: {}", self.text());
        assert!(
            !self.error_message().is_empty(),
            "an error message is given"
        );
    }
}

/// Asserts `Content-Type: application/json`.
#[track_caller]
pub fn assert_json_content_type(response: &TestResponse) {
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}; body: {}",
        response.text()
    );
}

/// The fixed security headers every HTTP answer carries (middleware layer 2).
pub const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
];

/// Asserts the security headers and a content security policy without inline script.
#[track_caller]
pub fn assert_security_headers(response: &TestResponse) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            response.header(name),
            Some(value),
            "{name} on a {} answer",
            response.status
        );
    }
    let csp = response
        .header("content-security-policy")
        .unwrap_or_default();
    assert!(
        csp.contains("default-src"),
        "content-security-policy on a {} answer: {csp:?}",
        response.status
    );
    assert!(!csp.contains("unsafe-inline"), "no inline script: {csp}");
}

/// Whether `value` is an RFC 3339 UTC time with milliseconds, as the API writes times.
pub fn is_rfc3339_utc_millis(value: &serde_json::Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let fraction = text.rsplit('.').next().unwrap_or_default();
    chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z') && fraction.len() == 4
}
