-- 0011_improvement_web: out of office from a first day to a last day.
-- A delegation had only a last day and was in force from when it was given; a person who says "I am
-- away from DATE to DATE" can now set it up ahead. Delegations given before keep their first day as the
-- day they were given, which is when they came into force.
ALTER TABLE accord.delegation ADD COLUMN valid_from date;
UPDATE accord.delegation SET valid_from = (created_at AT TIME ZONE 'UTC')::date;
ALTER TABLE accord.delegation ALTER COLUMN valid_from SET NOT NULL;
ALTER TABLE accord.delegation ALTER COLUMN valid_from SET DEFAULT current_date;
-- No CHECK (valid_from <= valid_until): the engine refuses a last day before the first, and a
-- delegation that has ended keeps its first day whatever its last became.
COMMENT ON COLUMN accord.delegation.valid_from IS 'The first day the deputy may sign (inclusive); the delegation is in force from valid_from to valid_until.';
