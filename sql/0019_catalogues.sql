-- 0019_catalogues: reference catalogues imported from framework library files (CISO Assistant's YAML
-- library format), beside the built-in one the binary carries. A library version is immutable, like a
-- workflow version: the same content imports once, changed content needs the library's next version.
-- Workflows cite the latest version's requirements by id (`iso27001-2022:A.5.1`); the crosswalk adds the
-- mappings mapping libraries provide. Nothing of another project's content ships with Accord: every row
-- here came from a file an administrator imported.

CREATE TABLE accord.catalogue_library (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    urn text NOT NULL,
    version integer NOT NULL CONSTRAINT catalogue_library_version_positive CHECK (version >= 1),
    name text NOT NULL,
    framework_id text
        CONSTRAINT catalogue_library_framework_id_form CHECK (framework_id IS NULL OR framework_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    framework_name text,
    provider text,
    copyright text,
    file text NOT NULL,
    source text NOT NULL,
    checksum text NOT NULL CONSTRAINT catalogue_library_checksum_form CHECK (checksum ~ '^[0-9a-f]{64}$'),
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT catalogue_library_version_once UNIQUE (urn, version)
);
-- One library owns a framework id: another library may not take it over.
CREATE INDEX catalogue_library_framework ON accord.catalogue_library (framework_id, version DESC) WHERE framework_id IS NOT NULL;
COMMENT ON TABLE accord.catalogue_library IS 'One imported version of a framework or mapping library (accord catalogue import).';
COMMENT ON COLUMN accord.catalogue_library.framework_id IS
    'The id the framework''s requirements are cited under (the framework URN''s last segment, or --framework-id). NULL for a mapping-only library.';
COMMENT ON COLUMN accord.catalogue_library.source IS 'The file as imported; checksum is its SHA-256.';

CREATE TABLE accord.catalogue_requirement (
    library_id bigint NOT NULL REFERENCES accord.catalogue_library (id),
    position integer NOT NULL,
    ref text NOT NULL,
    urn text NOT NULL,
    title text NOT NULL,
    description text,
    parent text,
    assessable boolean NOT NULL,
    PRIMARY KEY (library_id, ref),
    CONSTRAINT catalogue_requirement_urn_once UNIQUE (library_id, urn)
);
COMMENT ON TABLE accord.catalogue_requirement IS 'A node of an imported framework''s requirement tree; ref is the id workflows cite.';

CREATE TABLE accord.catalogue_mapping (
    library_id bigint NOT NULL REFERENCES accord.catalogue_library (id),
    position integer NOT NULL,
    source text NOT NULL,
    target text NOT NULL,
    relationship text NOT NULL
        CONSTRAINT catalogue_mapping_relationship_known CHECK (relationship IN ('equal', 'subset', 'superset', 'intersect')),
    rationale text,
    PRIMARY KEY (library_id, position)
);
COMMENT ON TABLE accord.catalogue_mapping IS
    'A pair of a mapping library, resolved at import to catalogue ids (imported or built-in); relationship is the source''s to the target.';

-- Imported versions are history: the application inserts and reads them, never changes them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON accord.catalogue_library, accord.catalogue_requirement, accord.catalogue_mapping FROM accord_app;
    END IF;
END;
$$;
