// sked/postgres/migrations.hpp — the tables and functions sked keeps in PostgreSQL, as
// numbered migrations. migrate() (migrate.hpp) applies the ones a schema lacks, in order,
// in one transaction; a store refuses a schema that is older or newer than this list.
//
// `@schema@` stands for the schema's quoted name. Each call a store makes is one of the
// functions below, so a claim, a batch of claims or a batch of run ends is one round
// trip and one transaction, as a Redis script is (docs/locks.md, "PostgreSQL").
//
// Never edit a migration that shipped: add the next one.
#pragma once

#include <array>
#include <string_view>

namespace sked::postgres::detail {

struct migration {
    int version;
    std::string_view summary;
    std::string_view sql;
};

inline constexpr std::array migrations{
    migration{1, "leases, run keys and slot progress", R"sql(
-- One row per lock (space 'l') and per run key (space 'k'). A row outlives its lease or
-- its retention by the client's fence_memory, so its fencing counter keeps growing;
-- forget() deletes it after that.
CREATE TABLE @schema@.leases (
    space "char" NOT NULL,
    name text NOT NULL,
    state "char" NOT NULL,            -- 'r' held, 'd' done (run keys), 'f' free (released)
    owner text NOT NULL,
    fence bigint NOT NULL,
    expires_at timestamptz NOT NULL,  -- 'r': the lease ends; 'd': the retention ends; 'f': freed
    PRIMARY KEY (space, name)
);
CREATE INDEX leases_expiry ON @schema@.leases (expires_at);

-- The latest slot each job handled (sked::slot_progress).
CREATE TABLE @schema@.slots (
    job text PRIMARY KEY,
    slot timestamptz NOT NULL
);

-- Microseconds since the epoch: the floor of every fencing token.
CREATE FUNCTION @schema@.micros(at timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT (extract(epoch FROM at) * 1000000)::bigint $$;

-- For each name: 0 acquired (the lease's token; the ms it has left), 1 held elsewhere
-- (the ms the holder has left), 2 done. A name whose row is free, or whose lease or
-- retention ran out, is taken with a token one above its last (at least the clock in
-- µs). A name held by the same owner is this claim sent again (its answer was lost).
CREATE FUNCTION @schema@.claim(p_space "char", p_names text[], p_owners text[], p_ttl_ms bigint)
RETURNS TABLE (o_status integer, o_fence bigint, o_left_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := clock_timestamp();
    until timestamptz := at + p_ttl_ms * interval '1 millisecond';
    floor_us bigint := @schema@.micros(at);
    held @schema@.leases;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_names, 1), 0) LOOP
        INSERT INTO @schema@.leases AS l (space, name, state, owner, fence, expires_at)
        VALUES (p_space, p_names[i], 'r', p_owners[i], floor_us, until)
        ON CONFLICT (space, name) DO UPDATE
            SET state = 'r', owner = excluded.owner, fence = greatest(l.fence + 1, floor_us), expires_at = until
            WHERE l.state = 'f' OR l.expires_at <= at
        RETURNING l.fence INTO o_fence;
        IF FOUND THEN
            o_status := 0;
            o_left_ms := p_ttl_ms;
        ELSE
            SELECT * INTO held FROM @schema@.leases l WHERE l.space = p_space AND l.name = p_names[i];
            o_fence := held.fence;
            o_left_ms := greatest(0, ceil(extract(epoch FROM held.expires_at - at) * 1000))::bigint;
            o_status := CASE WHEN held.state = 'd' THEN 2 WHEN held.owner = p_owners[i] THEN 0 ELSE 1 END;
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;

-- Extends a lease that is still this owner's and has not run out.
CREATE FUNCTION @schema@.renew(p_space "char", p_name text, p_owner text, p_ttl_ms bigint) RETURNS boolean
LANGUAGE sql AS $$
    WITH renewed AS (
        UPDATE @schema@.leases SET expires_at = clock_timestamp() + p_ttl_ms * interval '1 millisecond'
        WHERE space = p_space AND name = p_name AND state = 'r' AND owner = p_owner
          AND expires_at > clock_timestamp()
        RETURNING 1)
    SELECT count(*) = 1 FROM renewed $$;

-- Ends this owner's lease: done for p_keep_ms (run keys), or free. A lease that ran out
-- may still end while nobody else took the name. Completing is idempotent for its
-- holder: a completion sent again (its answer was lost, or the run's own transaction
-- completed the key) answers true again.
CREATE FUNCTION @schema@.finish(p_space "char", p_name text, p_owner text, p_done boolean, p_keep_ms bigint)
RETURNS boolean
LANGUAGE sql AS $$
    WITH ended AS (
        UPDATE @schema@.leases
        SET state = CASE WHEN p_done THEN 'd' ELSE 'f' END::"char",
            expires_at = clock_timestamp() + CASE WHEN p_done THEN p_keep_ms ELSE 0 END * interval '1 millisecond'
        WHERE space = p_space AND name = p_name AND owner = p_owner AND (state = 'r' OR (p_done AND state = 'd'))
        RETURNING 1)
    SELECT count(*) = 1 FROM ended $$;

-- Moves a job's record of handled slots to p_slot (seconds since the epoch) if later.
CREATE FUNCTION @schema@.record_slot(p_job text, p_slot bigint) RETURNS boolean
LANGUAGE sql AS $$
    WITH moved AS (
        INSERT INTO @schema@.slots AS s (job, slot) VALUES (p_job, to_timestamp(p_slot))
        ON CONFLICT (job) DO UPDATE SET slot = excluded.slot WHERE s.slot < excluded.slot
        RETURNING 1)
    SELECT count(*) = 1 FROM moved $$;

CREATE FUNCTION @schema@.last_slot(p_job text) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT extract(epoch FROM slot)::bigint FROM @schema@.slots WHERE job = p_job $$;

-- Deletes up to p_limit rows whose lease or retention ended before p_before; rows
-- another transaction holds are left for the next call.
CREATE FUNCTION @schema@.forget(p_before timestamptz, p_limit integer) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM @schema@.leases WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM @schema@.leases WHERE expires_at < p_before LIMIT p_limit FOR UPDATE SKIP LOCKED)) $$;

-- The ends of many runs: finish() of each run key (p_done[i]), and record_slot() when
-- p_jobs[i] is not NULL; then forget() a few old rows, so the table stays bounded
-- without a sweeper of its own.
CREATE FUNCTION @schema@.settle(p_names text[], p_owners text[], p_done boolean[], p_keep_ms bigint[],
                                p_jobs text[], p_slots bigint[], p_memory_ms bigint)
RETURNS TABLE (o_key boolean, o_recorded boolean)
LANGUAGE plpgsql AS $$
DECLARE
    items integer := coalesce(array_length(p_names, 1), 0);
BEGIN
    FOR i IN 1 .. items LOOP
        o_key := @schema@.finish('k', p_names[i], p_owners[i], p_done[i], p_keep_ms[i]);
        o_recorded := false;
        IF p_jobs[i] IS NOT NULL THEN
            o_recorded := @schema@.record_slot(p_jobs[i], p_slots[i]);
        END IF;
        RETURN NEXT;
    END LOOP;
    PERFORM @schema@.forget(clock_timestamp() - p_memory_ms * interval '1 millisecond', 2 * items + 16);
END $$;

-- For each run key: claimed, and its lease ran out with no end (a dead holder).
CREATE FUNCTION @schema@.abandoned(p_names text[]) RETURNS SETOF boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(l.state = 'r' AND l.expires_at <= clock_timestamp(), false)
    FROM unnest(p_names) WITH ORDINALITY AS n(name, i)
    LEFT JOIN @schema@.leases l ON l.space = 'k' AND l.name = n.name
    ORDER BY n.i $$;
)sql"},
    migration{2, "durable one-off jobs", R"sql(
-- One row per one-off job: 'p' pending (due at run_at), 'r' taken (its lease ends at
-- lease_until), 'd' done (kept until keep_until, so the same key is not created again).
CREATE TABLE @schema@.one_offs (
    kind text NOT NULL,
    key text NOT NULL,
    state "char" NOT NULL,
    slot timestamptz NOT NULL,         -- the due time asked for: the run key's instant
    run_at timestamptz NOT NULL,       -- when it may be taken (moved by a calendar or a retry)
    attempt integer NOT NULL,
    payload bytea NOT NULL,
    owner text,
    fence bigint,
    lease_until timestamptz,
    keep_until timestamptz,
    PRIMARY KEY (kind, key)
);
CREATE INDEX one_offs_due ON @schema@.one_offs (kind, run_at) WHERE state = 'p';
CREATE INDEX one_offs_taken ON @schema@.one_offs (kind, lease_until) WHERE state = 'r';
CREATE INDEX one_offs_done ON @schema@.one_offs (keep_until) WHERE state = 'd';

-- The fencing tokens of one-off jobs: one sequence, started at the clock in µs, so a
-- token is higher than every token before it, of any job.
CREATE SEQUENCE @schema@.one_off_fences;
SELECT setval('@schema@.one_off_fences', @schema@.micros(clock_timestamp()));

CREATE FUNCTION @schema@.ms_time(p_ms bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT timestamptz 'epoch' + p_ms * interval '1 millisecond' $$;
CREATE FUNCTION @schema@.time_ms(p_at timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT (extract(epoch FROM p_at) * 1000)::bigint $$;

-- 0 created, 1 exists (pending or taken), 2 done (within its keep).
CREATE FUNCTION @schema@.create_job(p_kind text, p_key text, p_slot bigint, p_run_at_ms bigint, p_payload bytea)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    existing "char";
BEGIN
    INSERT INTO @schema@.one_offs AS j (kind, key, state, slot, run_at, attempt, payload)
    VALUES (p_kind, p_key, 'p', to_timestamp(p_slot), @schema@.ms_time(p_run_at_ms), 1, p_payload)
    ON CONFLICT (kind, key) DO UPDATE
        SET state = 'p', slot = excluded.slot, run_at = excluded.run_at, attempt = 1, payload = excluded.payload,
            owner = NULL, lease_until = NULL, keep_until = NULL
        WHERE j.state = 'd' AND j.keep_until <= clock_timestamp();
    IF FOUND THEN
        RETURN 0;
    END IF;
    SELECT j.state INTO existing FROM @schema@.one_offs j WHERE j.kind = p_kind AND j.key = p_key;
    RETURN CASE WHEN existing = 'd' THEN 2 ELSE 1 END;
END $$;

-- Up to p_limit jobs of a kind due by p_now_ms, and taken jobs whose lease ran out,
-- earliest first, each leased to p_owner with a new token; jobs another take is locking
-- are skipped. The last row is the kind's queue after the take: o_key NULL, o_attempt
-- the pending jobs, o_fence those taken, o_run_at_ms the earliest pending run_at.
CREATE FUNCTION @schema@.take_jobs(p_kind text, p_now_ms bigint, p_limit integer, p_ttl_ms bigint, p_owner text)
RETURNS TABLE (o_key text, o_payload bytea, o_slot bigint, o_run_at_ms bigint, o_attempt bigint, o_fence bigint)
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT j.key FROM @schema@.one_offs j
        WHERE j.kind = p_kind
          AND ((j.state = 'p' AND j.run_at <= @schema@.ms_time(p_now_ms)) OR (j.state = 'r' AND j.lease_until <= at))
        ORDER BY j.run_at, j.key
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED),
    taken AS (
        UPDATE @schema@.one_offs j
        SET state = 'r', owner = p_owner, fence = nextval('@schema@.one_off_fences'),
            lease_until = at + p_ttl_ms * interval '1 millisecond'
        FROM due WHERE j.kind = p_kind AND j.key = due.key
        RETURNING j.key, j.payload, extract(epoch FROM j.slot)::bigint AS slot,
                  @schema@.time_ms(j.run_at) AS run_at_ms, j.attempt::bigint AS attempt, j.fence)
    SELECT * FROM taken ORDER BY taken.run_at_ms, taken.key;
    RETURN QUERY
    SELECT NULL::text, NULL::bytea, NULL::bigint, @schema@.time_ms(min(j.run_at) FILTER (WHERE j.state = 'p')),
           count(*) FILTER (WHERE j.state = 'p'), count(*) FILTER (WHERE j.state = 'r')
    FROM @schema@.one_offs j WHERE j.kind = p_kind AND j.state <> 'd';
END $$;

CREATE FUNCTION @schema@.renew_job(p_kind text, p_key text, p_owner text, p_ttl_ms bigint) RETURNS boolean
LANGUAGE sql AS $$
    WITH renewed AS (
        UPDATE @schema@.one_offs SET lease_until = clock_timestamp() + p_ttl_ms * interval '1 millisecond'
        WHERE kind = p_kind AND key = p_key AND state = 'r' AND owner = p_owner AND lease_until > clock_timestamp()
        RETURNING 1)
    SELECT count(*) = 1 FROM renewed $$;

-- Done, kept for p_keep_ms (its payload dropped); then forgets a few jobs past their keep.
-- A job its run's own transaction finished (complete_run) is 'd' with its owner kept: the
-- taker's finish after it answers true once, as for a job it finishes itself.
CREATE FUNCTION @schema@.finish_job(p_kind text, p_key text, p_owner text, p_keep_ms bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := clock_timestamp();
    ended boolean;
BEGIN
    UPDATE @schema@.one_offs j SET state = 'd', payload = '', owner = NULL, lease_until = NULL,
                                   keep_until = at + p_keep_ms * interval '1 millisecond'
    WHERE j.kind = p_kind AND j.key = p_key AND j.state IN ('r', 'd') AND j.owner = p_owner;
    ended := FOUND;
    DELETE FROM @schema@.one_offs WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM @schema@.one_offs j WHERE j.state = 'd' AND j.keep_until < at
        LIMIT 16 FOR UPDATE SKIP LOCKED));
    RETURN ended;
END $$;

-- Back to pending, due at p_run_at_ms as attempt p_attempt (a retry, or a release as it was).
CREATE FUNCTION @schema@.reschedule_job(p_kind text, p_key text, p_owner text, p_run_at_ms bigint,
                                        p_attempt integer) RETURNS boolean
LANGUAGE sql AS $$
    WITH moved AS (
        UPDATE @schema@.one_offs SET state = 'p', run_at = @schema@.ms_time(p_run_at_ms), attempt = p_attempt,
                                     owner = NULL, lease_until = NULL
        WHERE kind = p_kind AND key = p_key AND state = 'r' AND owner = p_owner
        RETURNING 1)
    SELECT count(*) = 1 FROM moved $$;

-- Inside a run's own transaction (run_transaction): whether the run still holds what
-- ends its slot, and ending it with the run's writes. A scheduled run holds its run key
-- (leases, space 'k') with its token; a retry stored in the backend holds the one-off
-- p_retry_kind "<run key>#<attempt>" with its token. The rows stay unlocked until the
-- completion, so a long transaction does not hold up other replicas' claims; a run that
-- lost its lease finds another token there and commits nothing.
CREATE FUNCTION @schema@.holds_run(p_name text, p_attempt integer, p_fence bigint, p_retry_kind text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM @schema@.leases
                   WHERE space = 'k' AND name = p_name AND fence = p_fence AND state = 'r')
        OR EXISTS (SELECT 1 FROM @schema@.one_offs
                   WHERE kind = p_retry_kind AND key = p_name || '#' || p_attempt AND fence = p_fence
                     AND state = 'r') $$;
CREATE FUNCTION @schema@.complete_run(p_name text, p_attempt integer, p_fence bigint, p_retry_kind text,
                                      p_keep_ms bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    until timestamptz := clock_timestamp() + p_keep_ms * interval '1 millisecond';
BEGIN
    UPDATE @schema@.leases SET state = 'd', expires_at = until
    WHERE space = 'k' AND name = p_name AND fence = p_fence AND state = 'r';
    IF FOUND THEN
        RETURN true;
    END IF;
    UPDATE @schema@.one_offs SET state = 'd', payload = '', lease_until = NULL, keep_until = until
    WHERE kind = p_retry_kind AND key = p_name || '#' || p_attempt AND fence = p_fence AND state = 'r';
    RETURN FOUND;
END $$;

-- Removes a pending or taken job (a run in progress is not stopped; its finish fails).
CREATE FUNCTION @schema@.cancel_job(p_kind text, p_key text) RETURNS boolean
LANGUAGE sql AS $$
    WITH removed AS (
        DELETE FROM @schema@.one_offs WHERE kind = p_kind AND key = p_key AND state <> 'd' RETURNING 1)
    SELECT count(*) = 1 FROM removed $$;
)sql"},
    migration{3, "one-offs due: notify listeners", R"sql(
-- A one-off that becomes pending (created, created again after its keep, retried, put
-- back by a replica that stopped) is told on channel sked_one_offs to every session that
-- listens (sked::postgres::one_off_listener), when its transaction commits, so the
-- replicas that handle its kind take it when it is due rather than at their next poll.
-- Payload: "<run_at ms> <bytes of the schema's name> <schema><kind>", so a listener
-- picks out its schema's notices whatever the names hold.
CREATE FUNCTION @schema@.notify_due() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sked_one_offs', @schema@.time_ms(NEW.run_at) || ' ' || octet_length(TG_TABLE_SCHEMA) || ' ' ||
                                       TG_TABLE_SCHEMA || NEW.kind);
    RETURN NULL;
END $$;
CREATE TRIGGER one_offs_due_notice AFTER INSERT OR UPDATE OF state, run_at ON @schema@.one_offs
FOR EACH ROW WHEN (NEW.state = 'p') EXECUTE FUNCTION @schema@.notify_due();
)sql"},
    migration{4, "one-offs: finished in batches", R"sql(
-- The finishes of many one-offs in one transaction, so they share one commit:
-- finish_job() of each (o_ended[i] its answer), then a few jobs past their keep forgotten.
CREATE FUNCTION @schema@.finish_jobs(p_kinds text[], p_keys text[], p_owners text[], p_keep_ms bigint[])
RETURNS TABLE (o_ended boolean)
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := clock_timestamp();
    items integer := coalesce(array_length(p_kinds, 1), 0);
BEGIN
    FOR i IN 1 .. items LOOP
        UPDATE @schema@.one_offs j SET state = 'd', payload = '', owner = NULL, lease_until = NULL,
                                       keep_until = at + p_keep_ms[i] * interval '1 millisecond'
        WHERE j.kind = p_kinds[i] AND j.key = p_keys[i] AND j.state IN ('r', 'd') AND j.owner = p_owners[i];
        o_ended := FOUND;
        RETURN NEXT;
    END LOOP;
    DELETE FROM @schema@.one_offs WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM @schema@.one_offs j WHERE j.state = 'd' AND j.keep_until < at
        LIMIT 2 * items + 16 FOR UPDATE SKIP LOCKED));
END $$;
)sql"},
};

/// The channel of migration 3's notices.
inline constexpr const char* due_channel = "sked_one_offs";

/// The version a schema has once every migration above is applied.
inline constexpr int latest_version = migrations.back().version;

}  // namespace sked::postgres::detail
