//! The close codes, one vocabulary for every place that ends a socket.
//!
//! | code | when |
//! | --- | --- |
//! | 1000 | normal close |
//! | 1001 | the server is shutting down (clients should reconnect) |
//! | 1002 | a protocol error (RFC 6455): a reserved bit set, an unknown opcode, a continuation without a start, a fragmented control frame |
//! | 1003 | a binary frame |
//! | 1007 | a text frame that is not UTF-8 |
//! | 1008 | authentication failed or timed out, or an `initial` whose `user_id` is not the proven identity |
//! | 1009 | a frame, or a message of continuation frames counted together, over `MAX_FRAME_BYTES` (4 KiB before authentication) |
//! | 1011 | an internal error the session cannot survive |
//! | 1013 | first-message authentication as a user who already holds `MAX_SOCKETS_PER_USER` sockets |
//! | 4000 | heartbeat timeout: nothing came back for `CLIENT_TIMEOUT_SECS` |
//! | 4001 | the socket's credential ended: its token expired without a `refresh`, or its session logged out |
//! | 4002 | slow consumer: the outbound queue passed `OUTBOUND_QUEUE_LIMIT` |
//! | 4003 | a bound socket's user is not, or is no longer, a member of its conversation |
//! | 4029 | rate limit exceeded repeatedly by this socket |

use actix_ws::CloseReason;

/// Why the server closes a socket; the discriminant is the close code on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Close {
    /// 1000: the client said goodbye.
    Normal = 1000,
    /// 1001: the server is shutting down.
    GoingAway = 1001,
    /// 1002: the frames broke RFC 6455.
    ProtocolError = 1002,
    /// 1003: a binary frame, which palaver does not speak.
    Unsupported = 1003,
    /// 1007: a text frame that is not UTF-8.
    InvalidPayload = 1007,
    /// 1008: authentication failed, timed out, or claimed another identity.
    PolicyViolation = 1008,
    /// 1009: a frame or message over the size limit.
    TooBig = 1009,
    /// 1011: an internal error the session cannot survive.
    Internal = 1011,
    /// 1013: the user already holds `MAX_SOCKETS_PER_USER` sockets.
    TryAgainLater = 1013,
    /// 4000: nothing came back for `CLIENT_TIMEOUT_SECS`.
    HeartbeatTimeout = 4000,
    /// 4001: the token expired or the login session logged out.
    CredentialEnded = 4001,
    /// 4002: the outbound queue passed `OUTBOUND_QUEUE_LIMIT`.
    SlowConsumer = 4002,
    /// 4003: a bound socket's user is not a member of its conversation.
    NotAMember = 4003,
    /// 4029: the socket kept sending past its rate limit.
    RateLimited = 4029,
}

impl Close {
    /// The code on the wire.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The close frame's payload, with `description` for people reading a trace.
    pub fn reason(self, description: &str) -> CloseReason {
        CloseReason {
            code: self.code().into(),
            description: Some(description.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_are_the_protocol_numbers() {
        assert_eq!(Close::ProtocolError.code(), 1002);
        assert_eq!(Close::RateLimited.code(), 4029);
        let reason = Close::TooBig.reason("frame too large");
        assert_eq!(u16::from(reason.code), 1009);
    }
}
