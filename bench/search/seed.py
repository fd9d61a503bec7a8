#!/usr/bin/env python3
"""Seeds a migrated palaver database for the search benchmark.

1,000,000 messages across 1,000 conversations (by default), written in a vocabulary of
made-up words drawn with a Zipf-like skew, so common words are common and rare words
rare, as in real chat. The word "zephyr" (which no made-up word begins with) is put into
exactly --hits messages spread evenly over the history and the conversations.

Users: `searcher` is a member of every conversation; `partial` of one conversation in
ten (it sees about a tenth of the hits, so a search walks further to fill a page);
`author000`... write the messages.

The database must be migrated first (`palaver migrate`). Only the standard library is
needed for SQLite; PostgreSQL is written through `psql` and COPY.

    bench/search/seed.py sqlite PATH
    bench/search/seed.py postgres URL
"""

import argparse
import datetime
import io
import itertools
import random
import sqlite3
import subprocess
import sys

WORD = "zephyr"
SYLLABLES = [
    c + v
    for c in "bcdfghklmnprstvw"
    for v in ("a", "e", "i", "o", "u", "ai", "ou")
]


def vocabulary(rng, size):
    """`size` distinct made-up words of 1 to 4 syllables; none starts with 'ze'."""
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    # Sorted, then shuffled with the seeded generator: the same words every run, and
    # how common a word is has nothing to do with how it is spelled.
    words = sorted(words)
    rng.shuffle(words)
    return words


def contents(rng, count, hits, words):
    """`count` message texts; `hits` of them, one in every `count // hits`, carry WORD."""
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    step = count // hits
    for n in range(count):
        length = rng.randint(4, 18)
        text = rng.choices(words, cum_weights=cumulative, k=length)
        # One hit in each stretch of `step` messages, at an offset that moves along with
        # the stretch, so with the conversations taken in turn the hits land in as many
        # conversations as there are (one each for the defaults).
        if n // step < hits and n % step == (n // step) % step:
            text[rng.randrange(length)] = WORD
        sentence = " ".join(text)
        yield sentence[0].upper() + sentence[1:] + rng.choice([".", "!", "?", "", ""])


def rows(args):
    """(conversation_id, seq, sender_id, content, created_at) for every message, in id order."""
    rng = random.Random(args.seed)
    words = vocabulary(rng, args.vocabulary)
    print(f"most common words: {' '.join(words[:3])}", file=sys.stderr)
    start = datetime.datetime(2026, 1, 1)
    seqs = [0] * (args.conversations + 1)
    for n, content in enumerate(contents(rng, args.messages, args.hits, words)):
        # Messages cycle through the conversations, so the hits do too.
        conversation = n % args.conversations + 1
        seqs[conversation] += 1
        sender = args.first_author + rng.randrange(args.authors)
        created = start + datetime.timedelta(seconds=n)
        yield conversation, seqs[conversation], sender, content, created.strftime("%Y-%m-%d %H:%M:%S")


def people(args):
    """(id, username) of every user the seed creates."""
    users = [(1, "searcher"), (2, "partial")]
    users += [(args.first_author + i, f"author{i:03}") for i in range(args.authors)]
    return users


def memberships(args):
    """(conversation_id, user_id, role) of every membership."""
    for c in range(1, args.conversations + 1):
        author = args.first_author + (c % args.authors)
        yield c, author, "owner"
        yield c, 1, "member"
        if c % 10 == 0:
            yield c, 2, "member"


def seed_sqlite(args):
    db = sqlite3.connect(args.target)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    now = "2026-01-01 00:00:00"
    with db:
        db.executemany(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, 'x', ?)",
            [(i, name, name, now) for i, name in people(args)],
        )
        db.executemany(
            "INSERT INTO conversations (id, title, owner_id, created_at, last_seq) VALUES (?, ?, ?, ?, 0)",
            [(c, f"conversation {c}", args.first_author + (c % args.authors), now)
             for c in range(1, args.conversations + 1)],
        )
        db.executemany(
            "INSERT INTO conversation_members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)",
            [(c, u, role, now) for c, u, role in memberships(args)],
        )
        # Through the triggers, as the server's own writes go.
        db.executemany(
            "INSERT INTO messages (conversation_id, seq, sender_id, content, created_at) VALUES (?, ?, ?, ?, ?)",
            rows(args),
        )
        db.execute(
            "UPDATE conversations SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM messages m WHERE m.conversation_id = conversations.id)"
        )
    db.execute("ANALYZE")
    db.close()


def copy_text(values):
    """One line of COPY's text format."""
    def field(v):
        s = str(v)
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return "\t".join(field(v) for v in values) + "\n"


def psql(url, sql, stdin=None):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-o", "/dev/null", "-c", sql],
                   input=stdin, text=True, check=True)


def seed_postgres(args):
    url = args.target
    now = "2026-01-01 00:00:00"
    psql(url, "COPY users (id, username, display_name, password_hash, created_at) FROM STDIN",
         "".join(copy_text((i, n, n, "x", now)) for i, n in people(args)))
    psql(url, "COPY conversations (id, title, owner_id, created_at, last_seq) FROM STDIN",
         "".join(copy_text((c, f"conversation {c}", args.first_author + (c % args.authors), now, 0))
                 for c in range(1, args.conversations + 1)))
    psql(url, "COPY conversation_members (conversation_id, user_id, role, joined_at) FROM STDIN",
         "".join(copy_text((c, u, r, now)) for c, u, r in memberships(args)))
    # The GIN index is built once after the load rather than row by row; the generated
    # column is computed by COPY itself.
    psql(url, "DROP INDEX messages_content_tsv_idx")
    buffer = io.StringIO()
    for row in rows(args):
        buffer.write(copy_text(row))
    psql(url, "COPY messages (conversation_id, seq, sender_id, content, created_at) FROM STDIN",
         buffer.getvalue())
    psql(url, "CREATE INDEX messages_content_tsv_idx ON messages USING GIN (content_tsv)")
    psql(url, "UPDATE conversations c SET last_seq = m.last FROM "
              "(SELECT conversation_id, MAX(seq) AS last FROM messages GROUP BY conversation_id) m "
              "WHERE m.conversation_id = c.id")
    for table in ("users", "conversations", "messages"):
        psql(url, f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    psql(url, "VACUUM ANALYZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("target", help="the SQLite file, or the PostgreSQL URL")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=1_000)
    parser.add_argument("--hits", type=int, default=1_000, help=f"messages holding '{WORD}'")
    parser.add_argument("--authors", type=int, default=50)
    parser.add_argument("--vocabulary", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.first_author = 3
    if args.messages < args.hits:
        sys.exit("--messages must be at least --hits")
    (seed_sqlite if args.backend == "sqlite" else seed_postgres)(args)


if __name__ == "__main__":
    main()
