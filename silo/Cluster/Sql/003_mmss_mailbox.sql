-- Mailbox rows, one per stored item, as in the embedded SQLite file: storing or removing one item costs one row
-- write whatever the mailbox holds. seq orders an owner's mailbox; expires_at is Unix milliseconds; entry is the
-- Orleans-serialized MailboxEntry.

CREATE TABLE mailbox
(
    seq        bigserial PRIMARY KEY,
    owner      text NOT NULL,
    expires_at bigint NOT NULL,
    entry      bytea NOT NULL
);

CREATE INDEX mailbox_owner ON mailbox (owner, seq);
CREATE INDEX mailbox_expiry ON mailbox (expires_at);
