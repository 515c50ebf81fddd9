-- Berth dock, schema 4: approved letters go to the facility's mail relay
-- by SMTP. A letter is 'approved' until the relay accepts it, then 'sent';
-- failed tries back off, and staff see the last error.
ALTER TABLE letters ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE letters ADD COLUMN next_attempt TEXT;
ALTER TABLE letters ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE letters ADD COLUMN sent_at TEXT;
CREATE INDEX letters_due ON letters (state, next_attempt);
