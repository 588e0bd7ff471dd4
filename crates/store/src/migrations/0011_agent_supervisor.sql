-- Whether an agent may act on other agents' calls from its phone: the
-- eavesdrop, whisper, force insert (barge) and force breakdown feature
-- codes (`*33` to `*36`). Off by default; a boolean stored 0/1 like the
-- other flags of `agents`.
ALTER TABLE agents ADD COLUMN supervisor BIGINT DEFAULT 0;
