-- Control assessments (issue 13): observations of a place's state ("as of T, held by A"),
-- recorded as incidents of kind `assessment`, and the rule that a confirmed record outranks
-- unconfirmed ones at the same valid time.
--
-- * place_facts.assessed: the status an assessment states (held, contested, unknown); null
--   for captures and withdrawals. place_facts.confirmed: the fact outranks unconfirmed ones
--   at its instant.
-- * control.assessed: the interval rests only on assessments.
--
-- Read models version 3: the tie rule changes timelines already projected (a confirmed
-- report now wins its instant), so an older live schema is rebuilt before serving.

ALTER FUNCTION public.frontline_create_read_models(text)
    RENAME TO frontline_create_read_models_v2;

CREATE FUNCTION public.frontline_create_read_models(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.frontline_create_read_models_v2(target);
    EXECUTE format($ddl$
        ALTER TABLE %1$I.place_facts
            ADD COLUMN assessed text CHECK (assessed IN ('held', 'contested', 'unknown')),
            ADD COLUMN confirmed boolean NOT NULL DEFAULT false;
        ALTER TABLE %1$I.control ADD COLUMN assessed boolean NOT NULL DEFAULT false;
        UPDATE %1$I.read_model_version SET version = 3;
    $ddl$, target);
END;
$fn$;

DO $$
BEGIN
    IF (SELECT position FROM rm.tracking) = 0 THEN
        DROP SCHEMA rm CASCADE;
        PERFORM public.frontline_create_read_models('rm');
    END IF;
END;
$$;
