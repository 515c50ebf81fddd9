-- Schema 6: a letter from a contact keeps its email's subject, and the
-- names and sizes of attachments the gateway left out (JSON).
ALTER TABLE inbox ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN removed TEXT NOT NULL DEFAULT '[]';
