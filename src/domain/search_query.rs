//! A search as a user types it, parsed once into terms the engines can be given safely.
//!
//! The language is small: words (each also matches as a prefix: `deplo` finds "deploy"),
//! quoted phrases (`"ship it"`, exact words in that order), and `from:username`. Every
//! term must match. Nothing a user types reaches a search engine as syntax: words are
//! runs of letters and digits, everything else separates them, and the engine queries
//! ([`SearchQuery::fts5_match`], [`SearchQuery::pg_tsquery`]) are written from those words
//! alone, each one quoted. The engines' own operators (`AND`, `OR`, `NOT`, `NEAR`, `*`,
//! `-`, `^`, `:`, parentheses) are therefore plain text, dropped as the separators or
//! keywords they are; a query left with nothing to search for is refused.
//!
//! The same words find the matched ranges of a message ([`SearchQuery::matched_ranges`]),
//! so a page can highlight them without any markup coming from the server.

use std::ops::Range;

use super::{invalid, InvalidField, Username};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The field every refusal names.
const FIELD: &str = "q";

/// The words the engines read as operators: dropped, as they mean nothing here (every
/// term must match anyway).
const OPERATOR_WORDS: &[&str] = &["AND", "OR", "NOT", "NEAR"];

/// The prefix of the sender filter, matched case-insensitively.
const FROM: &str = "from:";

/// One thing every hit must contain: one or more words in a row, the last of them also
/// matching as a prefix when the term was typed bare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Lower-cased runs of letters and digits, never empty.
    words: Vec<String>,
    /// Whether the last word matches any word it begins (bare words do, quoted ones not).
    prefix: bool,
}

impl Term {
    /// The lower-cased words, in order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether the last word also matches as a prefix.
    pub fn is_prefix(&self) -> bool {
        self.prefix
    }
}

/// Whose messages a `from:` filter asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A well-formed username (it may still belong to no one).
    Named(Username),
    /// Something no username can be: the filter matches nothing.
    Nobody,
}

/// A parsed search: at least one term, at most one sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<Term>,
    from: Option<Sender>,
}

impl SearchQuery {
    /// Parses `q` as it came in: 400 naming `q` when it is empty, longer than
    /// [`MAX_QUERY_CHARS`], names more than one sender, or has nothing to search for.
    pub fn parse(raw: &str) -> Result<SearchQuery, InvalidField> {
        if raw.trim().is_empty() {
            return Err(invalid(FIELD, "must not be empty"));
        }
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(invalid(
                FIELD,
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let mut terms = Vec::new();
        let mut from = None;
        for piece in pieces(raw) {
            match piece {
                Piece::Quoted(text) => terms.extend(term(text, false)),
                // A `from:` with no name has nothing to filter by.
                Piece::Bare(text) if text.eq_ignore_ascii_case(FROM) => {}
                Piece::Bare(text) => {
                    if let Some(name) = sender_name(text) {
                        if from.is_some() {
                            return Err(invalid(FIELD, "from: may be given only once"));
                        }
                        from = Some(match Username::parse(name) {
                            Ok(username) => Sender::Named(username),
                            Err(_) => Sender::Nobody,
                        });
                    } else if !is_operator(text) {
                        terms.extend(term(text, true));
                    }
                }
            }
        }
        if terms.is_empty() {
            return Err(invalid(
                FIELD,
                "must contain a word to search for (operators and from: alone find nothing)",
            ));
        }
        Ok(SearchQuery { terms, from })
    }

    /// The terms, in the order typed.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The `from:` filter, if one was given.
    pub fn from(&self) -> Option<&Sender> {
        self.from.as_ref()
    }

    /// The query for SQLite FTS5 `MATCH`: each term a quoted phrase (`"ship it"`), a bare
    /// one with the prefix star (`"deplo"*`), all of them required (`AND`).
    pub fn fts5_match(&self) -> String {
        self.fts5_match_expanded(|_| Vec::new())
    }

    /// As [`SearchQuery::fts5_match`], with a bare term's last word replaced by the
    /// indexed words it begins, when `expand` names them: `("deploy" OR "deployed")`
    /// rather than `"deplo"*`. The engine then walks a few word lists newest first and
    /// stops when the page is full, instead of merging every list the prefix covers
    /// (which, for a prefix of a very common word, is most of the index). An empty
    /// expansion keeps the prefix query, so a word the index spells differently is still
    /// found.
    pub fn fts5_match_expanded(&self, expand: impl Fn(&str) -> Vec<String>) -> String {
        let quote = |words: &[String]| format!("\"{}\"", words.join(" ").replace('"', "\"\""));
        self.terms
            .iter()
            .map(|term| {
                if !term.prefix {
                    return quote(&term.words);
                }
                let (last, leading) = term.words.split_last().expect("a term has a word");
                let expanded = expand(last);
                if expanded.is_empty() {
                    return format!("{}*", quote(&term.words));
                }
                let phrases: Vec<String> = expanded
                    .into_iter()
                    .map(|word| {
                        let mut words = leading.to_vec();
                        words.push(word);
                        quote(&words)
                    })
                    .collect();
                format!("({})", phrases.join(" OR "))
            })
            .collect::<Vec<_>>()
            // Explicit: FTS5 joins phrases but not parenthesised groups implicitly.
            .join(" AND ")
    }

    /// The last word of each bare term: the prefixes [`SearchQuery::fts5_match_expanded`]
    /// asks to expand.
    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.terms
            .iter()
            .filter(|term| term.prefix)
            .filter_map(|term| term.words.last().map(String::as_str))
    }

    /// The text for PostgreSQL `to_tsquery('simple', …)`: each word a quoted lexeme,
    /// the words of a term joined by `<->` (next to each other), a bare term's last word
    /// with `:*` (prefix), the terms joined by `&`.
    pub fn pg_tsquery(&self) -> String {
        self.terms
            .iter()
            .map(|term| {
                let last = term.words.len() - 1;
                let lexemes: Vec<String> = term
                    .words
                    .iter()
                    .enumerate()
                    .map(|(i, word)| {
                        let quoted = word.replace('\\', "\\\\").replace('\'', "''");
                        let star = if term.prefix && i == last { ":*" } else { "" };
                        format!("'{quoted}'{star}")
                    })
                    .collect();
                format!("({})", lexemes.join(" <-> "))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// Where the terms occur in `content`, as sorted, non-overlapping ranges of character
    /// (Unicode scalar value) offsets; a phrase is one range from its first word to its last.
    pub fn matched_ranges(&self, content: &str) -> Vec<Range<usize>> {
        let words = words_with_offsets(content);
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for term in &self.terms {
            let n = term.words.len();
            if n > words.len() {
                continue;
            }
            for start in 0..=words.len() - n {
                let hit = term.words.iter().enumerate().all(|(i, wanted)| {
                    let found = &words[start + i].text;
                    if term.prefix && i == n - 1 {
                        found.starts_with(wanted.as_str())
                    } else {
                        found == wanted
                    }
                });
                if hit {
                    ranges.push(words[start].range.start..words[start + n - 1].range.end);
                }
            }
        }
        merge(ranges)
    }
}

/// A piece of the raw query: a quoted stretch, or a run of non-space characters outside
/// quotes.
enum Piece<'a> {
    Quoted(&'a str),
    Bare(&'a str),
}

/// Whether `c` ends a bare piece: a space, a quote or a parenthesis.
fn ends_a_piece(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '(' | ')')
}

/// Splits the raw query into quoted stretches (an unclosed quote runs to the end) and
/// bare runs between spaces, quotes and parentheses.
fn pieces(raw: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = raw;
    loop {
        // A parenthesis separates like a space (`NEAR(a b)` is `NEAR`, `a`, `b`).
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(' || c == ')');
        if rest.is_empty() {
            return pieces;
        }
        if let Some(after_quote) = rest.strip_prefix('"') {
            let end = after_quote.find('"').unwrap_or(after_quote.len());
            pieces.push(Piece::Quoted(&after_quote[..end]));
            rest = after_quote.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(ends_a_piece).unwrap_or(rest.len());
            pieces.push(Piece::Bare(&rest[..end]));
            rest = &rest[end..];
        }
    }
}

/// The username of a `from:name` piece.
fn sender_name(piece: &str) -> Option<&str> {
    let head = piece.get(..FROM.len())?;
    if !head.eq_ignore_ascii_case(FROM) {
        return None;
    }
    let name = &piece[FROM.len()..];
    (!name.is_empty()).then_some(name)
}

/// Whether a bare piece is one of the engines' operator words (`NEAR/3` included).
fn is_operator(piece: &str) -> bool {
    let word = piece.split('/').next().unwrap_or(piece);
    OPERATOR_WORDS.contains(&word)
}

/// The term a piece of text makes: its words, or nothing when it holds none.
fn term(text: &str, prefix: bool) -> Option<Term> {
    let words: Vec<String> = words_with_offsets(text)
        .into_iter()
        .map(|w| w.text)
        .collect();
    (!words.is_empty()).then_some(Term { words, prefix })
}

/// A word of a text: lower-cased, with where it stands in characters.
struct Word {
    text: String,
    range: Range<usize>,
}

/// The runs of letters and digits of `text`, as both engines' tokenizers split it.
fn words_with_offsets(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current: Option<Word> = None;
    for (index, ch) in text.chars().enumerate() {
        if ch.is_alphanumeric() {
            let word = current.get_or_insert_with(|| Word {
                text: String::new(),
                range: index..index,
            });
            word.text.extend(ch.to_lowercase());
            word.range.end = index + 1;
        } else if let Some(word) = current.take() {
            words.push(word);
        }
    }
    words.extend(current);
    words
}

/// Sorts ranges and joins those that overlap or touch.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> SearchQuery {
        SearchQuery::parse(raw).expect("a valid query")
    }

    fn words_of(query: &SearchQuery) -> Vec<(Vec<&str>, bool)> {
        query
            .terms()
            .iter()
            .map(|t| {
                (
                    t.words().iter().map(String::as_str).collect(),
                    t.is_prefix(),
                )
            })
            .collect()
    }

    #[test]
    fn bare_words_are_lower_cased_prefix_terms() {
        let query = parse("Deplo  Friday");
        assert_eq!(
            words_of(&query),
            [(vec!["deplo"], true), (vec!["friday"], true)]
        );
        assert_eq!(query.fts5_match(), r#""deplo"* AND "friday"*"#);
        assert_eq!(query.pg_tsquery(), "('deplo':*) & ('friday':*)");
    }

    #[test]
    fn quoted_phrases_are_exact_words_in_order() {
        let query = parse(r#"release "Ship  it" now"#);
        assert_eq!(
            words_of(&query),
            [
                (vec!["release"], true),
                (vec!["ship", "it"], false),
                (vec!["now"], true)
            ]
        );
        assert_eq!(query.fts5_match(), r#""release"* AND "ship it" AND "now"*"#);
        assert_eq!(
            query.pg_tsquery(),
            "('release':*) & ('ship' <-> 'it') & ('now':*)"
        );
    }

    #[test]
    fn an_unclosed_quote_runs_to_the_end() {
        assert_eq!(
            words_of(&parse(r#"a "b c"#)),
            [(vec!["a"], true), (vec!["b", "c"], false)]
        );
    }

    #[test]
    fn punctuation_inside_a_bare_word_makes_a_phrase() {
        assert_eq!(
            words_of(&parse("e-mai")),
            [(vec!["e", "mai"], true)],
            "as the tokenizers split 'e-mail'"
        );
        assert_eq!(parse("e-mai").fts5_match(), r#""e mai"*"#);
        assert_eq!(parse("e-mai").pg_tsquery(), "('e' <-> 'mai':*)");
    }

    #[test]
    fn from_names_the_sender_once() {
        let query = parse("From:Alice deploy");
        assert_eq!(
            query.from(),
            Some(&Sender::Named(Username::parse("alice").unwrap()))
        );
        assert_eq!(words_of(&query), [(vec!["deploy"], true)]);
        assert_eq!(parse("from:x! hi").from(), Some(&Sender::Nobody));
        let twice = SearchQuery::parse("from:alice from:bob hi").unwrap_err();
        assert_eq!(twice.field, "q");
    }

    #[test]
    fn engine_syntax_is_plain_text() {
        let query = parse(r#"NEAR(a b) OR c* -d ^e NOT f:g AND "h" NEAR/3"#);
        assert_eq!(
            words_of(&query),
            [
                (vec!["a"], true),
                (vec!["b"], true),
                (vec!["c"], true),
                (vec!["d"], true),
                (vec!["e"], true),
                (vec!["f", "g"], true),
                (vec!["h"], false),
            ]
        );
        assert_eq!(
            query.fts5_match(),
            r#""a"* AND "b"* AND "c"* AND "d"* AND "e"* AND "f g"* AND "h""#
        );
        for engine_query in [query.fts5_match(), query.pg_tsquery()] {
            assert!(!engine_query.contains("NEAR") && !engine_query.contains("OR"));
        }
    }

    #[test]
    fn an_expanded_prefix_becomes_the_words_it_begins() {
        let query = parse(r#"e-mai "ship it" zzz"#);
        let expanded = query.fts5_match_expanded(|prefix| match prefix {
            "mai" => vec!["mail".to_string(), "main".to_string()],
            _ => Vec::new(),
        });
        assert_eq!(
            expanded, r#"("e mail" OR "e main") AND "ship it" AND "zzz"*"#,
            "a prefix with no known words stays a prefix"
        );
        assert_eq!(query.prefixes().collect::<Vec<_>>(), ["mai", "zzz"]);
    }

    #[test]
    fn quotes_and_backslashes_never_escape_a_lexeme() {
        let query = parse(r#"it's a\b"#);
        assert_eq!(query.pg_tsquery(), "('it' <-> 's':*) & ('a' <-> 'b':*)");
    }

    #[test]
    fn empty_too_long_and_operator_only_queries_are_refused_naming_q() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        for raw in [
            "",
            "   ",
            long.as_str(),
            "AND OR NOT",
            r#""" * - ( ) : ^"#,
            "from:alice",
            "NEAR/2 from:",
        ] {
            let err = SearchQuery::parse(raw).unwrap_err();
            assert_eq!(err.field, "q", "{raw:?}");
        }
        assert!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn matched_ranges_are_character_offsets_of_words_prefixes_and_phrases() {
        let query = parse(r#"deplo "ship it""#);
        let content = "Ünïcode: we DEPLOYED, then ship it; deploy again. shipit";
        let ranges = query.matched_ranges(content);
        let found: Vec<String> = ranges
            .iter()
            .map(|r| content.chars().skip(r.start).take(r.len()).collect())
            .collect();
        assert_eq!(found, ["DEPLOYED", "ship it", "deploy"]);
        assert_eq!(ranges[0], 12..20);
    }

    #[test]
    fn overlapping_matches_merge_into_one_range() {
        let query = parse(r#"dep deploy "deploy now""#);
        let ranges = query.matched_ranges("deploy now");
        assert_eq!(ranges.len(), 1);
        assert_eq!(ranges[0], 0..10);
    }

    #[test]
    fn a_word_that_only_contains_the_term_is_not_a_match() {
        assert!(parse("ploy").matched_ranges("deploy").is_empty());
    }
}
