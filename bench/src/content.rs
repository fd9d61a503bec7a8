//! The content of a benchmark message: `b|SENDER|COUNTER|MICROS` with an optional
//! `|xxx…` padding. Everything a receiver needs to count the delivery travels in the
//! message itself (who sent it, its place in that sender's stream, when it left), so the
//! receiving side keeps no table of messages in flight. Anything else is foreign and is
//! not counted.

/// What a benchmark message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The run-wide index of the sending socket.
    pub sender: u32,
    /// The sender's own counter: 0, 1, 2, ...
    pub counter: u64,
    /// When it was sent, in µs since the run's start.
    pub sent_us: u64,
}

/// The content for `tag`, padded with `padding` extra `x` characters (plus a separator)
/// when non-zero.
pub fn encode(tag: Tag, padding: usize) -> String {
    let mut content = format!("b|{}|{}|{}", tag.sender, tag.counter, tag.sent_us);
    if padding > 0 {
        content.push('|');
        content.extend(std::iter::repeat_n('x', padding));
    }
    content
}

/// The tag of a benchmark message, or `None` for any other content.
pub fn decode(content: &str) -> Option<Tag> {
    let rest = content.strip_prefix("b|")?;
    let mut parts = rest.splitn(4, '|');
    let sender = number(parts.next()?)?;
    let counter = number(parts.next()?)?;
    let sent_us = number(parts.next()?)?;
    if let Some(padding) = parts.next() {
        if padding.is_empty() || !padding.bytes().all(|b| b == b'x') {
            return None;
        }
    }
    Some(Tag {
        sender: u32::try_from(sender).ok()?,
        counter,
        sent_us,
    })
}

/// A decimal made of digits only (`parse` alone would take a leading `+`).
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The `client_msg_id` of a message: unique in the run, since it names the sender socket
/// and its counter.
pub fn client_msg_id(sender: u32, counter: u64) -> String {
    format!("s{sender}-{counter}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_survives_the_round_trip() {
        let tag = Tag {
            sender: 3,
            counter: 1042,
            sent_us: 1_234_567,
        };
        assert_eq!(encode(tag, 0), "b|3|1042|1234567");
        assert_eq!(decode(&encode(tag, 0)), Some(tag));
        let padded = encode(tag, 100);
        assert_eq!(padded.len(), "b|3|1042|1234567".len() + 101);
        assert_eq!(decode(&padded), Some(tag));
        let extreme = Tag {
            sender: u32::MAX,
            counter: u64::MAX,
            sent_us: u64::MAX,
        };
        assert_eq!(decode(&encode(extreme, 1)), Some(extreme));
    }

    #[test]
    fn foreign_content_is_refused() {
        for content in [
            "",
            "hello",
            "b|",
            "b|1|2",
            "b|1|2|",
            "a|1|2|3",
            "B|1|2|3",
            "b|+1|2|3",
            "b|-1|2|3",
            "b|1|2|3|",
            "b|1|2|3|xxy",
            "b|1|2|3|4",
            "b|1 |2|3",
            "b|4294967296|2|3",
            "b|1|18446744073709551616|3",
            " b|1|2|3",
        ] {
            assert_eq!(decode(content), None, "{content:?}");
        }
    }

    #[test]
    fn client_msg_ids_name_sender_and_counter() {
        assert_eq!(client_msg_id(7, 0), "s7-0");
        assert_ne!(client_msg_id(1, 23), client_msg_id(12, 3));
    }
}
