-- Portal sign-in sessions (issue 12). The browser holds a random session id in an HttpOnly
-- cookie; only its SHA-256 is stored, so a copy of this table signs nobody in. Being in the
-- database (not in a process's memory) lets several `serve` processes share them, and ending
-- a session (sign-out, a password change) ends it everywhere at once.
--
-- `csrf_token` is the session's anti-forgery token, put in every form the portal renders and
-- compared on every POST. `expires_at` is absolute (Unix ms); a session is never extended.
CREATE TABLE portal_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);
