//! A bound in front of `actix-ws`. Its `MessageStream` reads every byte the client has
//! sent into one buffer before it decodes a frame, and aggregates continuations only after
//! they arrived, so a client could make the server hold a frame of any size it announces.
//! [`FrameGuard`] sits between the request payload and `actix-ws`: it reads each frame
//! header as the bytes pass and stops the stream as soon as a header announces more than
//! the socket's limit (or the fragments of one message add up to more), before the body
//! arrives, so no socket makes the server hold much more than its frame limit. It also
//! refuses what RFC 6455 calls a protocol error (reserved bits, unknown opcodes, a
//! continuation without a start, a fragmented or oversized control frame), which the
//! decoder behind it would report less precisely.
//!
//! The guard only counts; bytes pass through unchanged. Its verdict is read by the session,
//! which closes with the code the guard chose.

use std::pin::Pin;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;

use super::close::Close;

/// What the session and its guard share: the current frame limit (raised when the socket
/// authenticates) and the guard's verdict, if it stopped the stream.
#[derive(Debug)]
pub struct FrameLimit {
    limit: AtomicUsize,
    verdict: AtomicU16,
}

impl FrameLimit {
    /// A limit of `bytes` per frame and per fragmented message.
    pub fn new(bytes: usize) -> Arc<FrameLimit> {
        Arc::new(FrameLimit {
            limit: AtomicUsize::new(bytes),
            verdict: AtomicU16::new(0),
        })
    }

    /// Changes the limit for frames from now on (after authentication).
    pub fn set(&self, bytes: usize) {
        self.limit.store(bytes, Ordering::Relaxed);
    }

    /// Why the guard stopped the stream, if it did.
    pub fn verdict(&self) -> Option<Close> {
        match self.verdict.load(Ordering::Relaxed) {
            1009 => Some(Close::TooBig),
            1002 => Some(Close::ProtocolError),
            _ => None,
        }
    }

    fn refuse(&self, close: Close) {
        self.verdict.store(close.code(), Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.limit.load(Ordering::Relaxed) as u64
    }
}

/// Where the guard is in the byte stream.
#[derive(Debug)]
enum Position {
    /// Reading a frame header: the bytes of it seen so far.
    Header { bytes: [u8; 14], have: usize },
    /// Inside a frame's payload, this many bytes still to come.
    Payload { remaining: u64 },
}

/// Counts frames as their bytes pass, see the module doc.
pub struct FrameGuard<S> {
    inner: S,
    limit: Arc<FrameLimit>,
    position: Position,
    /// Bytes of the fragmented text or binary message in progress, if one is.
    fragmented: Option<u64>,
    /// Set once a verdict is reached: the stream ends after the bytes before it.
    stopped: bool,
}

impl<S> FrameGuard<S> {
    /// Guards `inner` with `limit`.
    pub fn new(inner: S, limit: Arc<FrameLimit>) -> FrameGuard<S> {
        FrameGuard {
            inner,
            limit,
            position: Position::Header {
                bytes: [0; 14],
                have: 0,
            },
            fragmented: None,
            stopped: false,
        }
    }

    /// Walks `chunk`; the length of the prefix that may pass, and whether a verdict fell.
    fn scan(&mut self, chunk: &[u8]) -> (usize, bool) {
        let mut at = 0;
        // Where the frame being read began within this chunk (0 if it began before it).
        let mut frame_start = 0;
        while at < chunk.len() {
            match &mut self.position {
                Position::Payload { remaining } => {
                    let take = (*remaining).min((chunk.len() - at) as u64);
                    *remaining -= take;
                    at += take as usize;
                    if *remaining == 0 {
                        self.position = Position::Header {
                            bytes: [0; 14],
                            have: 0,
                        };
                        frame_start = at;
                    }
                }
                Position::Header { bytes, have } => {
                    bytes[*have] = chunk[at];
                    *have += 1;
                    at += 1;
                    let needed = header_len(&bytes[..*have]);
                    if needed.is_some_and(|n| *have >= n) {
                        let header = *bytes;
                        match self.check(&header) {
                            Ok(0) => {
                                self.position = Position::Header {
                                    bytes: [0; 14],
                                    have: 0,
                                };
                                frame_start = at;
                            }
                            Ok(len) => self.position = Position::Payload { remaining: len },
                            Err(close) => {
                                self.limit.refuse(close);
                                return (frame_start, true);
                            }
                        }
                    }
                }
            }
        }
        (chunk.len(), false)
    }

    /// Checks a complete frame header; its payload length, or the close it calls for.
    fn check(&mut self, header: &[u8; 14]) -> Result<u64, Close> {
        let fin = header[0] & 0x80 != 0;
        let reserved = header[0] & 0x70 != 0;
        let opcode = header[0] & 0x0f;
        let len = payload_len(header);
        if reserved {
            return Err(Close::ProtocolError);
        }
        let limit = self.limit.get();
        match opcode {
            // Continuation.
            0x0 => {
                let so_far = self.fragmented.ok_or(Close::ProtocolError)?;
                let total = so_far.saturating_add(len);
                if total > limit {
                    return Err(Close::TooBig);
                }
                self.fragmented = (!fin).then_some(total);
            }
            // Text, binary.
            0x1 | 0x2 => {
                if self.fragmented.is_some() {
                    return Err(Close::ProtocolError);
                }
                if len > limit {
                    return Err(Close::TooBig);
                }
                self.fragmented = (!fin).then_some(len);
            }
            // Close, ping, pong: never fragmented, at most 125 bytes.
            0x8..=0xA => {
                if !fin || len > 125 {
                    return Err(Close::ProtocolError);
                }
            }
            _ => return Err(Close::ProtocolError),
        }
        Ok(len)
    }
}

/// The full header length once enough of it is known.
fn header_len(seen: &[u8]) -> Option<usize> {
    if seen.len() < 2 {
        return None;
    }
    let mask = if seen[1] & 0x80 != 0 { 4 } else { 0 };
    let extended = match seen[1] & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    Some(2 + extended + mask)
}

/// The payload length a complete header announces.
fn payload_len(header: &[u8; 14]) -> u64 {
    match header[1] & 0x7f {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => u64::from_be_bytes([
            header[2], header[3], header[4], header[5], header[6], header[7], header[8], header[9],
        ]),
        n => u64::from(n),
    }
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.stopped {
            return Poll::Ready(Some(Err(PayloadError::Overflow)));
        }
        let chunk = match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => chunk,
            other => return other,
        };
        let (pass, refused) = self.scan(&chunk);
        if !refused {
            return Poll::Ready(Some(Ok(chunk)));
        }
        self.stopped = true;
        if pass == 0 {
            return Poll::Ready(Some(Err(PayloadError::Overflow)));
        }
        Poll::Ready(Some(Ok(chunk.slice(..pass))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame header: `first` byte (FIN, RSV, opcode) and payload length.
    fn header(first: u8, len: u64) -> Vec<u8> {
        let mut out = vec![first];
        match len {
            0..=125 => out.push(0x80 | len as u8),
            126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(0x80 | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out
    }

    fn frame(first: u8, len: usize) -> Vec<u8> {
        let mut out = header(first, len as u64);
        out.extend(std::iter::repeat_n(b'a', len));
        out
    }

    fn guard(limit: usize) -> (FrameGuard<()>, Arc<FrameLimit>) {
        let limit = FrameLimit::new(limit);
        (FrameGuard::new((), Arc::clone(&limit)), limit)
    }

    #[test]
    fn frames_within_the_limit_pass_whole_even_split_byte_by_byte() {
        let (mut guard, limit) = guard(100);
        let bytes: Vec<u8> = [frame(0x81, 100), frame(0x89, 5), frame(0x81, 0)].concat();

        for byte in &bytes {
            assert_eq!(guard.scan(std::slice::from_ref(byte)), (1, false));
        }
        assert_eq!(limit.verdict(), None);
    }

    #[test]
    fn a_header_announcing_more_than_the_limit_is_refused_before_its_body() {
        let (mut guard, limit) = guard(4096);
        let bytes = [frame(0x81, 3), header(0x81, u64::MAX >> 1)].concat();

        let (pass, refused) = guard.scan(&bytes);

        assert!(refused);
        assert_eq!(pass, frame(0x81, 3).len());
        assert_eq!(limit.verdict(), Some(Close::TooBig));
    }

    #[test]
    fn fragments_count_together() {
        let (mut guard, limit) = guard(100);
        let bytes = [frame(0x01, 60), frame(0x00, 30), frame(0x80, 20)].concat();

        let (_, refused) = guard.scan(&bytes);

        assert!(refused);
        assert_eq!(limit.verdict(), Some(Close::TooBig));
    }

    #[test]
    fn protocol_errors_are_named_as_such() {
        for bytes in [
            frame(0xC1, 3),                            // RSV1 set
            frame(0x83, 3),                            // opcode 3
            frame(0x80, 3),                            // a continuation without a start
            frame(0x09, 3),                            // a fragmented ping
            frame(0x89, 126),                          // a ping over 125 bytes
            [frame(0x01, 3), frame(0x81, 3)].concat(), // a new message inside a fragmented one
        ] {
            let (mut guard, limit) = guard(4096);
            let (_, refused) = guard.scan(&bytes);
            assert!(refused, "{bytes:?}");
            assert_eq!(limit.verdict(), Some(Close::ProtocolError), "{bytes:?}");
        }
    }

    #[test]
    fn a_raised_limit_applies_to_the_frames_after_it() {
        let (mut guard, limit) = guard(10);
        limit.set(1000);

        assert!(!guard.scan(&frame(0x81, 500)).1);
    }
}
