-- Fields the official Fonoster SDK carries that the seed's REST examples
-- do not: an agent's most registered contacts and longest registration
-- (seconds; NULL for the server's default), and a trunk's outbound SIP
-- URIs (a JSON array of {host, port, transport, user, weight, priority,
-- enabled}). A trunk's `sendRegister` is its `register` column, a
-- number's `appRef` its `application_id`: no new columns for those.
ALTER TABLE agents ADD COLUMN max_contacts BIGINT;
ALTER TABLE agents ADD COLUMN expires BIGINT;
ALTER TABLE trunks ADD COLUMN uris TEXT;
