-- Voicemail per agent: whether calls it does not answer (or is busy for)
-- go to its mailbox, the PIN that opens the mailbox from a phone, and the
-- greeting (an uploaded media file, else this text spoken, else the
-- standard text).
ALTER TABLE agents ADD COLUMN voicemail_enabled BIGINT DEFAULT 0;
ALTER TABLE agents ADD COLUMN voicemail_pin TEXT DEFAULT '';
ALTER TABLE agents ADD COLUMN voicemail_greeting_id BIGINT REFERENCES media (id);
ALTER TABLE agents ADD COLUMN voicemail_greeting_text TEXT DEFAULT '';
-- The messages left: who called, when, how long, the WAV file under the
-- data dir, and whether it was heard (NEW, SAVED).
CREATE TABLE voicemail_messages (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    caller TEXT DEFAULT '',
    caller_name TEXT DEFAULT '',
    call_ref TEXT DEFAULT '',
    duration_ms BIGINT,
    size BIGINT,
    file TEXT NOT NULL,
    status TEXT DEFAULT 'NEW',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX voicemail_messages_agent ON voicemail_messages (workspace_id, agent_id, id);
