-- Call records, one per leg: the leg's own id (`leg_ref`) beside the id of
-- the call its legs share (`call_ref`), which side it is ('A' the caller's,
-- 'B' the callee's), the caller and callee as dialled beside `src`/`dst`
-- as translated, and the application's ref (kept when the application is
-- deleted). Records written before this step were one leg each, their
-- `call_ref` the leg's id: it stays both.
ALTER TABLE cdrs ADD COLUMN leg_ref TEXT DEFAULT '';
ALTER TABLE cdrs ADD COLUMN leg TEXT DEFAULT 'A';
ALTER TABLE cdrs ADD COLUMN src_dialled TEXT DEFAULT '';
ALTER TABLE cdrs ADD COLUMN dst_dialled TEXT DEFAULT '';
ALTER TABLE cdrs ADD COLUMN application_ref TEXT DEFAULT '';
UPDATE cdrs SET leg_ref = call_ref, src_dialled = src, dst_dialled = dst;
-- What the views look records up by and filter on.
CREATE INDEX cdrs_call ON cdrs (workspace_id, call_ref);
CREATE INDEX cdrs_leg ON cdrs (workspace_id, leg_ref);
CREATE INDEX cdrs_src ON cdrs (workspace_id, src);
CREATE INDEX cdrs_dst ON cdrs (workspace_id, dst);
CREATE INDEX cdrs_leg_calldate ON cdrs (workspace_id, leg, calldate);
