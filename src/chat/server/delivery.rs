//! Messages to their rooms, in `seq` order (see `chat::ordering`).

use actix::prelude::*;

use super::ChatServer;
use crate::chat::ordering::{Offer, GAP_WAIT};
use crate::chat::protocol::ServerFrame;
use crate::db::models::MessageView;
use crate::live::Origin;

impl ChatServer {
    /// arrive (see `ordering`).
    pub(super) fn message_created(
        &mut self,
        message: MessageView,
        origin: Option<Origin>,
        ctx: &mut Context<Self>,
    ) {
        let conversation_id = message.conversation_id;
        match self
            .order
            .offer(conversation_id, message.seq, (message, origin))
        {
            Offer::Deliver(ready) => {
                for (message, origin) in ready {
                    self.deliver_message(message, origin);
                }
                if !self.order.is_waiting(conversation_id) {
                    if let Some(timer) = self.gap_timers.remove(&conversation_id) {
                        ctx.cancel_future(timer);
                    }
                }
            }
            Offer::Held => {
                self.metrics.reorder_wait();
                self.gap_timers.entry(conversation_id).or_insert_with(|| {
                    ctx.run_later(GAP_WAIT, move |act, _| {
                        act.gap_timers.remove(&conversation_id);
                        for (message, origin) in act.order.give_up(conversation_id) {
                            act.deliver_message(message, origin);
                        }
                    })
                });
            }
            Offer::Late((message, origin)) => {
                // The room moved past it; its sender still needs the acknowledgement.
                log::debug!(
                    "message {} of conversation {conversation_id} arrived after its successors",
                    message.id
                );
                if let Some(origin) = origin {
                    self.ack(&message, origin);
                }
            }
        }
    }

    pub(super) fn ack(&self, message: &MessageView, origin: Origin) {
        let ack = ServerFrame::Ack {
            client_msg_id: message.client_msg_id.clone(),
            message: message.clone(),
            reference: origin.reference,
        };
        self.push(origin.socket, &ack.encode());
    }

    /// `ack` to the socket it came from, `message` to every other socket in the room.
    pub(super) fn deliver_message(&mut self, message: MessageView, origin: Option<Origin>) {
        let origin_socket = origin.as_ref().map(|o| o.socket);
        if let Some(origin) = origin {
            self.ack(&message, origin);
        }
        let conversation_id = message.conversation_id;
        let sent = self.to_room(
            conversation_id,
            &ServerFrame::Message { message },
            origin_socket,
        );
        self.messages_routed += 1;
        self.metrics.messages_delivered(sent);
    }
}
