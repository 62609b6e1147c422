-- eventsourcing's database-function insert path (POSTGRES_ENABLE_DB_FUNCTIONS), which we use.
--
-- Why: eventsourcing's default path inserts through a psycopg *pipeline*, and a batch of a few
-- hundred events (a few hundred kB in one message) deadlocks there: the client waits for
-- results while the server still waits for the rest of the message. Measured here: a
-- 300-event batch took 0.13 s, a 400-event batch never returned. The function path sends one
-- plain statement and has no such limit (5,000 events in one atomic batch: ~2 s).
--
-- This path does not take eventsourcing's LOCK TABLE; positions stay gapless and committed
-- in order because the position trigger (0001) takes a transaction-scoped advisory lock held
-- until commit. The body matches eventsourcing 9.5.6's own (postgres.py,
-- sql_create_pg_function_insert_events) with POSTGRES_LOCK_TIMEOUT = 5 s, as
-- api.database.eventsourcing_env sets it.
CREATE FUNCTION public.es_insert_events_uuid(events public.stored_event_uuid[])
RETURNS SETOF bigint
LANGUAGE plpgsql AS $BODY$
BEGIN
    SET LOCAL lock_timeout = '5s';
    NOTIFY frontline_events;
    RETURN QUERY
    INSERT INTO public.frontline_events AS t (originator_id, originator_version, topic, state)
    SELECT originator_id, originator_version, topic, state
      FROM unnest(events)
    RETURNING notification_id;
END;
$BODY$;
