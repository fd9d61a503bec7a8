//! Connection slots: the handshake takes one before it accepts a socket, so the
//! `MAX_SOCKETS_PER_USER` and `MAX_CONNECTIONS` limits hold even when handshakes race.
//! A slot is given back when its guard drops with the socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why no slot was free.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotRefused {
    /// The user holds `MAX_SOCKETS_PER_USER` sockets: 429 (1013 after first-message auth).
    UserFull,
    /// The server holds `MAX_CONNECTIONS` sockets: 503.
    ServerFull,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_user: HashMap<i64, usize>,
}

/// The live socket counts.
#[derive(Clone)]
pub struct Slots {
    per_user_limit: usize,
    total_limit: usize,
    counts: Arc<Mutex<Counts>>,
}

impl Slots {
    pub fn new(per_user_limit: usize, total_limit: usize) -> Self {
        Slots {
            per_user_limit,
            total_limit,
            counts: Arc::default(),
        }
    }

    /// A slot for a socket not yet authenticated (first-message mode).
    pub fn acquire_anonymous(&self) -> Result<SlotGuard, SlotRefused> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.total >= self.total_limit {
            return Err(SlotRefused::ServerFull);
        }
        counts.total += 1;
        Ok(SlotGuard {
            slots: self.clone(),
            user_id: None,
        })
    }

    /// A slot for `user_id`'s socket.
    pub fn acquire(&self, user_id: i64) -> Result<SlotGuard, SlotRefused> {
        let mut guard = self.acquire_anonymous()?;
        guard.assign(user_id)?;
        Ok(guard)
    }

    /// Open sockets, and how many of them are authenticated.
    pub fn counts(&self) -> (usize, usize) {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        (counts.total, counts.per_user.values().sum())
    }
}

/// One held slot; dropping it frees it.
pub struct SlotGuard {
    slots: Slots,
    user_id: Option<i64>,
}

impl SlotGuard {
    /// Charges this (anonymous) slot to `user_id` once the socket has authenticated.
    pub fn assign(&mut self, user_id: i64) -> Result<(), SlotRefused> {
        if self.user_id.is_some() {
            return Ok(());
        }
        let mut counts = self.slots.counts.lock().unwrap_or_else(|p| p.into_inner());
        let held = counts.per_user.entry(user_id).or_default();
        if *held >= self.slots.per_user_limit {
            return Err(SlotRefused::UserFull);
        }
        *held += 1;
        self.user_id = Some(user_id);
        Ok(())
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut counts = self.slots.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(user_id) = self.user_id {
            if let Some(held) = counts.per_user.get_mut(&user_id) {
                *held -= 1;
                if *held == 0 {
                    counts.per_user.remove(&user_id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_and_slots_come_back() {
        let slots = Slots::new(1, 2);
        let a = slots.acquire(7).unwrap();
        assert_eq!(slots.acquire(7).err(), Some(SlotRefused::UserFull));
        let _b = slots.acquire(8).unwrap();
        assert_eq!(slots.acquire(9).err(), Some(SlotRefused::ServerFull));
        drop(a);
        assert!(slots.acquire(7).is_ok());
    }
}
