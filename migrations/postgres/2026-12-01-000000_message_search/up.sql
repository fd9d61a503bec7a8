-- Full-text search over message content: a generated tsvector, so every write path
-- (single sends, batched sends, edits, deletes) keeps it exact, and a GIN index over it.
-- The `simple` configuration lower-cases words and neither stems them nor drops stop
-- words, so it works alike for any language. Adding the column computes it for every
-- existing row.
ALTER TABLE messages
    ADD COLUMN content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED;

CREATE INDEX messages_content_tsv_idx ON messages USING GIN (content_tsv);
