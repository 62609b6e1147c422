-- Read models: current-state tables projected from the log, owned by the projector.
--
-- They live in a schema of their own so that `frontline rebuild` can project the whole log
-- into a fresh schema and swap it in atomically (ALTER SCHEMA ... RENAME). The DDL is
-- therefore a function of the target schema; this migration creates the live one, "rm",
-- and the rebuild calls the same function for its scratch schema.
--
-- Conventions: NULL valid_from / valid_to mean "since forever" / "until further notice";
-- NULL known_to means "still believed". Positions are log positions (notification_id).

CREATE FUNCTION public.frontline_create_read_models(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', target);
    EXECUTE format($ddl$
        -- Exactly-once: the last log position applied, written in the same transaction as
        -- the rows it produced.
        CREATE TABLE %1$I.tracking (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            position bigint NOT NULL
        );
        INSERT INTO %1$I.tracking (position) VALUES (0);

        CREATE TABLE %1$I.places (
            id uuid PRIMARY KEY,
            slug text NOT NULL UNIQUE,
            name text NOT NULL,
            kind text NOT NULL,
            latitude double precision NOT NULL,
            longitude double precision NOT NULL,
            country text NOT NULL,
            governorate text,
            aliases text[] NOT NULL,
            parent_id uuid,
            position bigint NOT NULL
        );
        CREATE INDEX ON %1$I.places (latitude, longitude);
        CREATE INDEX ON %1$I.places (governorate);
        CREATE INDEX ON %1$I.places (kind);

        CREATE TABLE %1$I.actors (
            id uuid PRIMARY KEY,
            slug text NOT NULL UNIQUE,
            name text NOT NULL,
            kind text NOT NULL,
            side text,
            aliases text[] NOT NULL,
            coalition_ids uuid[] NOT NULL,
            position bigint NOT NULL
        );

        -- The incident feed: each incident as currently believed.
        CREATE TABLE %1$I.incidents (
            id uuid PRIMARY KEY,
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
            recorded_position bigint NOT NULL UNIQUE,
            recorded_at timestamptz NOT NULL,
            updated_position bigint NOT NULL,
            version integer NOT NULL
        );
        CREATE INDEX ON %1$I.incidents (valid_from DESC, recorded_position DESC);
        CREATE INDEX ON %1$I.incidents (kind, valid_from DESC);
        CREATE INDEX ON %1$I.incidents USING gin (place_ids);
        CREATE INDEX ON %1$I.incidents USING gin (actor_ids);

        -- Each place's control facts (one per territorial incident that currently counts):
        -- the projector's input for rewriting that place's timeline.
        CREATE TABLE %1$I.place_facts (
            place_id uuid NOT NULL,
            incident_id uuid NOT NULL,
            kind text NOT NULL,
            effective_at timestamptz NOT NULL,
            certain_from timestamptz NOT NULL,
            precision text NOT NULL,
            recorded_position bigint NOT NULL,
            controllers uuid[] NOT NULL,
            withdrawn uuid,
            previous uuid,
            disputed boolean NOT NULL,
            PRIMARY KEY (place_id, incident_id)
        );
        CREATE INDEX ON %1$I.place_facts (incident_id);

        -- Bitemporal control intervals. A row says: from log position known_from until
        -- known_to, we believed the place was in this state during [valid_from, valid_to).
        -- Rows are never deleted; a revision closes the old row (known_to) and adds a new one.
        -- `span` is the same rectangle (x = valid time in epoch seconds, y = log position) for
        -- a GiST index, so "the state of every place at T as known at K" is one index probe.
        -- Probe it with `span @> box(p, p)`: GiST's box opclass cannot serve box @> point.
        CREATE TABLE %1$I.control (
            id bigserial PRIMARY KEY,
            place_id uuid NOT NULL,
            valid_from timestamptz,
            valid_to timestamptz,
            known_from bigint NOT NULL,
            known_to bigint,
            status text NOT NULL,
            controllers uuid[] NOT NULL,
            evidence uuid[] NOT NULL,
            disputed boolean NOT NULL,
            inferred boolean NOT NULL,
            precision text,
            certain_from timestamptz,
            span box NOT NULL
        );
        CREATE INDEX ON %1$I.control (place_id, valid_from);
        CREATE INDEX ON %1$I.control (place_id) WHERE known_to IS NULL;
        CREATE INDEX ON %1$I.control USING gist (span);

        -- Hand-overs as they are learned: one row each time a revision changes who holds a
        -- place *now* (the latest interval of its timeline). Feeds live maps and alert bots.
        CREATE TABLE %1$I.control_changes (
            id bigserial PRIMARY KEY,
            position bigint NOT NULL,
            place_id uuid NOT NULL,
            since timestamptz,
            before_status text,
            before_controllers uuid[] NOT NULL,
            after_status text,
            after_controllers uuid[] NOT NULL,
            evidence uuid[] NOT NULL
        );
        CREATE INDEX ON %1$I.control_changes (position);
    $ddl$, target);
END;
$fn$;

SELECT public.frontline_create_read_models('rm');
