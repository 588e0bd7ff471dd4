-- SIP digest authentication looks credentials up by username, across
-- workspaces, for every REGISTER and INVITE: index it, so a lookup costs a
-- seek, not a scan of every workspace's credentials.
CREATE INDEX IF NOT EXISTS credentials_username ON credentials (username);
