//! Exact counts of loss, duplicates and reordering for one (receiver, sender) stream of
//! numbered messages. A sender numbers its messages 0, 1, 2, ...; a receiver only keeps
//! the next number it expects and the gaps below it, stored as ranges, so memory grows
//! with the number of gaps (loss or reordering), never with the number of messages.
//! Loss is decided only at the end, against what the sender had acknowledged: a number
//! the server refused was never owed to anyone.

use std::collections::BTreeMap;

/// A set of `u64` kept as disjoint half-open ranges `[start, end)`: a gap of any length
/// costs one entry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ranges {
    /// `start → end`, disjoint and never adjacent.
    map: BTreeMap<u64, u64>,
}

impl Ranges {
    /// The empty set.
    pub const fn new() -> Ranges {
        Ranges {
            map: BTreeMap::new(),
        }
    }

    /// Adds `[start, end)`, which must lie at or above every range already held (gaps
    /// only ever open above the highest number seen).
    fn push_above(&mut self, start: u64, end: u64) {
        debug_assert!(start < end);
        if let Some(mut last) = self.map.last_entry() {
            debug_assert!(*last.get() <= start);
            if *last.get() == start {
                *last.get_mut() = end;
                return;
            }
        }
        self.map.insert(start, end);
    }

    /// Takes `n` out of the set; `false` when it was not in it.
    fn remove(&mut self, n: u64) -> bool {
        let Some((&start, &end)) = self.map.range(..=n).next_back() else {
            return false;
        };
        if n >= end {
            return false;
        }
        self.map.remove(&start);
        if start < n {
            self.map.insert(start, n);
        }
        if n + 1 < end {
            self.map.insert(n + 1, end);
        }
        true
    }

    /// Whether `n` is in the set.
    #[cfg(test)]
    pub fn contains(&self, n: u64) -> bool {
        self.map
            .range(..=n)
            .next_back()
            .is_some_and(|(_, &end)| n < end)
    }

    /// How many numbers the set holds.
    pub fn count(&self) -> u64 {
        self.map.iter().map(|(start, end)| end - start).sum()
    }

    /// How many ranges are stored: the memory the set costs.
    #[cfg(test)]
    pub fn ranges(&self) -> usize {
        self.map.len()
    }

    /// The ranges, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.map.iter().map(|(&start, &end)| (start, end))
    }
}

/// How many numbers two ascending lists of disjoint half-open ranges have in common.
fn overlap(a: impl Iterator<Item = (u64, u64)>, b: impl Iterator<Item = (u64, u64)>) -> u64 {
    let mut a = a.peekable();
    let mut b = b.peekable();
    let mut shared = 0;
    while let (Some(&(a_start, a_end)), Some(&(b_start, b_end))) = (a.peek(), b.peek()) {
        let start = a_start.max(b_start);
        let end = a_end.min(b_end);
        if start < end {
            shared += end - start;
        }
        if a_end <= b_end {
            a.next();
        } else {
            b.next();
        }
    }
    shared
}

/// What one arrival was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First arrival, at or above the next expected number (numbers skipped become gaps).
    New,
    /// First arrival of a number below a higher one already seen: out of order, not lost.
    Late,
    /// A number already seen.
    Duplicate,
}

/// The numbers seen from one sender: the next one expected and the gaps below it.
#[derive(Debug, Default, Clone)]
pub struct Stream {
    /// One past the highest number seen.
    next: u64,
    /// Numbers below `next` not seen (yet).
    missing: Ranges,
    duplicates: u64,
    out_of_order: u64,
}

impl Stream {
    /// A stream that nothing has arrived on; `const` so one can stand for every sender
    /// that a receiver heard nothing from.
    pub const fn new() -> Stream {
        Stream {
            next: 0,
            missing: Ranges::new(),
            duplicates: 0,
            out_of_order: 0,
        }
    }

    /// Counts the arrival of number `n`.
    pub fn observe(&mut self, n: u64) -> Seen {
        if n >= self.next {
            if n > self.next {
                self.missing.push_above(self.next, n);
            }
            self.next = n + 1;
            Seen::New
        } else if self.missing.remove(n) {
            self.out_of_order += 1;
            Seen::Late
        } else {
            self.duplicates += 1;
            Seen::Duplicate
        }
    }

    /// Whether `n` has arrived.
    #[cfg(test)]
    pub fn seen(&self, n: u64) -> bool {
        n < self.next && !self.missing.contains(n)
    }

    /// Arrivals of a number already seen.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Numbers that arrived after a higher one.
    pub fn out_of_order(&self) -> u64 {
        self.out_of_order
    }

    /// Distinct numbers seen.
    pub fn distinct(&self) -> u64 {
        self.next - self.missing.count()
    }

    /// The gaps still open below the highest number seen.
    #[cfg(test)]
    pub fn gaps(&self) -> &Ranges {
        &self.missing
    }

    /// The numbers below `limit` not seen, as ascending ranges.
    fn unseen_below(&self, limit: u64) -> Vec<(u64, u64)> {
        let mut unseen: Vec<(u64, u64)> = self
            .missing
            .iter()
            .take_while(|&(start, _)| start < limit)
            .map(|(start, end)| (start, end.min(limit)))
            .collect();
        if self.next < limit {
            unseen.push((self.next, limit));
        }
        unseen
    }

    /// The loss of this receiving stream: numbers that `acked` (the sender's own stream of
    /// acknowledgements) has seen and this stream has not. A number the server refused
    /// never appears in `acked`, so it is not counted.
    pub fn lost_against(&self, acked: &Stream) -> u64 {
        let unseen = self.unseen_below(acked.next);
        let total: u64 = unseen.iter().map(|(start, end)| end - start).sum();
        total - overlap(unseen.into_iter(), acked.missing.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(numbers: &[u64]) -> Stream {
        let mut stream = Stream::default();
        for &n in numbers {
            stream.observe(n);
        }
        stream
    }

    /// The acknowledgements of a sender whose first `count` messages were all accepted.
    fn acked(count: u64) -> Stream {
        let numbers: Vec<u64> = (0..count).collect();
        stream_of(&numbers)
    }

    #[test]
    fn an_in_order_stream_counts_nothing() {
        let stream = stream_of(&[0, 1, 2, 3, 4]);
        assert_eq!(stream.duplicates(), 0);
        assert_eq!(stream.out_of_order(), 0);
        assert_eq!(stream.lost_against(&acked(5)), 0);
        assert_eq!(stream.distinct(), 5);
        assert_eq!(stream.gaps().ranges(), 0);
    }

    #[test]
    fn a_repeated_number_is_a_duplicate() {
        let mut stream = Stream::default();
        assert_eq!(stream.observe(0), Seen::New);
        assert_eq!(stream.observe(1), Seen::New);
        assert_eq!(stream.observe(1), Seen::Duplicate);
        assert_eq!(stream.observe(2), Seen::New);
        assert_eq!(stream.duplicates(), 1);
        assert_eq!(stream.out_of_order(), 0);
        assert_eq!(stream.lost_against(&acked(3)), 0);
    }

    #[test]
    fn a_swap_is_out_of_order_and_not_lost() {
        let mut stream = Stream::default();
        assert_eq!(stream.observe(0), Seen::New);
        assert_eq!(stream.observe(2), Seen::New);
        assert!(!stream.seen(1));
        assert_eq!(stream.observe(1), Seen::Late);
        assert_eq!(stream.observe(3), Seen::New);
        assert_eq!(stream.out_of_order(), 1);
        assert_eq!(stream.duplicates(), 0);
        assert_eq!(stream.lost_against(&acked(4)), 0);
        assert_eq!(stream.gaps().ranges(), 0);
    }

    #[test]
    fn a_gap_never_filled_is_lost() {
        let stream = stream_of(&[0, 1, 3, 4]);
        assert_eq!(stream.out_of_order(), 0);
        assert_eq!(stream.duplicates(), 0);
        assert_eq!(stream.lost_against(&acked(5)), 1);
    }

    #[test]
    fn a_late_repeat_of_a_filled_gap_is_a_duplicate() {
        let mut stream = Stream::default();
        stream.observe(0);
        stream.observe(2);
        assert_eq!(stream.observe(1), Seen::Late);
        assert_eq!(stream.observe(1), Seen::Duplicate);
        assert_eq!(stream.out_of_order(), 1);
        assert_eq!(stream.duplicates(), 1);
        assert_eq!(stream.lost_against(&acked(3)), 0);
    }

    #[test]
    fn numbers_acked_past_the_last_arrival_are_lost() {
        // The sender had 0..=9 acknowledged, the receiver saw 0..=7.
        let stream = stream_of(&[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(stream.lost_against(&acked(10)), 2);
        // Nothing at all arrived: every acknowledged number is lost.
        assert_eq!(Stream::default().lost_against(&acked(10)), 10);
    }

    #[test]
    fn a_number_the_server_refused_is_not_lost() {
        // Message 3 was refused (no ack), so no receiver owes it.
        let acks = stream_of(&[0, 1, 2, 4, 5]);
        let stream = stream_of(&[0, 1, 2, 4, 5]);
        assert_eq!(stream.lost_against(&acks), 0);
        // A receiver that also missed 4 lost exactly that one.
        let stream = stream_of(&[0, 1, 2, 5]);
        assert_eq!(stream.lost_against(&acks), 1);
    }

    #[test]
    fn arrivals_beyond_the_acks_are_not_counted_against_them() {
        // The last ack was still in flight when the run ended; the message arrived.
        let stream = stream_of(&[0, 1, 2, 3]);
        assert_eq!(stream.lost_against(&acked(3)), 0);
    }

    #[test]
    fn memory_follows_the_gaps_not_the_numbers() {
        let mut stream = stream_of(&[0, 1_000_000_000]);
        assert_eq!(stream.gaps().ranges(), 1);
        assert_eq!(stream.gaps().count(), 999_999_999);
        assert_eq!(stream.observe(500), Seen::Late);
        assert_eq!(stream.gaps().ranges(), 2);
        assert!(stream.gaps().contains(499) && !stream.gaps().contains(500));
        // Acked through 1_000_000_001: the open gaps and the number past the end are lost.
        let mut acks = Stream::default();
        acks.observe(1_000_000_001);
        acks.missing = Ranges::default();
        assert_eq!(stream.lost_against(&acks), 999_999_998 + 1);
    }

    #[test]
    fn range_overlap_counts_shared_numbers() {
        let a = [(0, 5), (10, 20)];
        let b = [(3, 12), (19, 30)];
        assert_eq!(overlap(a.into_iter(), b.into_iter()), 2 + 2 + 1);
        assert_eq!(overlap(a.into_iter(), std::iter::empty()), 0);
    }
}
