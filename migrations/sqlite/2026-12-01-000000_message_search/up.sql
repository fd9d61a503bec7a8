-- Full-text search over message content: an FTS5 index that stores no copy of the text
-- (external content over `messages`), kept exact by triggers, so every write path
-- (single sends, batched sends, edits, deletes) updates it in the writing transaction.
-- Diacritics are kept, as PostgreSQL's `simple` configuration keeps them, so both
-- backends find the same messages; no column sizes are stored, as hits are ordered by
-- id, never ranked.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0',
    columnsize = 0
);

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
