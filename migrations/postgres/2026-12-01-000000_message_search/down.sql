DROP INDEX messages_content_tsv_idx;
ALTER TABLE messages DROP COLUMN content_tsv;
