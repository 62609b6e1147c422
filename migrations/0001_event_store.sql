-- The event store: what eventsourcing 9.5.6's PostgresApplicationRecorder would create for an
-- application named "Frontline" (eventsourcing runs with CREATE_TABLE off; this file owns the
-- schema). Names and column types must match the library exactly:
--   * table public.frontline_events: the factory names it "<application name lowered>_events";
--   * composite type public.stored_event_uuid: eventsourcing inserts with
--     INSERT INTO ... (originator_id, originator_version, topic, state)
--     SELECT ... FROM unnest(%s::public.stored_event_uuid[]) RETURNING notification_id,
--     and looks the type up by name when it connects.
--
-- Deliberate deviations from the library's DDL:
--   (a) recorded_at: record time, the second axis of our bitemporal model. eventsourcing's
--       INSERT names its columns, so the default (and the trigger below) supply it.
--   (b) notification_id is a plain bigint set by a trigger, not a bigserial. A sequence burns
--       numbers on rolled-back inserts (e.g. an optimistic-concurrency conflict on the primary
--       key), leaving gaps; we promise gapless global positions. The trigger hands out
--       max + 1, which is gapless and race-free because inserters are serialized: eventsourcing
--       takes LOCK TABLE ... IN EXCLUSIVE MODE before inserting, and the trigger also takes a
--       transaction-scoped advisory lock so a writer that skips the table lock (a psql session,
--       eventsourcing's POSTGRES_ENABLE_DB_FUNCTIONS path) is serialized too. Both locks are held
--       until commit, so positions are also committed in order: a reader tailing the log never
--       skips a position that commits later.

CREATE TYPE public.stored_event_uuid AS (
    originator_id uuid,
    originator_version bigint,
    topic text,
    state bytea
);

CREATE TABLE public.frontline_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    -- Same storage parameters as eventsourcing: an append-only table has nothing to vacuum.
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

CREATE UNIQUE INDEX frontline_events_notification_id_idx
    ON public.frontline_events (notification_id ASC);

COMMENT ON COLUMN public.frontline_events.notification_id IS
    'Global log position: 1, 2, 3, ... gapless, in commit order. Set by trigger.';
COMMENT ON COLUMN public.frontline_events.recorded_at IS
    'Record time: when Frontline learned the fact. Set by trigger, never decreases.';

CREATE FUNCTION public.frontline_events_assign_position() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_id bigint;
    last_at timestamptz;
BEGIN
    -- Keyed by the table's OID; held until the transaction ends (see header, deviation (b)).
    PERFORM pg_advisory_xact_lock('public.frontline_events'::regclass::oid::bigint);
    -- A row-level BEFORE trigger sees the rows that earlier rows of the same INSERT added,
    -- so a multi-row insert gets consecutive positions. The unique index makes this a
    -- backward index scan of one entry.
    SELECT e.notification_id, e.recorded_at INTO last_id, last_at
      FROM public.frontline_events AS e
     ORDER BY e.notification_id DESC
     LIMIT 1;
    NEW.notification_id := coalesce(last_id, 0) + 1;
    -- Record time is the database's, not the writer's; clamp so that it never runs backwards
    -- with position even if the server clock steps back.
    NEW.recorded_at := greatest(clock_timestamp(), last_at);
    RETURN NEW;
END;
$$;

CREATE TRIGGER frontline_events_assign_position
    BEFORE INSERT ON public.frontline_events
    FOR EACH ROW EXECUTE FUNCTION public.frontline_events_assign_position();
