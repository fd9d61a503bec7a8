//! What an authenticated socket asks for: join, leave, typing, messages, read markers
//! and history.

use actix::prelude::*;

use crate::chat::messages::*;
use crate::chat::protocol::{ClientFrame, ServerFrame};
use crate::db;
use crate::db::models::MessageView;
use crate::error::AppError;
use crate::live::{LiveEvent, Origin};
use crate::routes::conversations::{read_marker_target, require_membership};
use crate::routes::messages::{member_page, page_cursor, store_message};

use super::WsSession;

impl WsSession {
    /// `join`: membership is checked in the database, then the `ChatServer` adds the socket.
    pub(super) fn join(
        &mut self,
        conversation_id: i64,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let Some(user_id) = self.identity.as_ref().map(|i| i.user.id) else {
            return;
        };
        let state = self.state.clone();
        let check = async move {
            require_membership(&state.db, conversation_id, user_id).await?;
            Ok::<_, AppError>(db::messages::last_id(&state.db, conversation_id).await?)
        };
        ctx.wait(
            check
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(last_message_id) => act.state.chat.server.do_send(Join {
                        socket: act.id,
                        conversation_id,
                        last_message_id,
                        reference,
                        silent: false,
                    }),
                    Err(e) => act.error(&e, reference, ctx),
                }),
        );
    }

    /// Frames of an authenticated socket.
    pub(super) fn on_frame(&mut self, frame: ClientFrame, ctx: &mut Context<Self>) {
        let Some(identity) = self.identity.clone() else {
            return;
        };
        let user_id = identity.user.id;
        let state = self.state.clone();
        match frame {
            ClientFrame::Join {
                conversation_id,
                reference,
            } => self.join(conversation_id, reference, ctx),
            ClientFrame::Leave {
                conversation_id,
                reference,
            } => self.state.chat.server.do_send(Leave {
                socket: self.id,
                conversation_id,
                reference,
            }),
            ClientFrame::Typing {
                conversation_id,
                reference,
            } => self.state.chat.server.do_send(Typing {
                socket: self.id,
                conversation_id,
                reference,
            }),
            ClientFrame::Message {
                conversation_id,
                content,
                client_msg_id,
                reference,
            } => {
                let origin = Origin {
                    socket: self.id,
                    reference: reference.clone(),
                };
                let store = async move {
                    store_message(
                        &state,
                        user_id,
                        conversation_id,
                        &content,
                        client_msg_id.as_deref(),
                        Some(origin),
                    )
                    .await
                };
                ctx.wait(
                    store
                        .into_actor(self)
                        .map(move |result, act, ctx| match result {
                            // A new message is acknowledged by the ChatServer, in order with the
                            // others; a repeated client_msg_id gets the original, delivered nowhere else.
                            Ok((_, true)) => {}
                            Ok((message, false)) => {
                                let message = MessageView::from(message);
                                let ack = ServerFrame::Ack {
                                    client_msg_id: message.client_msg_id.clone(),
                                    message,
                                    reference,
                                };
                                act.send(&ack, ctx);
                            }
                            Err(e) => act.error(&e, reference, ctx),
                        }),
                );
            }
            ClientFrame::Read {
                conversation_id,
                message_id,
                reference,
            } => {
                let socket = self.id;
                let mark = async move {
                    require_membership(&state.db, conversation_id, user_id).await?;
                    read_marker_target(&state.db, conversation_id, message_id).await?;
                    db::conversations::mark_read(&state.db, conversation_id, user_id, message_id)
                        .await?;
                    state.live.publish(LiveEvent::Read {
                        conversation_id,
                        user_id,
                        message_id,
                        origin: Some(socket),
                    });
                    Ok::<_, AppError>(())
                };
                ctx.wait(mark.into_actor(self).map(move |result, act, ctx| {
                    if let Err(e) = result {
                        act.error(&e, reference, ctx);
                    }
                }));
            }
            ClientFrame::History {
                conversation_id,
                before,
                after,
                limit,
                reference,
            } => {
                let fetch = async move {
                    let requested = page_cursor(before, after, limit);
                    member_page(&state.db, conversation_id, user_id, requested).await
                };
                ctx.wait(
                    fetch
                        .into_actor(self)
                        .map(move |result, act, ctx| match result {
                            Ok((messages, has_more)) => {
                                let history = ServerFrame::History {
                                    conversation_id,
                                    messages: messages.into_iter().map(MessageView::from).collect(),
                                    has_more,
                                    reference,
                                };
                                act.send(&history, ctx);
                            }
                            Err(e) => act.error(&e, reference, ctx),
                        }),
                );
            }
            ClientFrame::Refresh { token, reference } => self.refresh(&token, reference, ctx),
            ClientFrame::Ping { .. } | ClientFrame::Auth { .. } | ClientFrame::Initial { .. } => {}
        }
    }
}
