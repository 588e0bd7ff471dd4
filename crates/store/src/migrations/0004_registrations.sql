-- The location service: registered contacts of agents.
CREATE TABLE registrations (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    aor TEXT NOT NULL,
    contact TEXT NOT NULL,
    source TEXT NOT NULL,
    transport TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    call_id TEXT DEFAULT '',
    cseq BIGINT,
    user_agent TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (agent_id, contact)
);
CREATE INDEX registrations_expiry ON registrations (expires_at);
