// A Redis Sentinel deployment on loopback for failover tests: a master, one or more
// replicas of it and three sentinels watching them as "sked" (quorum 2; a master unseen
// for 1 s is down). Each is a redis_server of its own, stopped by its pid at the end.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis_server.hpp"
#include "sked/redis/connection.hpp"

namespace sked::test {

class sentinel_fleet {
public:
    static constexpr std::string_view master_name = "sked";

    explicit sentinel_fleet(std::size_t replicas = 1) {
        for (std::size_t i = 0; i < replicas; ++i)
            replicas_.push_back(std::make_unique<redis_server>(
                std::vector<std::string>{"--replicaof", "127.0.0.1", std::to_string(master_.port())}));
        for (int i = 0; i < 3; ++i)
            sentinels_.push_back(std::make_unique<redis_server>(std::vector<std::string>{"--sentinel"}, config()));
        wait_until_watched();
    }

    /// The server started as master, and those started as its replicas (a failover
    /// swaps their roles, not these names).
    redis_server& first_master() noexcept { return master_; }
    redis_server& first_replica(std::size_t i = 0) noexcept { return *replicas_[i]; }
    redis_server& sentinel(std::size_t i) noexcept { return *sentinels_[i]; }

    /// Options for a client that finds the master through the three sentinels.
    [[nodiscard]] sked::redis::options client(std::string prefix = "test") const {
        auto settings = master_.client(std::move(prefix));
        settings.host.clear();
        for (const auto& s : sentinels_)
            settings.sentinels.push_back({"127.0.0.1", s->port()});
        settings.master_name = std::string(master_name);
        return settings;
    }

    /// The port of the master the first sentinel names now (0: none).
    [[nodiscard]] int named_master_port() const {
        auto reply = ask(*sentinels_[0], {"SENTINEL", "get-master-addr-by-name", std::string(master_name)});
        if (!reply || (*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements != 2) return 0;
        return std::stoi(std::string(sked::redis::detail::text_of(*(*reply)->element[1])));
    }

    /// SENTINEL FAILOVER through the first sentinel, while the master still runs; waits
    /// until every sentinel names the first replica as master.
    void fail_over() const {
        auto reply = ask(*sentinels_[0], {"SENTINEL", "FAILOVER", std::string(master_name)});
        if (!reply || (*reply)->type != REDIS_REPLY_STATUS)
            throw std::runtime_error(
                "SENTINEL FAILOVER was refused: " +
                (reply ? std::string(sked::redis::detail::text_of(**reply)) : reply.error().detail));
        wait_for_master(replicas_[0]->port());
    }

    /// Waits (at most `limit`) until every sentinel names the server on `port` as master.
    void wait_for_master(int port, std::chrono::seconds limit = std::chrono::seconds{20}) const {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            bool all = true;
            for (const auto& s : sentinels_) {
                auto reply = ask(*s, {"SENTINEL", "get-master-addr-by-name", std::string(master_name)});
                all = all && reply && (*reply)->type == REDIS_REPLY_ARRAY && (*reply)->elements == 2 &&
                      sked::redis::detail::text_of(*(*reply)->element[1]) == std::to_string(port);
            }
            if (all) return;
            std::this_thread::sleep_for(std::chrono::milliseconds{50});
        }
        throw std::runtime_error("the sentinels did not name port " + std::to_string(port) + " as master in time");
    }

    /// Waits until each sentinel knows the replica and the two other sentinels (they
    /// find each other through the master every 2 s), and the replica has synced: only
    /// then can they agree on a failover.
    void wait_until_watched() const {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{20};
        while (std::chrono::steady_clock::now() < until) {
            bool ready = true;
            for (const auto& r : replicas_)
                ready = ready && synced(*r);
            for (const auto& s : sentinels_)
                ready = ready && field(*s, "num-slaves") == std::to_string(replicas_.size()) &&
                        field(*s, "num-other-sentinels") == "2";
            if (ready) return;
            std::this_thread::sleep_for(std::chrono::milliseconds{100});
        }
        throw std::runtime_error("the sentinels did not find each other and the replica within 20 s");
    }

private:
    [[nodiscard]] std::string config() const {
        const auto name = std::string(master_name);
        return "sentinel monitor " + name + " 127.0.0.1 " + std::to_string(master_.port()) +
               " 2\n"
               "sentinel down-after-milliseconds " +
               name + " 1000\nsentinel failover-timeout " + name + " 4000\n";
    }

    static sked::result<sked::redis::detail::reply_ptr, sked::backend_error> ask(const redis_server& server,
                                                                                 sked::redis::detail::command args) {
        sked::redis::detail::connection link{server.client()};
        return link.run(std::move(args));
    }

    // One field of SENTINEL MASTER's flat name/value list.
    [[nodiscard]] std::string field(const redis_server& sentinel, std::string_view name) const {
        auto reply = ask(sentinel, {"SENTINEL", "MASTER", std::string(master_name)});
        if (!reply || (*reply)->type != REDIS_REPLY_ARRAY) return {};
        const auto& list = **reply;
        for (std::size_t i = 0; i + 1 < list.elements; i += 2)
            if (sked::redis::detail::text_of(*list.element[i]) == name)
                return std::string(sked::redis::detail::text_of(*list.element[i + 1]));
        return {};
    }

    [[nodiscard]] static bool synced(const redis_server& replica) {
        auto reply = ask(replica, {"INFO", "replication"});
        return reply && (*reply)->type == REDIS_REPLY_STRING &&
               sked::redis::detail::text_of(**reply).find("master_link_status:up") != std::string_view::npos;
    }

    redis_server master_;
    std::vector<std::unique_ptr<redis_server>> replicas_;
    std::vector<std::unique_ptr<redis_server>> sentinels_;
};

}  // namespace sked::test
