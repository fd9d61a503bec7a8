//! argon2id password hashing. Both functions are CPU-heavy on purpose: call them through
//! `web::block` so they never stall an async worker.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// Hashes with argon2id and a fresh salt, in PHC string form.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Checks `password` against `stored`; with no stored hash (unknown user) it still does
/// the same work against a fixed hash, so timing does not reveal which usernames exist.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Z4o0S9Mv0VNsOqf7qZ3aW0R1qv0Fh1s8mQ8Ho6Qm2rA";
    let target = stored.unwrap_or(DECOY);
    let ok = PasswordHash::new(target)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let stored = hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", Some(&stored)));
        assert!(!verify("wrong horse", Some(&stored)));
        assert!(!verify("correct horse", None));
    }
}
