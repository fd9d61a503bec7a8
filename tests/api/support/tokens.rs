//! Tokens of the tests' own making (docs/api.md): reading the claims of a token the server
//! issued, and signing ones with changed claims or another secret, so a suite can show
//! every claim is checked. [`KNOWN_SECRET`] is a secret a test hands the server on purpose.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

use super::app::{spawn_app_with, TestApp};
use super::fixtures::TestUser;

/// A `JWT_SECRET` a test gives the server, so it can sign tokens the server would accept.
pub const KNOWN_SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";

/// A server signing with [`KNOWN_SECRET`], and alice registered on it.
pub async fn app_with_known_secret() -> (TestApp, TestUser) {
    let app = spawn_app_with(&[("JWT_SECRET", KNOWN_SECRET)]).await;
    let alice = app.signup("alice").await;
    (app, alice)
}

/// Signs `claims` with `secret` and `algorithm`, whatever the claims say.
pub fn sign(claims: &Value, secret: &str, algorithm: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signing works")
}

/// The claims of a token signed with `secret`, read without judging them.
pub fn decode_claims(token: &str, secret: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .expect("the server's token decodes with its secret")
    .claims
}

/// The claims of a token the server issued, read with the server's own secret.
pub fn claims_of(app: &TestApp, token: &str) -> Value {
    decode_claims(token, app.jwt_secret())
}

/// Valid claims for `user`'s registration session, as the server would issue them (valid
/// ten minutes).
pub fn registration_claims(app: &TestApp, user: &TestUser) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": user.id.to_string(),
        "sid": claims_of(app, &user.token)["sid"],
        "iat": now,
        "exp": now + 600,
        "iss": "palaver",
        "aud": "palaver",
    })
}

/// A token for `user`'s registration session as the server would issue it, with `changes`
/// written over its claims; signed with `secret`.
pub fn token_signed_with(app: &TestApp, user: &TestUser, changes: &Value, secret: &str) -> String {
    let mut claims = registration_claims(app, user);
    for (name, value) in changes.as_object().expect("claim changes are an object") {
        claims[name] = value.clone();
    }
    sign(&claims, secret, Algorithm::HS256)
}

/// A token for `user` with `changes` over the usual claims, signed with the server's secret.
pub fn handmade_token(app: &TestApp, user: &TestUser, changes: &Value) -> String {
    token_signed_with(app, user, changes, app.jwt_secret())
}

/// Unpadded base64url, enough for hand-made tokens.
pub fn base64_url_nopad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
