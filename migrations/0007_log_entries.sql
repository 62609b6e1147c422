-- Read models of every log entry, for the `logEntries` subscription and for subscriptions that
-- must give the same item whichever path serves them:
--
-- * incident_versions: each incident as it stood right after each of its events (one row per
--   incident event, the columns of `incidents`), so "the incident at position p" is one row
--   and never changes once written.
-- * log_entries: one row per event of the log, with what a client needs to follow it: its type,
--   its aggregate, and a correction's own fields (reason, source, who disputes, an
--   amendment's values before and after).
-- * read_model_version: which version of the read models a schema holds. `frontline serve`
--   rebuilds an older live schema before serving (readmodel.rebuild.rebuild_if_outdated).
--
-- The DDL function grows by layers: the one before is renamed and called first, so no
-- migration repeats another's tables.

ALTER FUNCTION public.frontline_create_read_models(text)
    RENAME TO frontline_create_read_models_v1;

CREATE FUNCTION public.frontline_create_read_models(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.frontline_create_read_models_v1(target);
    EXECUTE format($ddl$
        CREATE TABLE %1$I.read_model_version (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version integer NOT NULL
        );
        INSERT INTO %1$I.read_model_version (version) VALUES (2);

        CREATE TABLE %1$I.incident_versions (
            id uuid NOT NULL,
            kind text NOT NULL,
            status text NOT NULL,
            valid_from timestamptz NOT NULL,
            valid_to timestamptz NOT NULL,
            precision text NOT NULL,
            place_ids uuid[] NOT NULL,
            actor_ids uuid[] NOT NULL,
            summary text,
            details jsonb NOT NULL,
            sources jsonb NOT NULL,
            recorded_by text,
            recorded_position bigint NOT NULL,
            recorded_at timestamptz NOT NULL,
            updated_position bigint PRIMARY KEY,
            version integer NOT NULL
        );
        CREATE INDEX ON %1$I.incident_versions (id, updated_position);

        CREATE TABLE %1$I.log_entries (
            position bigint PRIMARY KEY,
            recorded_at timestamptz NOT NULL,
            type text NOT NULL,
            aggregate_id uuid NOT NULL,
            aggregate_version integer NOT NULL,
            recorded_by text,
            reason text,
            source jsonb,
            disputed_by uuid,
            amended_from jsonb,
            amended_to jsonb
        );
        CREATE INDEX ON %1$I.log_entries (aggregate_id, position);
    $ddl$, target);
END;
$fn$;

-- A database whose read models hold nothing yet gets the new ones at once; one that holds a
-- projected log keeps serving until `frontline serve` (or `frontline rebuild`) rebuilds it.
DO $$
BEGIN
    IF (SELECT position FROM rm.tracking) = 0 THEN
        DROP SCHEMA rm CASCADE;
        PERFORM public.frontline_create_read_models('rm');
    END IF;
END;
$$;
