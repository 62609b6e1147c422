-- Actors' map colours (issue 15): the colour someone gave an actor (Actor.Recolored), and
-- each actor's rank in registration order, which the API turns into a default colour from a
-- colour-blind-safe palette (api.colors). Registration order makes the colour stable (a later
-- actor never shifts an earlier one's) and distinct for the first actors of a log, the ones
-- a map of it shows most.
--
-- The rank is the table's own: a trigger gives each new row the next one, whoever inserts
-- it (a projector of this release or of an earlier one, still running during an upgrade).
-- The projector writes actors in log order, so a rebuild gives every actor the same rank
-- again; the live read models are filled here in the same order (by the log position that
-- registered each).

CREATE FUNCTION public.frontline_next_color_rank() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.color_rank IS NULL THEN
        -- max + 1 through the unique index: an index probe, not a count of every actor.
        EXECUTE format('SELECT coalesce(max(color_rank) + 1, 0) FROM %I.actors', TG_TABLE_SCHEMA)
           INTO NEW.color_rank;
    END IF;
    RETURN NEW;
END;
$fn$;

ALTER FUNCTION public.frontline_create_read_models(text)
    RENAME TO frontline_create_read_models_v4;

CREATE FUNCTION public.frontline_create_read_models(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.frontline_create_read_models_v4(target);
    PERFORM public.frontline_add_actor_colors(target);
END;
$fn$;

CREATE FUNCTION public.frontline_add_actor_colors(target text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($ddl$
        ALTER TABLE %1$I.actors ADD COLUMN color text, ADD COLUMN color_rank integer;
        UPDATE %1$I.actors AS a SET color_rank = r.rank
          FROM (SELECT id, row_number() OVER (ORDER BY position, id) - 1 AS rank
                  FROM %1$I.actors) AS r
         WHERE r.id = a.id;
        ALTER TABLE %1$I.actors ALTER COLUMN color_rank SET NOT NULL;
        CREATE UNIQUE INDEX ON %1$I.actors (color_rank);
        CREATE TRIGGER next_color_rank BEFORE INSERT ON %1$I.actors
            FOR EACH ROW EXECUTE FUNCTION public.frontline_next_color_rank();
    $ddl$, target);
END;
$fn$;

SELECT public.frontline_add_actor_colors('rm');
