// sked/redis/options.hpp — where a Redis server is, how to reach it, and how sked names
// its keys there.
//
//     sked::redis::options one{.host = "10.0.0.5", .port = 6379, .prefix = "rewards"};
//     sked::redis::options ha{.sentinels = {{"10.0.0.7", 26379}, {"10.0.0.8", 26379}},
//                             .master_name = "sked", .prefix = "rewards"};
//     sked::redis::options cluster{.cluster = {{"10.0.0.9", 7000}, {"10.0.0.10", 7000}},
//                                  .prefix = "rewards"};
//
// What holds across a Sentinel or Cluster failover, with and without wait_replicas, is
// in docs/locks.md ("Redis Sentinel", "Redis Cluster").
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "sked/result.hpp"

namespace sked::redis {

/// One server's address.
struct endpoint {
    std::string host;
    int port = 0;

    [[nodiscard]] std::string text() const { return host + ":" + std::to_string(port); }
    friend bool operator==(const endpoint&, const endpoint&) = default;
};

struct options {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string user{};  ///< ACL user name; empty for the default user
    std::string password{};  ///< empty: no AUTH
    int database = 0;  ///< SELECT this database after connecting
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{500};  ///< for each reply; a call never waits longer
    /// Keys are "<prefix>:lock:{<name>}" and "<prefix>:key:{<key>}": one prefix per
    /// application sharing a server.
    std::string prefix = "sked";
    /// How long a name's record, and with it its fencing counter, outlives its last
    /// lease. Past it, tokens still grow by the server clock (docs/locks.md).
    std::chrono::milliseconds fence_memory = std::chrono::hours{24};

    /// Redis Sentinel: when not empty, `host` and `port` are not used. Each new
    /// connection asks these sentinels in turn where `master_name` is, and checks with
    /// ROLE that the server it reaches is a master. A connection that breaks, or whose
    /// server answers READONLY (demoted by a failover), is dropped, and the call is
    /// sent once more over a connection to the master the sentinels name then.
    std::vector<endpoint> sentinels{};
    std::string master_name{};
    std::string sentinel_password{};  ///< AUTH for the sentinels (their requirepass); empty: none
    /// How often a connection asks a sentinel whether its server is still the master,
    /// before a call (one round trip to the sentinel). A master that a failover replaced
    /// but that still runs (a partition, SENTINEL FAILOVER) takes writes until the
    /// sentinels reconfigure it, up to 10 s later. 0: ask only after an error.
    std::chrono::milliseconds sentinel_check{1000};
    /// Redis Cluster: when not empty, `host` and `port` are not used. Some of its nodes
    /// (any role); the first that answers CLUSTER SLOTS gives the map of which master
    /// serves which slot, and each script goes to the master of its keys' slot. MOVED
    /// (the map is old) reads the map again; ASK (a slot migrating) is followed for the
    /// one call. Not with `sentinels` (a cluster fails over by itself) or a `database`.
    std::vector<endpoint> cluster{};
    /// After each call's scripts, wait until this many replicas have its writes (WAIT,
    /// in the same round trip). A call they do not all reach within wait_timeout fails
    /// with backend_errc::timeout, although the master applied it. 0: do not wait.
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{250};  ///< above 0, below command_timeout
};

/// "HOST:PORT[,HOST:PORT...]" as endpoints, or what is wrong with it (naming the item).
inline result<std::vector<endpoint>, std::string> parse_endpoints(std::string_view text) {
    std::vector<endpoint> out;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const auto end = std::min(text.find(',', begin), text.size());
        const auto item = text.substr(begin, end - begin);
        const auto colon = item.rfind(':');
        int port = 0;
        const auto digits = colon == std::string_view::npos ? std::string_view{} : item.substr(colon + 1);
        const auto [last, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (colon == std::string_view::npos || colon == 0 || digits.empty() || error != std::errc{} ||
            last != digits.data() + digits.size() || port <= 0 || port > 65535)
            return "item " + std::to_string(out.size() + 1) + " ('" + std::string(item) +
                   "') is not HOST:PORT such as 127.0.0.1:26379";
        out.push_back({std::string(item.substr(0, colon)), port});
        begin = end + 1;
    }
    return out;
}

}  // namespace sked::redis
