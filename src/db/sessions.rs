//! Queries on `sessions`: one row per login, named by every cookie and token of it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::RngCore;

use super::models::{now, Session};
use super::schema::sessions;
use super::{Db, DbError};
use crate::with_conn;

/// Opens a login session for `user_id` that lasts `ttl`.
pub async fn create(db: &Db, user_id: i64, ttl: chrono::TimeDelta) -> Result<Session, DbError> {
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    let created_at = now();
    let row = Session {
        id: hex::encode(id),
        user_id,
        created_at,
        expires_at: created_at + ttl,
        revoked_at: None,
    };
    let mut conn = db.write().await?;
    with_conn!(conn, |c| diesel::insert_into(sessions::table)
        .values(&row)
        .execute(c)
        .await)?;
    Ok(row)
}

/// The session with this id, revoked or not.
pub async fn find(db: &Db, id: &str) -> Result<Option<Session>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| sessions::table
        .find(id)
        .select(Session::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Marks the session revoked; revoking twice keeps the first time.
pub async fn revoke(db: &Db, id: &str) -> Result<(), DbError> {
    let mut conn = db.write().await?;
    with_conn!(conn, |c| diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null())
    )
    .set(sessions::revoked_at.eq(Some(now())))
    .execute(c)
    .await)?;
    Ok(())
}

/// Ids of sessions revoked at or after `since`: what a node whose bus was down may have
/// missed.
pub async fn revoked_since(db: &Db, since: NaiveDateTime) -> Result<Vec<String>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| sessions::table
        .filter(sessions::revoked_at.ge(since))
        .select(sessions::id)
        .load(c)
        .await)?)
}

/// Ids of revoked sessions that have not expired yet: the only ones a credential could
/// still name.
pub async fn revoked_unexpired(db: &Db, at: NaiveDateTime) -> Result<Vec<String>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| sessions::table
        .filter(sessions::revoked_at.is_not_null())
        .filter(sessions::expires_at.gt(at))
        .select(sessions::id)
        .load(c)
        .await)?)
}
