//! Secrets outside the strict modes: development keeps one generated secret in
//! [`DEV_SECRETS_FILE`] so logins survive a restart, and test mode draws a fresh random one
//! per process. Staging and production never come here.
//!
//! The file is a key like an ssh key: it is created 0600, and one that other users could
//! read is refused rather than trusted, since anyone who read it could mint tokens.

use std::fs::File;
use std::io::{Read, Write};
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
    match File::open(path) {
        Ok(file) => read_dev_secret(path, file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_dev_secret(path),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The secret in an existing file, refused when the file is open to others or too short.
fn read_dev_secret(path: &Path, mut file: File) -> Result<SecretSlice<u8>, String> {
    refuse_loose_mode(path, &file)?;
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let secret = text.trim();
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "{} holds a secret shorter than {MIN_SECRET_BYTES} bytes: delete it",
            path.display()
        ));
    }
    Ok(SecretSlice::from(secret.as_bytes().to_vec()))
}

/// Refuses a file that group or other may read or write, checked on the open handle so
/// the file judged is the file read.
#[cfg(unix)]
fn refuse_loose_mode(path: &Path, file: &File) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;

    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} has mode {mode:04o}, open to other users: run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

/// Elsewhere there are no Unix mode bits to check.
#[cfg(not(unix))]
fn refuse_loose_mode(_path: &Path, _file: &File) -> Result<(), String> {
    Ok(())
}

/// A fresh secret in a new file, created 0600 so it is never readable by others.
fn create_dev_secret(path: &Path) -> Result<SecretSlice<u8>, String> {
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const SECRET: &str = "ssssssssssssssssssssssssssssssssssssssss";

    /// A secrets file in a fresh directory holding `contents` with `mode`.
    fn secrets_file(contents: &str, mode: u32) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(DEV_SECRETS_FILE);
        std::fs::write(&path, contents).expect("write the secrets file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        (dir, path)
    }

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_file_open_to_group_or_others_is_refused_naming_it_and_the_fix() {
        for mode in [0o644, 0o640, 0o604, 0o660, 0o606] {
            let (_dir, path) = secrets_file(SECRET, mode);

            let error = dev_secret(&path).expect_err("a loose file is refused");

            assert!(error.contains(&path.display().to_string()), "{error}");
            assert!(error.contains("chmod 600"), "{error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn a_0600_file_is_used() {
        let (_dir, path) = secrets_file(&format!("{SECRET}\n"), 0o600);

        let secret = dev_secret(&path).expect("a private file is read");

        assert_eq!(secret.expose_secret(), SECRET.as_bytes());
    }

    #[test]
    fn a_short_secret_in_a_0600_file_is_refused() {
        let (_dir, path) = secrets_file("too short\n", 0o600);

        let error = dev_secret(&path).expect_err("a short secret is refused");

        assert!(error.contains("shorter than 32 bytes"), "{error}");
    }

    #[test]
    fn a_fresh_file_is_created_0600_and_read_back_on_the_next_start() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(DEV_SECRETS_FILE);

        let created = dev_secret(&path).expect("the file is created");
        let reread = dev_secret(&path).expect("the file is reused");

        assert_eq!(mode_of(&path), 0o600);
        assert!(created.expose_secret().len() >= MIN_SECRET_BYTES);
        assert_eq!(created.expose_secret(), reread.expose_secret());
    }
}
