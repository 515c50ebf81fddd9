-- Settings of the tablet itself, not of a person: the lock screen's
-- language, which the next person at the tablet most likely reads.
CREATE TABLE tablet_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
