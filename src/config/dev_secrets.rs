//! Secrets outside the strict modes: development keeps one generated secret in
//! [`DEV_SECRETS_FILE`] so logins survive a restart, and test mode draws a fresh random one
//! per process. Staging and production never come here.

use std::io::Write;
use std::path::Path;

use rand::RngCore;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretSlice};

use super::secrets::MIN_SECRET_BYTES;

/// Where the development secret is kept between runs, relative to the working directory.
pub const DEV_SECRETS_FILE: &str = ".palaver-dev-secrets";

/// 64 random bytes, hex-encoded so the file stays printable.
pub(super) fn random_secret() -> SecretSlice<u8> {
    let mut bytes = Zeroizing::new([0u8; 64]);
    rand::rng().fill_bytes(&mut bytes[..]);
    SecretSlice::from(hex::encode(&bytes[..]).into_bytes())
}

/// Reads the development secret, creating it (mode 0600) on first start.
pub(super) fn dev_secret(path: &Path) -> Result<SecretSlice<u8>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            let secret = text.trim().to_string();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "{} holds a secret shorter than 32 bytes: delete it",
                    path.display()
                ));
            }
            Ok(SecretSlice::from(secret.into_bytes()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = random_secret();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            file.write_all(secret.expose_secret())
                .and_then(|_| file.write_all(b"\n"))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(secret)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}
