-- Credentials follow the people behind them: who made each API key (keys
-- made before this are the workspace owner's), a per-user token generation
-- that a password change raises, the session kept through that change, and
-- an index for numbers looked up across workspaces.
ALTER TABLE api_keys ADD COLUMN created_by BIGINT REFERENCES users (id) ON DELETE CASCADE;
UPDATE api_keys SET created_by = (SELECT owner_id FROM workspaces WHERE workspaces.id = api_keys.workspace_id);
CREATE INDEX api_keys_creator ON api_keys (created_by);
ALTER TABLE users ADD COLUMN token_gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN kept_session TEXT;
CREATE INDEX numbers_line_number ON numbers (line_number);
