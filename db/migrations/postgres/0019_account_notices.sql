-- Account notices (ASVS 2.2.3, 2.5.5, 3.x; IAM-3, IAM-4, IAM-6).
--
-- The outbox of account mail: a notice waits here until the relay took it,
-- and is deleted then (or after its last attempt). It holds what the
-- message says and no address: the recipient is read from users when the
-- mail is sent.
CREATE TABLE account_notices (
	id         TEXT PRIMARY KEY,
	seq        BIGINT NOT NULL, -- the order notices were queued in
	user_id    TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	tenant_id  TEXT,
	kind       TEXT NOT NULL,
	what       TEXT NOT NULL,
	ip         TEXT NOT NULL,
	agent      TEXT NOT NULL,
	at         BIGINT NOT NULL,
	expires_at BIGINT,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    BIGINT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX account_notices_due ON account_notices (next_at, seq);
CREATE INDEX account_notices_user ON account_notices (user_id);

-- The networks and browsers a person signed in from: a keyed hash of the
-- network (/24 of IPv4, /48 of IPv6) and the browser's family, never the
-- address, with when it was last seen. Bounded per user, and expired.
CREATE TABLE sign_in_networks (
	user_id      TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	fingerprint  BYTEA NOT NULL,
	last_seen_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, fingerprint)
);

-- The last password expiry reminder of a person: for the password set at
-- password_changed_at, the reminder of days (14, then 3) was queued.
CREATE TABLE password_reminders (
	user_id             TEXT PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
	password_changed_at BIGINT NOT NULL,
	days                INTEGER NOT NULL
);
