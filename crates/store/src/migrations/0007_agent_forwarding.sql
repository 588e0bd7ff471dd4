-- Call forwarding and do-not-disturb per agent, set from a phone with
-- feature codes (`*72...`) and read by the router: forward always (CFU),
-- on busy, on no answer (a number, empty for none), and DND (0/1).
ALTER TABLE agents ADD COLUMN forward_always TEXT DEFAULT '';
ALTER TABLE agents ADD COLUMN forward_busy TEXT DEFAULT '';
ALTER TABLE agents ADD COLUMN forward_no_answer TEXT DEFAULT '';
ALTER TABLE agents ADD COLUMN dnd BIGINT DEFAULT 0;
-- The trunk a Fonoster number's calls leave through (`trunkRef`): a
-- domain's egress policy sends calls out as that number, on that trunk.
ALTER TABLE numbers ADD COLUMN trunk_id BIGINT REFERENCES trunks (id);
