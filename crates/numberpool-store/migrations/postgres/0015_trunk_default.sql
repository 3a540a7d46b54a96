-- R-PROV-3 for SIP trunks: a provider with trunks has exactly one default, which a provisioned
-- number goes out on when no trunk is named (issue 14). Each provider's oldest trunk (ids are
-- UUIDv7, so the smallest is the first made) becomes its default.
ALTER TABLE sip_trunks ADD COLUMN is_default BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE sip_trunks SET is_default = TRUE
    WHERE id IN (SELECT min(id) FROM sip_trunks GROUP BY provider_id);
CREATE UNIQUE INDEX sip_trunks_one_default ON sip_trunks (provider_id) WHERE is_default;
