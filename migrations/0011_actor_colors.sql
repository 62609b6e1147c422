-- Actors' map colours (issue 15): the colour someone gave an actor (Actor.Recolored), and
-- each actor's rank in registration order, which the API turns into a default colour from a
-- colour-blind-safe palette (api.colors). Registration order makes
-- the colour stable (a later actor never shifts an earlier one's) and distinct for the first
-- actors of a log, the ones a map of it shows most. The projector sets it when it first
-- writes the actor, so a rebuild gives every actor the same rank again; the live read
-- models are filled here in the same order (by the log position that registered each).

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
        -- The next rank is max + 1: an index probe, not a count of every actor.
        CREATE UNIQUE INDEX ON %1$I.actors (color_rank);
    $ddl$, target);
END;
$fn$;

SELECT public.frontline_add_actor_colors('rm');
