-- The token store: one row per shop that installed the app through OAuth (or whose token was
-- migrated to an expiring pair). Tokens are AES-256-GCM ciphertexts, each `nonce || ciphertext`
-- with a fresh 12-byte nonce; the key never reaches the database.
CREATE TABLE shops (
    domain                 text PRIMARY KEY,
    installed_at           timestamptz NOT NULL,
    -- Set by app/uninstalled; the tokens are deleted at the same time.
    uninstalled_at         timestamptz,
    -- Comma-separated, as Shopify sends `scope`.
    scopes                 text NOT NULL DEFAULT '',
    -- IANA name, from the shop's settings.
    time_zone              text,
    access_token           bytea,
    -- NULL: a non-expiring token.
    access_expires_at      timestamptz,
    refresh_token          bytea,
    refresh_expires_at     timestamptz,
    -- The refresh token the last refresh used: Shopify (2026-08) accepts it again until its
    -- successor is used, so a refresh whose answer was lost can be retried.
    previous_refresh_token bytea,
    last_refresh_at        timestamptz,
    -- Bumped by every write of the row.
    version                bigint NOT NULL DEFAULT 1
);

-- The installed shops are read at start-up by every replica.
CREATE INDEX shops_installed ON shops (domain) WHERE uninstalled_at IS NULL;
