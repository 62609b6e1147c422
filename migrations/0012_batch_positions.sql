-- A batch's positions assigned once for the whole insert, not by a trigger call per row.
--
-- The position trigger of 0001 ran PL/pgSQL for every row: it took the advisory lock and
-- looked the last position up again each time. A 1,000-event batch spent 46 ms in the
-- insert, against 7 ms for the same INSERT ... SELECT with the positions given (measured on
-- one database): most of a batch's time in PostgreSQL, ~40 µs an event.
--
-- es_insert_event_arrays (0010, Frontline's write path) now takes the table's lock and then
-- the same transaction-scoped advisory lock, in the order every other writer takes them (so
-- none can deadlock with it), reads the last position and record time once, and inserts row
-- n of the batch at last + n, all at one record time (greatest(clock_timestamp(), the last
-- one), so it never runs backwards). The locks are held until commit as before, so positions
-- stay gapless and committed in order.
--
-- The row trigger still assigns every other insert's positions (eventsourcing's own paths, a
-- psql session), overwriting any a writer supplies, as before. It stands aside only for rows
-- that come with positions while the transaction-local setting frontline.positions is
-- 'assigned', which the function sets around its insert. Those rows are checked once per
-- statement instead (frontline_events_check_positions, with the statement's rows as a
-- transition table): the lock is held by this transaction; the positions are consecutive,
-- follow the log's last one without a gap, and nothing lies beyond them; record time does
-- not run backwards and is the time of the insert; and none are supplied during a restore
-- (0006's import, whose record times the row trigger checks). A writer that gets any of it
-- wrong is refused, so the guarantees stay the database's, not the writer's. Inserts
-- without the setting skip the check at once.

DROP TRIGGER frontline_events_assign_position ON public.frontline_events;
CREATE TRIGGER frontline_events_assign_position
    BEFORE INSERT ON public.frontline_events
    FOR EACH ROW WHEN (
        NEW.notification_id IS NULL
        OR current_setting('frontline.positions', true) IS DISTINCT FROM 'assigned'
    )
    EXECUTE FUNCTION public.frontline_events_assign_position();

CREATE FUNCTION public.frontline_events_check_positions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    first_id bigint;
    last_id bigint;
    inserted_rows bigint;
    before_id bigint;
    before_at timestamptz;
BEGIN
    -- Without the setting, the row trigger assigned every position and record time itself.
    IF current_setting('frontline.positions', true) IS DISTINCT FROM 'assigned' THEN
        RETURN NULL;
    END IF;
    -- A restore (0006) goes through the row trigger, which checks its record times.
    IF current_setting('frontline.import', true) = 'on' THEN
        RAISE EXCEPTION 'positions are not supplied while importing a log'
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT min(i.notification_id), max(i.notification_id), count(*)
      INTO first_id, last_id, inserted_rows
      FROM inserted AS i;
    IF inserted_rows = 0 THEN
        RETURN NULL;
    END IF;
    -- Re-entrant: true when this transaction holds the lock already (it must, or another
    -- writer could have taken positions meanwhile); false when another one holds it.
    IF NOT pg_try_advisory_xact_lock('public.frontline_events'::regclass::oid::bigint) THEN
        RAISE EXCEPTION 'log positions are assigned under the event store''s lock'
            USING ERRCODE = 'lock_not_available';
    END IF;
    IF last_id - first_id + 1 <> inserted_rows THEN
        RAISE EXCEPTION 'the positions of one insert must be consecutive'
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT e.notification_id, e.recorded_at INTO before_id, before_at
      FROM public.frontline_events AS e
     WHERE e.notification_id < first_id
     ORDER BY e.notification_id DESC
     LIMIT 1;
    IF coalesce(before_id, 0) + 1 <> first_id
       OR EXISTS (SELECT 1 FROM public.frontline_events AS e WHERE e.notification_id > last_id)
    THEN
        RAISE EXCEPTION 'positions must continue the log without a gap (after %)',
            coalesce(before_id, 0) USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1
          FROM (SELECT i.recorded_at,
                       lag(i.recorded_at) OVER (ORDER BY i.notification_id) AS previous
                  FROM inserted AS i) AS ordered
         WHERE ordered.recorded_at < coalesce(ordered.previous, before_at)
    ) THEN
        RAISE EXCEPTION 'record time may not run backwards with position'
            USING ERRCODE = 'check_violation';
    END IF;
    -- Record time is the database's: between this statement's start and now (or the last
    -- record time, should the clock have stepped back).
    IF EXISTS (
        SELECT 1 FROM inserted AS i
         WHERE i.recorded_at < statement_timestamp()
            OR i.recorded_at > greatest(clock_timestamp(), before_at)
    ) THEN
        RAISE EXCEPTION 'record time is set by the database, at the time of the insert'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER frontline_events_check_positions
    AFTER INSERT ON public.frontline_events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION public.frontline_events_check_positions();

CREATE OR REPLACE FUNCTION public.es_insert_event_arrays(
    ids uuid[], versions bigint[], topics text[], states bytea[]
) RETURNS SETOF bigint
LANGUAGE plpgsql AS $BODY$
DECLARE
    last_id bigint;
    last_at timestamptz;
    now_at timestamptz;
BEGIN
    SET LOCAL lock_timeout = '5s';
    -- The table's lock first, then the writers' lock: the order every other writer takes
    -- them in (the insert's own ROW EXCLUSIVE, a restore's and eventsourcing's EXCLUSIVE,
    -- then the row trigger's advisory lock), so that no two can wait on each other.
    LOCK TABLE public.frontline_events IN ROW EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock('public.frontline_events'::regclass::oid::bigint);
    SELECT e.notification_id, e.recorded_at INTO last_id, last_at
      FROM public.frontline_events AS e
     ORDER BY e.notification_id DESC
     LIMIT 1;
    -- One record time for the batch (a clock stepping back mid-batch changes nothing).
    now_at := greatest(clock_timestamp(), last_at);
    NOTIFY frontline_events;
    PERFORM set_config('frontline.positions', 'assigned', true);
    RETURN QUERY
    INSERT INTO public.frontline_events AS t
           (originator_id, originator_version, topic, state, notification_id, recorded_at)
    SELECT u.originator_id, u.originator_version, u.topic, u.state,
           coalesce(last_id, 0) + u.n, now_at
      FROM unnest(ids, versions, topics, states)
           WITH ORDINALITY AS u (originator_id, originator_version, topic, state, n)
     ORDER BY u.n
    RETURNING t.notification_id;
    PERFORM set_config('frontline.positions', '', true);
END;
$BODY$;
