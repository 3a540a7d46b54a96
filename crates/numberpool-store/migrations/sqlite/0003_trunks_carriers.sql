-- SIP trunks and carriers as API resources (issue 5). Same SQL on both backends.

-- A version per row, as accounts and numbers have: the compare-and-set guard and the ETag.
ALTER TABLE sip_trunks ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE carriers ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- R-PROV-3: at most one default per provider and kind, kept by the database, so two requests
-- making different carriers the default at once cannot both win (the loser is a conflict).
CREATE UNIQUE INDEX carriers_one_default ON carriers (provider_id, kind) WHERE is_default;

-- R-PROV-2: deleting a trunk asks whether a number uses it. Partial, so the bulk add (which
-- sets no trunk) pays nothing for it. The carrier columns get no index: a bulk add sets the
-- default carrier on every number, and deleting a carrier is a rare admin act that may scan.
CREATE INDEX numbers_sip_trunk ON numbers (sip_trunk_id) WHERE sip_trunk_id IS NOT NULL;
