// sked/postgres/options.hpp — which PostgreSQL server, how long to wait for it, and which
// schema holds sked's tables.
//
//     sked::postgres::options settings{.url = "postgresql://sked@db.internal/app", .schema = "sked"};
//
// The URL is libpq's: a postgresql:// URL or "key=value" words, with the password, TLS
// (sslmode, sslrootcert, ...) and every other connection setting libpq reads, including
// the environment (PGPASSWORD) and ~/.pgpass.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "sked/backend_error.hpp"

namespace sked::postgres {

struct options {
    std::string url = "postgresql://127.0.0.1/postgres";
    /// The schema that holds sked's tables and functions (created by migrate()). One per
    /// application sharing a database, as Redis has its prefix.
    std::string schema = "sked";
    std::chrono::milliseconds connect_timeout{2000};
    /// For each call: the client stops waiting after it (the server may still apply the
    /// call), and the server cancels a statement that runs longer (statement_timeout).
    std::chrono::milliseconds command_timeout{1000};
    /// How long a name's row, and with it its fencing counter, outlives its last lease
    /// or retention. Past it, tokens still grow by the server clock (docs/locks.md).
    std::chrono::milliseconds fence_memory = std::chrono::hours{24};
    /// For each statement of a run's own transaction (run_transaction), in place of
    /// command_timeout: a job's writes may take longer than a claim.
    std::chrono::milliseconds transaction_timeout{30'000};
    /// How many idle connections for runs' transactions a store keeps (it opens more
    /// when more runs write at once, and closes those when they end).
    std::size_t idle_transaction_connections = 4;
    /// How many connections a store makes its own calls on (claims, settles, one-offs),
    /// opened as calls overlap: that many calls from the replica's threads at once, each
    /// its own commit, which the server flushes together. At least 1.
    std::size_t store_connections = 4;
};

namespace detail {

/// A schema name sked can quote as an identifier: 1 to 63 bytes (PostgreSQL's NAMEDATALEN),
/// no NUL. Anything else (upper case, spaces, quotes) is kept as written.
inline std::optional<backend_error> check_schema(const std::string& schema) {
    if (schema.empty() || schema.size() > 63 || schema.find('\0') != std::string::npos)
        return backend_error{backend_errc::invalid_argument,
                             "schema name '" + schema + "' is not 1 to 63 bytes without NUL"};
    return std::nullopt;
}

/// `name` as a quoted SQL identifier: "name", with " doubled.
inline std::string quoted_identifier(const std::string& name) {
    std::string out = "\"";
    for (char c : name)
        out.append(c == '"' ? 2 : 1, c);
    return out + "\"";
}

}  // namespace detail
}  // namespace sked::postgres
