-- The log is append-only, and the database enforces it: UPDATE and DELETE (per row) and
-- TRUNCATE (per statement) raise SQLSTATE FL001. Corrections are new events, never edits.
--
-- A superuser can still bypass triggers (ALTER TABLE ... DISABLE TRIGGER, or
-- session_replication_role = replica). In production, also run the API as a role that owns
-- nothing and holds only SELECT, INSERT on frontline_events.

CREATE FUNCTION public.frontline_events_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'frontline_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'FL001',
              HINT = 'Record a correcting event (amend, dispute, retract) instead.';
END;
$$;

CREATE TRIGGER frontline_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON public.frontline_events
    FOR EACH ROW EXECUTE FUNCTION public.frontline_events_reject_change();

CREATE TRIGGER frontline_events_no_truncate
    BEFORE TRUNCATE ON public.frontline_events
    FOR EACH STATEMENT EXECUTE FUNCTION public.frontline_events_reject_change();

-- knownAt queries: "the last position recorded by K".
CREATE INDEX frontline_events_recorded_at_idx ON public.frontline_events (recorded_at);
