//! Queries on `users`.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::RunQueryDsl;

use super::models::{now, NewUser, User};
use super::schema::users;
use super::{Db, DbError};
use crate::with_conn;

/// Inserts a user; `None` when the username is taken.
pub async fn create(
    db: &Db,
    username: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<Option<User>, DbError> {
    let row = NewUser {
        username,
        display_name,
        password_hash,
        created_at: now(),
    };
    let mut conn = db.write().await?;
    let inserted = with_conn!(conn, |c| diesel::insert_into(users::table)
        .values(&row)
        .returning(User::as_returning())
        .get_result(c)
        .await);
    match inserted {
        Ok(user) => Ok(Some(user)),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The user with this (already lower-cased) username.
pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<User>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(c)
        .await
        .optional())?)
}

/// The user with this id.
pub async fn find(db: &Db, id: i64) -> Result<Option<User>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .first(c)
        .await
        .optional())?)
}

/// The users among these usernames that exist.
pub async fn find_by_usernames(db: &Db, usernames: &[String]) -> Result<Vec<User>, DbError> {
    if usernames.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| users::table
        .filter(users::username.eq_any(usernames))
        .select(User::as_select())
        .load(c)
        .await)?)
}

/// Up to `limit` users whose username starts with `prefix`, alphabetically.
pub async fn search_prefix(db: &Db, prefix: &str, limit: i64) -> Result<Vec<User>, DbError> {
    let escaped: String = prefix
        .chars()
        .flat_map(|ch| match ch {
            '%' | '_' | '\\' => vec!['\\', ch],
            _ => vec![ch],
        })
        .collect();
    let pattern = format!("{escaped}%");
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| users::table
        .filter(users::username.like(&pattern).escape('\\'))
        .order(users::username.asc())
        .limit(limit)
        .select(User::as_select())
        .load(c)
        .await)?)
}
