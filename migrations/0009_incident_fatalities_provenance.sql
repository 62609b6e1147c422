-- What datasets such as ACLED say of an incident beyond what Frontline asked for (issue 14):
-- its fatalities, and its provenance (the dataset, the record's id and revision there, and
-- the dataset's own columns, for an export to give back).
--
-- Every incident recorded before this had neither, so the live read models take the columns
-- as they are (NULL is the truth for them): no rebuild.

ALTER FUNCTION public.frontline_create_read_models(text)
    RENAME TO frontline_create_read_models_v3;

CREATE FUNCTION public.frontline_create_read_models(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.frontline_create_read_models_v3(target);
    PERFORM public.frontline_add_incident_extras(target);
END;
$fn$;

CREATE FUNCTION public.frontline_add_incident_extras(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($ddl$
        ALTER TABLE %1$I.incidents ADD COLUMN fatalities integer, ADD COLUMN provenance jsonb;
        -- IF EXISTS: live read models older than version 2 have none; they are rebuilt
        -- before serving, through the function above.
        ALTER TABLE IF EXISTS %1$I.incident_versions
            ADD COLUMN fatalities integer, ADD COLUMN provenance jsonb;
        CREATE INDEX ON %1$I.incidents ((provenance->>'record_id'))
            WHERE provenance IS NOT NULL;
    $ddl$, target);
END;
$fn$;

SELECT public.frontline_add_incident_extras('rm');
