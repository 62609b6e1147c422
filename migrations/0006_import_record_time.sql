-- Restoring a backup (`frontline import`) must keep each event's original record time: the
-- knownAt axis is only reproducible if "recorded at" survives the round trip. The position
-- trigger of 0001 overwrites recorded_at with the database clock, so it now honours a supplied
-- recorded_at in a session that says it is importing, with the transaction-local setting
--     SELECT set_config('frontline.import', 'on', true);
-- Record time still never runs backwards with position: an imported recorded_at earlier than
-- the last one is refused (SQLSTATE FL002), and so is one in the future, which would freeze
-- every later (clamped) record time at that instant. Positions are assigned exactly as before
-- (max + 1 under the advisory lock), so importing in log order reproduces them; the importer
-- checks each one.

CREATE OR REPLACE FUNCTION public.frontline_events_assign_position() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_id bigint;
    last_at timestamptz;
BEGIN
    -- Keyed by the table's OID; held until the transaction ends (0001, deviation (b)).
    PERFORM pg_advisory_xact_lock('public.frontline_events'::regclass::oid::bigint);
    SELECT e.notification_id, e.recorded_at INTO last_id, last_at
      FROM public.frontline_events AS e
     ORDER BY e.notification_id DESC
     LIMIT 1;
    NEW.notification_id := coalesce(last_id, 0) + 1;
    IF current_setting('frontline.import', true) = 'on' THEN
        IF NEW.recorded_at < last_at OR NEW.recorded_at > clock_timestamp() THEN
            RAISE EXCEPTION 'imported recorded_at % at position % is out of order (last %)',
                NEW.recorded_at, NEW.notification_id, last_at
                USING ERRCODE = 'FL002',
                      HINT = 'Import a log in position order, recorded no later than now.';
        END IF;
    ELSE
        -- Record time is the database's, not the writer's; clamp so that it never runs
        -- backwards with position even if the server clock steps back.
        NEW.recorded_at := greatest(clock_timestamp(), last_at);
    END IF;
    RETURN NEW;
END;
$$;
