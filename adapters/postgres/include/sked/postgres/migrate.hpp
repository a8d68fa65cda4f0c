// sked/postgres/migrate.hpp — creates or upgrades sked's schema, and checks it.
//
//     if (auto done = sked::postgres::migrate(settings); !done)
//         die(done.error().message());     // e.g. "auth: ... password authentication failed"
//
// migrate() is safe to run from every replica at start: one transaction under an
// advisory lock, so concurrent runs apply each migration once, and a failed one leaves
// the schema as it was. The stores only check the version (check_version) and never
// change the schema themselves. The same from a shell: `sked migrate URL [SCHEMA]`.
#pragma once

#include <string>
#include <string_view>

#include "sked/backend_error.hpp"
#include "sked/result.hpp"

#include "connection.hpp"
#include "migrations.hpp"
#include "options.hpp"

namespace sked::postgres {

/// What migrate() found and left: versions from 0 (no schema) to detail::latest_version.
struct migrated {
    int from = 0;
    int to = 0;
};

namespace detail {

/// `sql` with each `@schema@` replaced by the quoted schema name.
inline std::string with_schema(std::string_view sql, const std::string& quoted) {
    constexpr std::string_view mark = "@schema@";
    std::string out;
    out.reserve(sql.size() + 16 * quoted.size());
    for (std::size_t at = 0;;) {
        const auto next = sql.find(mark, at);
        out.append(sql.substr(at, next - at));
        if (next == std::string_view::npos) return out;
        out.append(quoted);
        at = next + mark.size();
    }
}

/// The schema's version: 0 when it has no sked tables.
inline result<int, backend_error> schema_version(connection& link) {
    const auto& schema = link.settings().schema;
    const std::string table = quoted_identifier(schema) + ".sked_schema";
    const std::string params[] = {table};
    auto exists = link.run("SELECT to_regclass($1) IS NOT NULL", params);
    if (!exists) return exists.error();
    if (text_at(**exists, 0, 0) != "t") return 0;
    auto version = link.run(("SELECT coalesce(max(version), 0) FROM " + table).c_str());
    if (!version) return version.error();
    auto number = integer_at(**version, 0, 0, "the schema version");
    if (!number) return number.error();
    return static_cast<int>(*number);
}

/// Refuses a schema this sked cannot use, saying what to do.
inline std::optional<backend_error> check_version(int version, const std::string& schema) {
    const std::string named = "schema '" + schema + "'";
    if (version == 0)
        return backend_error{backend_errc::protocol, named +
                                                         " has no sked tables: run sked::postgres::migrate() "
                                                         "(or `sked migrate URL`) first"};
    if (version < latest_version)
        return backend_error{backend_errc::protocol, named + " is at version " + std::to_string(version) +
                                                         " and this sked needs " + std::to_string(latest_version) +
                                                         ": run sked::postgres::migrate() (or `sked migrate URL`)"};
    if (version > latest_version)
        return backend_error{backend_errc::protocol, named + " is at version " + std::to_string(version) +
                                                         ", made by a newer sked; this one " + "knows versions up to " +
                                                         std::to_string(latest_version) +
                                                         ": upgrade sked, or use another schema"};
    return std::nullopt;
}

// The steps of migrate() inside its transaction.
inline result<migrated, backend_error> migrate_in_transaction(connection& link) {
    const auto& schema = link.settings().schema;
    const auto quoted = quoted_identifier(schema);
    const std::string lock_name[] = {"sked migrate " + schema};
    if (auto locked = link.run("SELECT pg_advisory_xact_lock(hashtext($1))", lock_name); !locked) return locked.error();
    const auto create = with_schema(
        "CREATE SCHEMA IF NOT EXISTS @schema@;"
        "CREATE TABLE IF NOT EXISTS @schema@.sked_schema (version integer PRIMARY KEY, summary text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())",
        quoted);
    if (auto created = link.run_script(create); !created) return created.error();
    auto version = schema_version(link);
    if (!version) return version.error();
    migrated done{*version, *version};
    if (*version > latest_version) return *check_version(*version, schema);
    for (const auto& step : migrations) {
        if (step.version <= done.to) continue;
        if (auto applied = link.run_script(with_schema(step.sql, quoted)); !applied) {
            auto error = applied.error();
            error.detail = "migration " + std::to_string(step.version) + " (" + std::string(step.summary) +
                           ") of schema '" + schema + "': " + error.detail;
            return error;
        }
        const std::string row[] = {std::to_string(step.version), std::string(step.summary)};
        if (auto noted =
                link.run(("INSERT INTO " + quoted + ".sked_schema (version, summary) VALUES ($1, $2)").c_str(), row);
            !noted)
            return noted.error();
        done.to = step.version;
    }
    return done;
}

}  // namespace detail

/// Brings `settings.schema` to the latest version this sked knows, creating it if
/// needed. A schema made by a newer sked is refused (backend_errc::protocol), untouched.
inline result<migrated, backend_error> migrate(const options& settings) {
    if (auto bad = detail::check_schema(settings.schema)) return *std::move(bad);
    detail::connection link{settings};
    if (auto begun = link.run("BEGIN"); !begun) return begun.error();
    auto done = detail::migrate_in_transaction(link);
    if (!done) {
        (void)link.run("ROLLBACK");
        return done;
    }
    if (auto committed = link.run("COMMIT"); !committed) return committed.error();
    return done;
}

}  // namespace sked::postgres
