-- A porting order's attachments (issue 14): the letter of authorization and a bill copy, kept
-- in the database beside the order (PDF, PNG or JPEG, at most 5 MiB each, checked by the service).
CREATE TABLE port_attachments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES port_orders (id),
    kind TEXT NOT NULL CHECK (kind IN ('loa', 'bill')),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX port_attachments_order ON port_attachments (order_id, id);
