//! What is known of login sessions, kept in memory so checking a credential costs no query
//! once its session is known. A credential is proven only by a live `sessions` row: the
//! cache remembers, per session id, whether it is live (and whose, until when), revoked,
//! or names no row at all. A session id it has never seen is looked up once; logout and
//! the cluster bus mark sessions revoked. The cache is bounded: when full it forgets the
//! entries it holds, which only costs the next credentials one query each.
//!
//! A revocation made on another node reaches this one over the cluster bus. While the bus
//! is down this node cannot be sure it has heard of every logout, so it stops trusting its
//! "live" entries ([`SessionCache::distrust`]) and asks the database for each credential
//! until the bus is back and the revocations made meanwhile were re-read: a logout is
//! never weaker than on one node, only its cost changes.
//!
//! It also remembers users by id (their public view): a socket's handshake needs the
//! user it proves, and no path changes a user once registered, so a remembered user is
//! exact and a handshake of a known session and user costs no query at all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::db::models::UserView;
use crate::db::{self, Db, DbError};
use crate::domain::UserId;

/// Most sessions remembered at once.
const CAPACITY: usize = 100_000;

/// The state of one login session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// A live row: its user, and its end in Unix seconds.
    Live {
        /// Whose login it is.
        user_id: UserId,
        /// When it ends, in Unix seconds.
        expires_at: i64,
    },
    /// Logged out: every credential of it is refused.
    Revoked,
    /// No such row: a credential naming it proves nothing.
    Unknown,
}

/// The sessions this process knows, shared by every worker and socket.
#[derive(Clone, Default)]
pub struct SessionCache {
    known: Arc<RwLock<HashMap<String, SessionStatus>>>,
    /// Set while this node may have missed revocations made elsewhere.
    doubtful: Arc<AtomicBool>,
    /// Users by id, as registered (they never change).
    users: Arc<RwLock<HashMap<i64, UserView>>>,
}

impl SessionCache {
    /// A cache that starts out knowing these revoked sessions (loaded at start).
    pub fn with_revoked(ids: impl IntoIterator<Item = String>) -> Self {
        let known = ids
            .into_iter()
            .map(|id| (id, SessionStatus::Revoked))
            .collect();
        SessionCache {
            known: Arc::new(RwLock::new(known)),
            doubtful: Arc::default(),
            users: Arc::default(),
        }
    }

    /// From now on, "live" entries are checked against the database (the bus is down).
    pub fn distrust(&self) {
        self.doubtful.store(true, Ordering::Relaxed);
    }

    /// Every revocation is known again (the bus is back and caught up).
    pub fn trust(&self) {
        self.doubtful.store(false, Ordering::Relaxed);
    }

    /// The session's state, from memory or, the first time, from the database.
    pub async fn status(&self, db: &Db, session_id: &str) -> Result<SessionStatus, DbError> {
        match self.known(session_id) {
            // Revoked and unknown are final; live is only as sure as the bus.
            Some(SessionStatus::Live { .. }) if self.doubtful.load(Ordering::Relaxed) => {}
            Some(known) => return Ok(known),
            None => {}
        }
        let status = match db::sessions::find(db, session_id).await? {
            None => SessionStatus::Unknown,
            Some(row) if row.revoked_at.is_some() => SessionStatus::Revoked,
            Some(row) => match UserId::new(row.user_id) {
                Some(user_id) => SessionStatus::Live {
                    user_id,
                    expires_at: row.expires_at.and_utc().timestamp(),
                },
                None => SessionStatus::Unknown,
            },
        };
        self.remember(session_id.to_string(), status);
        Ok(status)
    }

    /// The user with this id, from memory or, the first time, from the database; `None`
    /// when no such user exists (which is not remembered: it proves nothing).
    pub async fn user(&self, db: &Db, id: UserId) -> Result<Option<UserView>, DbError> {
        let remembered = self
            .users
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(&id.get())
            .cloned();
        if let Some(user) = remembered {
            return Ok(Some(user));
        }
        let Some(user) = db::users::find(db, id.get()).await? else {
            return Ok(None);
        };
        let user = UserView::from(user);
        let mut users = self
            .users
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if users.len() >= CAPACITY {
            users.clear();
        }
        users.insert(user.id, user.clone());
        Ok(Some(user))
    }

    /// What memory holds of the session, if anything.
    pub fn known(&self, session_id: &str) -> Option<SessionStatus> {
        self.known
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(session_id)
            .copied()
    }

    /// Records a logout, here or on another node.
    pub fn revoke(&self, session_id: String) {
        self.remember(session_id, SessionStatus::Revoked);
    }

    /// Records a session just opened, so its first credential costs no query.
    pub fn opened(&self, session_id: String, user_id: UserId, expires_at: i64) {
        self.remember(
            session_id,
            SessionStatus::Live {
                user_id,
                expires_at,
            },
        );
    }

    fn remember(&self, session_id: String, status: SessionStatus) {
        let mut known = self
            .known
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        // Revoked is final: a lookup that raced a logout must not bring the session back.
        if known.get(&session_id) == Some(&SessionStatus::Revoked) {
            return;
        }
        if known.len() >= CAPACITY && !known.contains_key(&session_id) {
            // A forgotten session is looked up again: correct, only one query dearer.
            known.clear();
        }
        known.insert(session_id, status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_session_stays_revoked_and_a_new_one_is_live() {
        let cache = SessionCache::with_revoked(["gone".to_string()]);
        let alice = UserId::new(7).expect("positive");

        cache.opened("fresh".into(), alice, 100);
        cache.revoke("fresh-later".into());

        assert_eq!(cache.known("gone"), Some(SessionStatus::Revoked));
        assert_eq!(
            cache.known("fresh"),
            Some(SessionStatus::Live {
                user_id: alice,
                expires_at: 100
            })
        );
        assert_eq!(cache.known("fresh-later"), Some(SessionStatus::Revoked));
        assert_eq!(cache.known("never-seen"), None);
    }

    #[test]
    fn a_lookup_that_raced_a_logout_does_not_bring_the_session_back() {
        let cache = SessionCache::default();
        cache.revoke("s".into());

        cache.opened("s".into(), UserId::new(1).expect("positive"), 100);

        assert_eq!(cache.known("s"), Some(SessionStatus::Revoked));
    }
}
