//! What an authenticated socket asks for: join, leave, typing, messages, read markers and
//! history. Each frame becomes one call into the service layer, the same call the HTTP
//! handler makes, and its answer (or refusal) goes back as a frame with the frame's `ref`.

use actix::prelude::*;

use crate::chat::messages::*;
use crate::chat::protocol::{self, ClientFrame, ServerFrame};
use crate::db::models::MessageView;
use crate::domain::{ConversationId, UserId};
use crate::live::Origin;
use crate::service::{PageRequest, Sent};

use super::WsSession;

impl WsSession {
    /// A text frame of the chat protocol: size before authentication, parse, rate limit,
    /// then what it asks for.
    pub(super) fn on_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        // Sizes were checked by the frame guard, before the frame was read.
        let authenticated = self.identity.is_some();
        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(malformed) => {
                return self.send(
                    &ServerFrame::error("bad_request", malformed.message, malformed.reference),
                    ctx,
                );
            }
        };
        let is_message = matches!(frame, ClientFrame::Message { .. });
        if !self.within_rate(is_message, frame.reference().cloned(), ctx) {
            return;
        }
        match (authenticated, frame) {
            (_, ClientFrame::Ping { reference }) => {
                self.send(&ServerFrame::Pong { reference }, ctx)
            }
            (_, ClientFrame::Auth { token, reference }) => {
                self.on_auth(&token, None, None, reference, ctx)
            }
            (
                _,
                ClientFrame::Initial {
                    user_id,
                    conversation_id,
                    token,
                    reference,
                },
            ) => self.on_initial(user_id, conversation_id, token, reference, ctx),
            (false, other) => {
                let message = "authenticate first with auth or initial";
                self.send(
                    &ServerFrame::error("unauthenticated", message, other.reference().cloned()),
                    ctx,
                )
            }
            (true, frame) => self.on_frame(frame, ctx),
        }
    }

    /// `join`: membership is checked in the database, then the `ChatServer` adds the socket.
    pub(super) fn join(
        &mut self,
        conversation_id: ConversationId,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let Some(user_id) = self.user_id() else {
            return;
        };
        let chat = self.chat.clone();
        let check = async move { chat.parts.service.join(conversation_id, user_id).await };
        ctx.wait(
            check
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(position) => act.chat.server.do_send(Join {
                        socket: act.id,
                        conversation_id: conversation_id.get(),
                        position,
                        reference,
                        silent: false,
                    }),
                    Err(e) => act.error(&e, reference, ctx),
                }),
        );
    }

    /// The proven user, once authenticated.
    fn user_id(&self) -> Option<UserId> {
        self.identity.as_ref().map(|i| i.user_id)
    }

    /// Frames of an authenticated socket.
    fn on_frame(&mut self, frame: ClientFrame, ctx: &mut Context<Self>) {
        let Some(user_id) = self.user_id() else {
            return;
        };
        let chat = self.chat.clone();
        match frame {
            ClientFrame::Join {
                conversation_id,
                reference,
            } => self.join(conversation_id, reference, ctx),
            ClientFrame::Leave {
                conversation_id,
                reference,
            } => self.chat.server.do_send(Leave {
                socket: self.id,
                conversation_id: conversation_id.get(),
                reference,
            }),
            ClientFrame::Typing {
                conversation_id,
                reference,
            } => self.chat.server.do_send(Typing {
                socket: self.id,
                conversation_id: conversation_id.get(),
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
                    chat.parts
                        .service
                        .send(
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
                            Ok(Sent::Created(_)) => {}
                            Ok(Sent::Repeated(message)) => {
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
                    chat.parts
                        .service
                        .mark_read(conversation_id, user_id, message_id, Some(socket))
                        .await
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
                around,
                limit,
                reference,
            } => {
                let fetch = async move {
                    let requested = PageRequest::with_around(before, after, around, limit);
                    chat.parts
                        .service
                        .history_page(conversation_id, user_id, requested)
                        .await
                };
                ctx.wait(
                    fetch
                        .into_actor(self)
                        .map(move |result, act, ctx| match result {
                            Ok(page) => {
                                let history = ServerFrame::History {
                                    conversation_id: conversation_id.get(),
                                    messages: page
                                        .messages
                                        .into_iter()
                                        .map(MessageView::from)
                                        .collect(),
                                    has_more: page.has_more,
                                    has_more_before: page.sides.map(|s| s.has_more_before),
                                    has_more_after: page.sides.map(|s| s.has_more_after),
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
