//! Revoked login sessions, kept in memory so checking a credential costs no query:
//! loaded at start, added to on logout.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// The set of revoked session ids, shared by every worker.
#[derive(Clone, Default)]
pub struct RevokedSessions(Arc<RwLock<HashSet<String>>>);

impl RevokedSessions {
    /// The set loaded at start from the sessions revoked and not yet expired.
    pub fn from_ids(ids: impl IntoIterator<Item = String>) -> Self {
        RevokedSessions(Arc::new(RwLock::new(ids.into_iter().collect())))
    }

    /// Whether a credential of this session must be refused.
    pub fn contains(&self, session_id: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .contains(session_id)
    }

    /// Records a logout, here or on another node.
    pub fn insert(&self, session_id: String) {
        self.0
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(session_id);
    }
}
