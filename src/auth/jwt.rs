//! HS256 tokens. Every token names its login session (`sid`), so revoking the session
//! revokes the token; `sub`, `sid`, `iat`, `exp`, `iss` and `aud` are all required.

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::domain::UserId;

/// Clock leeway when checking `exp` and `nbf`.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
}

/// What a valid token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `sub`.
    pub user_id: UserId,
    /// `sid`: the login session.
    pub session_id: String,
    /// `exp`, in Unix seconds.
    pub expires_at: i64,
}

/// Why a token was refused; each becomes `401` (and a metrics label).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// Any other fault: signature, algorithm, claims, shape.
    #[error("invalid token")]
    Invalid,
}

impl TokenError {
    /// The label for logs and the auth-rejection metric.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::Expired => "expired_token",
            TokenError::Invalid => "invalid_token",
        }
    }
}

/// Issues and verifies tokens with the one `JWT_SECRET`.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: chrono::TimeDelta,
}

impl Tokens {
    /// Keys and validation rules from the configuration, built once.
    pub fn new(config: &Config) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["sub", "iat", "exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Tokens {
            encoding: EncodingKey::from_secret(config.jwt_secret.expose_secret()),
            decoding: DecodingKey::from_secret(config.jwt_secret.expose_secret()),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl: chrono::TimeDelta::from_std(config.jwt_ttl).unwrap_or(chrono::TimeDelta::hours(1)),
        }
    }

    /// A token for `user_id` in session `session_id`, valid for `JWT_TTL_SECS` but never
    /// past the session's own end.
    pub fn issue(
        &self,
        user_id: i64,
        session_id: &str,
        session_expires: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires = (now + self.ttl).min(session_expires);
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            nbf: None,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        let expires = DateTime::from_timestamp(expires.timestamp(), 0).unwrap_or(expires);
        Ok((token, expires))
    }

    /// Checks signature, algorithm, `exp`/`nbf` (5 s leeway), `iss`, `aud`, and the shape
    /// of `sub` and `sid`.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        let claims = data.claims;
        let user_id = UserId::parse("sub", &claims.sub).map_err(|_| TokenError::Invalid)?;
        if claims.sid.is_empty() {
            return Err(TokenError::Invalid);
        }
        // A token cannot have been issued in the future (beyond the clock leeway).
        if claims.iat > Utc::now().timestamp() + LEEWAY_SECS as i64 {
            return Err(TokenError::Invalid);
        }
        Ok(VerifiedToken {
            user_id,
            session_id: claims.sid,
            expires_at: claims.exp,
        })
    }
}
