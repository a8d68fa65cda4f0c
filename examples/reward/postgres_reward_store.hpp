// examples/reward/postgres_reward_store.hpp — the reward store in PostgreSQL (--postgres):
// the grant is written in the run's own transaction, so the rewards and the run key's
// completion commit together or not at all (docs/locks.md, "A run's writes in its
// transaction"):
//
//     auto tx = keys.begin(run);                       // BEGIN; the run still holds its key?
//     tx->run("INSERT INTO rewards (player, slot) SELECT id, $1 FROM players", {slot});
//     tx->commit();                                    // the key done + COMMIT, or nothing
//
// The rewards table has no unique index on purpose: it is not what keeps a reward from
// being granted twice (the transaction is), so a reward granted twice would be two rows,
// and the check at the end (every player holds exactly one reward per slot) would see it.
// Setting up and checking use a libpq connection of the example's own (harness/postgres_tables.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <sked/job.hpp>
#include <sked/postgres/store.hpp>
#include <sked/result.hpp>

#include "../harness/postgres_tables.hpp"

namespace reward {

class postgres_reward_store {
public:
    /// Creates the tables in `schema` (sked's) if they are missing, with players 1..players.
    static sked::result<postgres_reward_store, std::string> open(const std::string& url, const std::string& schema,
                                                                 std::size_t players) {
        auto tables = example::postgres_tables::open(
            url, schema,
            "CREATE TABLE IF NOT EXISTS {s}.players (id integer PRIMARY KEY);"
            "CREATE TABLE IF NOT EXISTS {s}.rewards (player integer NOT NULL, slot timestamptz NOT NULL);"
            "INSERT INTO {s}.players SELECT generate_series(1, " +
                std::to_string(players) + ") ON CONFLICT DO NOTHING");
        if (!tables) return tables.error();
        return postgres_reward_store{std::move(*tables)};
    }

    struct grant_summary {
        std::int64_t granted = 0;
        bool stale = false;  ///< the run no longer held its key: nothing was written
    };

    /// Grants every player the reward of the run's slot, in the run's transaction;
    /// `between` runs after the writes, before COMMIT (the grant taking its time).
    template <class Between>
    sked::result<grant_summary, std::string> grant_all(sked::postgres::keys& keys, const sked::job_context& run,
                                                       Between between) {
        auto tx = keys.begin(run);
        if (!tx) return "begin: " + tx.error().message();
        auto written = tx->run(insert_.c_str(), {std::to_string(run.nominal.time_since_epoch().count())});
        if (!written) return "insert: " + written.error().message();
        const auto granted = std::stoll(PQcmdTuples(written->get()));
        if (!between()) return std::string("stopped before COMMIT: nothing written");
        auto committed = tx->commit();
        if (!committed) return "commit: " + committed.error().message();
        if (!*committed) return grant_summary{.stale = true};
        return grant_summary{.granted = granted};
    }

    /// What the database holds: players, the fewest and most rewards a player has, the
    /// (player, slot) pairs granted more than once, and the slots granted to fewer than all.
    struct tally {
        std::int64_t players = 0, fewest = 0, most = 0, twice = 0, partial = 0;
    };
    sked::result<tally, std::string> count() {
        auto row = tables_.numbers(
            "SELECT (SELECT count(*) FROM {s}.players), min(n), max(n),"
            " (SELECT count(*) FROM (SELECT 1 FROM {s}.rewards GROUP BY player, slot HAVING count(*) > 1) d),"
            " (SELECT count(*) FROM (SELECT 1 FROM {s}.rewards GROUP BY slot"
            "   HAVING count(*) <> (SELECT count(*) FROM {s}.players)) p)"
            " FROM (SELECT count(r.player) n FROM {s}.players p LEFT JOIN {s}.rewards r ON r.player = p.id"
            "   GROUP BY p.id) per_player");
        if (!row) return row.error();
        const auto& n = *row;
        return tally{n[0], n[1], n[2], n[3], n[4]};
    }

private:
    explicit postgres_reward_store(example::postgres_tables tables)
        : tables_(std::move(tables)),
          insert_(tables_.with_schema(
              "INSERT INTO {s}.rewards (player, slot) SELECT id, to_timestamp($1) FROM {s}.players")) {}

    example::postgres_tables tables_;
    std::string insert_;
};

}  // namespace reward
