//! How a socket proves and keeps its identity: first-message `auth` and `initial`,
//! the close at token expiry, and `refresh`.

use std::time::Duration;

use actix::prelude::*;

use crate::auth::identity::{self, AuthState, Credential, Identity};
use crate::chat::close::Close;
use crate::chat::messages::*;
use crate::chat::protocol::ServerFrame;
use crate::domain::{ConversationId, UserId};
use crate::error::{AppError, DbContext};
use crate::service::membership::Position;

use super::{SocketIdentity, WsSession};

impl WsSession {
    /// Finishes authentication: tells the `ChatServer`, sends `ready`, joins a bound
    /// socket's room, and arms the close at the token's expiry.
    pub(super) fn authenticated(
        &mut self,
        identity: SocketIdentity,
        bound_position: Option<Position>,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        self.chat.server.do_send(Authenticated {
            socket: self.id,
            user_id: identity.user.id,
            login_session: identity.login_session.clone(),
        });
        self.arm_expiry(identity.token_expires_at, ctx);
        self.frame_limit.set(self.chat.parts.config.max_frame_bytes);
        let ready = ServerFrame::Ready {
            user: identity.user.clone(),
            session_id: self.id.to_string(),
            heartbeat_interval_ms: self.chat.parts.config.heartbeat_interval.as_millis() as u64,
            conversation_id: self.bound,
            reference,
        };
        self.identity = Some(identity);
        self.send(&ready, ctx);
        if let (Some(conversation_id), Some(position)) = (self.bound, bound_position) {
            self.chat.server.do_send(Join {
                socket: self.id,
                conversation_id,
                position,
                reference: None,
                silent: true,
            });
        }
    }

    /// Closes the socket with 4001 when its token expires, unless a `refresh` re-arms it.
    fn arm_expiry(&mut self, expires_at: Option<i64>, ctx: &mut Context<Self>) {
        if let Some(handle) = self.expiry.take() {
            ctx.cancel_future(handle);
        }
        if let Some(expires_at) = expires_at {
            let wait = (expires_at - chrono::Utc::now().timestamp()).max(0) as u64;
            self.expiry = Some(ctx.run_later(Duration::from_secs(wait), |act, ctx| {
                act.close(Close::CredentialEnded, "token expired", ctx);
            }));
        }
    }

    /// `initial`: `user_id` must be the identity proven by its token, or by the handshake.
    pub(super) fn on_initial(
        &mut self,
        user_id: UserId,
        conversation_id: Option<ConversationId>,
        token: Option<String>,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        match token {
            Some(token) => self.on_auth(&token, Some(user_id), conversation_id, reference, ctx),
            None => match &self.identity {
                Some(identity) if identity.user_id == user_id => match conversation_id {
                    Some(conversation_id) => self.join(conversation_id, reference, ctx),
                    None => self.send(
                        &ServerFrame::error("bad_request", "already authenticated", reference),
                        ctx,
                    ),
                },
                _ => self.close(
                    Close::PolicyViolation,
                    "user_id is not the proven identity",
                    ctx,
                ),
            },
        }
    }

    /// `auth`, or `initial` with a token: proves the identity (or, on an authenticated
    /// socket, checks it is the same one).
    pub(super) fn on_auth(
        &mut self,
        token: &str,
        claimed: Option<UserId>,
        conversation_id: Option<ConversationId>,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        self.prove(token, ctx, move |act, checked, ctx| match checked {
            AuthState::Proven(proven) => {
                act.on_proven(proven, claimed, conversation_id, reference, ctx)
            }
            AuthState::Unavailable => {
                let error = ServerFrame::error("unavailable", "try again shortly", reference);
                act.send(&error, ctx)
            }
            AuthState::Anonymous | AuthState::Invalid(_) => {
                act.close(Close::PolicyViolation, "authentication failed", ctx)
            }
        });
    }

    /// The rest of `auth`/`initial` once the token proved `proven`.
    fn on_proven(
        &mut self,
        proven: Identity,
        claimed: Option<UserId>,
        conversation_id: Option<ConversationId>,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        if claimed.is_some_and(|claimed| claimed != proven.user_id) {
            return self.close(
                Close::PolicyViolation,
                "user_id is not the proven identity",
                ctx,
            );
        }
        if let Some(current) = &self.identity {
            if current.user_id != proven.user_id {
                return self.close(
                    Close::PolicyViolation,
                    "another identity on an authenticated socket",
                    ctx,
                );
            }
            return match conversation_id {
                Some(conversation_id) => self.join(conversation_id, reference, ctx),
                None => self.send(
                    &ServerFrame::error("bad_request", "already authenticated", reference),
                    ctx,
                ),
            };
        }
        let chat = self.chat.clone();
        let bound = self.bound.and_then(ConversationId::new);
        let lookup = async move {
            let user = chat
                .parts
                .sessions
                .user(&chat.parts.service.db, proven.user_id)
                .await
                .context("reading the socket's user")?;
            // A bound socket joins its conversation: not a member is 4003, not an error.
            let joined = match (bound, &user) {
                (Some(conversation_id), Some(_)) => {
                    match chat
                        .parts
                        .service
                        .join(conversation_id, proven.user_id)
                        .await
                    {
                        Ok(position) => Some(Ok(position)),
                        Err(AppError::NotFound(_)) => Some(Err(())),
                        Err(e) => return Err(e),
                    }
                }
                _ => None,
            };
            Ok::<_, AppError>((user, joined, proven))
        };
        ctx.wait(lookup.into_actor(self).map(move |result, act, ctx| {
            let (user, joined, proven) = match result {
                Ok(found) => found,
                Err(e) => {
                    let cause = match &e {
                        AppError::Internal(cause) => format!("{cause:#}"),
                        other => other.to_string(),
                    };
                    log::error!("socket {} authentication failed: {cause}", act.id);
                    return act.close(Close::Internal, "database unavailable", ctx);
                }
            };
            let Some(user) = user else {
                return act.close(Close::PolicyViolation, "authentication failed", ctx);
            };
            if act.slot.assign(user.id).is_err() {
                return act.close(Close::TryAgainLater, "too many sockets for this user", ctx);
            }
            let position = match joined {
                Some(Err(())) => {
                    return act.close(Close::NotAMember, "not a member of this conversation", ctx)
                }
                Some(Ok(position)) => Some(position),
                None => None,
            };
            let identity = SocketIdentity {
                user,
                user_id: proven.user_id,
                login_session: proven.session_id,
                token_expires_at: Some(proven.expires_at),
            };
            act.authenticated(identity, position, reference.clone(), ctx);
            if let Some(conversation_id) = conversation_id {
                act.join(conversation_id, reference, ctx);
            }
        }));
    }

    /// Checks a token (signature, claims, a live session of its user) and goes on with
    /// what it proved; other frames wait meanwhile, so they keep their order.
    fn prove<F>(&mut self, token: &str, ctx: &mut Context<Self>, then: F)
    where
        F: FnOnce(&mut Self, AuthState, &mut Context<Self>) + 'static,
    {
        let chat = self.chat.clone();
        let token = token.to_string();
        let check = async move {
            identity::from_token(
                &chat.parts.tokens,
                &chat.parts.sessions,
                &chat.parts.service.db,
                &token,
                Credential::Bearer,
            )
            .await
        };
        ctx.wait(
            check
                .into_actor(self)
                .map(move |checked, act, ctx| then(act, checked, ctx)),
        );
    }

    /// `refresh`: a new token for the same user replaces the socket's credential.
    pub(super) fn refresh(
        &mut self,
        token: &str,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        self.prove(token, ctx, move |act, checked, ctx| match checked {
            AuthState::Proven(proven) => act.refreshed(proven, reference, ctx),
            AuthState::Unavailable => {
                let error = ServerFrame::error("unavailable", "try again shortly", reference);
                act.send(&error, ctx)
            }
            AuthState::Anonymous | AuthState::Invalid(_) => {
                let invalid = ServerFrame::error("unauthorized", "invalid token", reference);
                act.send(&invalid, ctx)
            }
        });
    }

    /// The rest of `refresh` once the new token proved `proven`.
    fn refreshed(&mut self, proven: Identity, reference: Option<String>, ctx: &mut Context<Self>) {
        let Some(identity) = self.identity.as_mut() else {
            return;
        };
        if proven.user_id != identity.user_id {
            return self.send(
                &ServerFrame::error("forbidden", "a token of another user", reference),
                ctx,
            );
        }
        identity.login_session = proven.session_id.clone();
        identity.token_expires_at = Some(proven.expires_at);
        self.chat.server.do_send(Authenticated {
            socket: self.id,
            user_id: proven.user_id.get(),
            login_session: proven.session_id,
        });
        self.arm_expiry(Some(proven.expires_at), ctx);
        let expires_at = chrono::DateTime::from_timestamp(proven.expires_at, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        self.send(
            &ServerFrame::Refreshed {
                expires_at,
                reference,
            },
            ctx,
        );
    }
}
