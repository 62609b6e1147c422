-- API keys. Only a SHA-256 of each key's secret is stored: the secret is 32 random bytes,
-- so a fast hash is as safe as a slow one here, and lookups stay O(1) by key id.
CREATE TABLE public.api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    secret_sha256 bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
