//! Where each key comes from: `JWT_SECRET` and `SESSION_KEY` must be given, and strong, in
//! staging and production; elsewhere they are generated, and the session key derived from
//! the JWT secret. The two must never be the same key.

use std::path::Path;

use secrecy::{ExposeSecret, SecretSlice};

use super::dev_secrets::{dev_secret, random_secret};
use super::parse::{invalid, Vars};
use super::{AppEnv, ConfigError, DEV_SECRETS_FILE};

/// The smallest accepted key length for `JWT_SECRET` and `SESSION_KEY`.
pub(super) const MIN_SECRET_BYTES: usize = 32;

/// What the keys written into the repository's compose files begin with, so that a
/// deployment started from them in a strict mode refuses to run on keys anyone can read.
pub const DEV_ONLY_PREFIX: &str = "dev-only-";

/// A key given in `variable`, refused when shorter than [`MIN_SECRET_BYTES`], and in a
/// strict mode when it is one of the published development keys.
fn strong_secret(
    variable: &'static str,
    raw: String,
    strict: bool,
) -> Result<SecretSlice<u8>, ConfigError> {
    if strict && raw.starts_with(DEV_ONLY_PREFIX) {
        return Err(invalid(
            variable,
            "is a published development key: set a secret of your own in staging and production",
        ));
    }
    if raw.len() < MIN_SECRET_BYTES {
        return Err(invalid(
            variable,
            format!("must be at least {MIN_SECRET_BYTES} bytes"),
        ));
    }
    Ok(SecretSlice::from(raw.into_bytes()))
}

/// `JWT_SECRET` and `SESSION_KEY`: given in strict modes, otherwise generated (development
/// keeps its secret on disk, test draws one per process) and the session key derived.
pub(super) fn load_secrets(
    vars: &Vars<'_>,
    app_env: AppEnv,
    workdir: &Path,
    warnings: &mut Vec<String>,
) -> Result<(SecretSlice<u8>, SecretSlice<u8>), ConfigError> {
    let strict = app_env.is_strict();
    let jwt_secret = match vars.get("JWT_SECRET") {
        Some(raw) => strong_secret("JWT_SECRET", raw, strict)?,
        None if strict => {
            return Err(invalid(
                "JWT_SECRET",
                "required in staging and production (at least 32 bytes)",
            ))
        }
        None if app_env == AppEnv::Test => random_secret(),
        None => {
            warnings.push(format!(
                "JWT_SECRET is not set: using the development secret kept in {DEV_SECRETS_FILE}"
            ));
            dev_secret(&workdir.join(DEV_SECRETS_FILE)).map_err(|e| invalid("JWT_SECRET", e))?
        }
    };

    let session_key = match vars.get("SESSION_KEY") {
        Some(raw) => strong_secret("SESSION_KEY", raw, strict)?,
        None if strict => {
            return Err(invalid(
                "SESSION_KEY",
                "required in staging and production (at least 32 bytes)",
            ))
        }
        None => SecretSlice::from(
            actix_web::cookie::Key::derive_from(jwt_secret.expose_secret())
                .master()
                .to_vec(),
        ),
    };
    if session_key.expose_secret() == jwt_secret.expose_secret() {
        return Err(invalid("SESSION_KEY", "must differ from JWT_SECRET"));
    }
    Ok((jwt_secret, session_key))
}
