-- Full-text search over message content: an FTS5 index that stores no copy of the text
-- (external content over `messages`), kept exact by triggers, so every write path
-- (single sends, batched sends, edits, deletes) updates it in the writing transaction.
-- Diacritics are kept, as PostgreSQL's `simple` configuration keeps them, so both
-- backends find the same messages; no column sizes are stored, as hits are ordered by
-- id, never ranked. Prefixes of one to three characters have lists of their own, so a
-- search for `d` or `de` (as a page sends while someone types) reads one list newest
-- first instead of merging the lists of every word they begin; longer prefixes are
-- expanded into the words they begin (through `messages_fts_vocab`) by the query.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0',
    columnsize = 0,
    prefix = '1 2 3'
);

-- The index's own words, for turning a prefix into the few words it begins: the
-- `instance` form reads a word's first occurrence and stops, where the `row` form would
-- count every one of them.
CREATE VIRTUAL TABLE messages_fts_vocab USING fts5vocab(messages_fts, instance);

-- Messages stored before this migration.
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

-- Every row is indexed, deleted ones too: a soft delete erases the content, so the row's
-- words leave the index while the index stays a faithful copy of the table.
CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_after_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
