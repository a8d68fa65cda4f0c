// A Redis Cluster on loopback for tests: three masters, each with one replica, made by
// `redis-cli --cluster create`; a master unseen for 1 s (cluster-node-timeout) is failed
// over to its replica. Each node is a redis_server of its own, stopped by its pid.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis_server.hpp"
#include "sked/redis/connection.hpp"

namespace sked::test {

class redis_cluster {
public:
    static constexpr std::size_t masters = 3;

    redis_cluster() {
        for (std::size_t i = 0; i < 2 * masters; ++i)
            nodes_.push_back(std::make_unique<redis_server>(
                std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-node-timeout", "1000"}, std::string{},
                free_cluster_port()));
        create();
        wait_until_ok();
    }

    /// Node i; 0-2 were made masters, 3-5 their replicas (a failover swaps roles, not these).
    redis_server& node(std::size_t i) noexcept { return *nodes_[i]; }
    [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }

    /// Options for a client that knows the cluster by its first two nodes.
    [[nodiscard]] sked::redis::options client(std::string prefix = "test") const {
        auto settings = nodes_[0]->client(std::move(prefix));
        settings.cluster = {{"127.0.0.1", nodes_[0]->port()}, {"127.0.0.1", nodes_[1]->port()}};
        return settings;
    }

    /// One command to one node, answered (test helper; throws on a failed connection).
    sked::redis::detail::reply_ptr ask(std::size_t i, sked::redis::detail::command args) const {
        if (!nodes_[i]->running()) throw std::runtime_error("node " + std::to_string(i) + " is not running");
        sked::redis::detail::connection link{nodes_[i]->client()};
        auto reply = link.run(std::move(args));
        if (!reply) throw std::runtime_error(reply.error().detail);
        return *std::move(reply);
    }

    /// The index of the running node that is master of `slot` (none: size()).
    [[nodiscard]] std::size_t master_of(std::uint16_t slot) const {
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (!nodes_[i]->running()) continue;
            auto role = ask(i, {"ROLE"});
            if (sked::redis::detail::text_of(*role->element[0]) != "master") continue;
            auto nodes = ask(i, {"CLUSTER", "NODES"});
            if (serves(sked::redis::detail::text_of(*nodes), slot)) return i;
        }
        return nodes_.size();
    }

    /// Waits (at most `limit`) until every running node says cluster_state:ok and every
    /// replica has synced with its master.
    void wait_until_ok(std::chrono::seconds limit = std::chrono::seconds{30}) const {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            bool ok = true;
            for (std::size_t i = 0; i < nodes_.size() && ok; ++i) {
                if (!nodes_[i]->running()) continue;
                sked::redis::detail::connection link{nodes_[i]->client()};
                auto info = link.run({"CLUSTER", "INFO"});
                ok = info && (*info)->type == REDIS_REPLY_STRING &&
                     sked::redis::detail::text_of(**info).find("cluster_state:ok") != std::string_view::npos;
                auto replication = link.run({"INFO", "replication"});
                const auto text = replication && (*replication)->type == REDIS_REPLY_STRING
                                      ? sked::redis::detail::text_of(**replication)
                                      : std::string_view{};
                ok = ok && (text.find("role:master") != std::string_view::npos ||
                            text.find("master_link_status:up") != std::string_view::npos);
            }
            if (ok) return;
            std::this_thread::sleep_for(std::chrono::milliseconds{100});
        }
        throw std::runtime_error("the cluster did not reach cluster_state:ok in time");
    }

private:
    // redis-cli --cluster create: slots split in three, a replica for each master.
    void create() {
        std::vector<std::string> args{"redis-cli", "--cluster", "create"};
        for (const auto& node : nodes_)
            args.push_back("127.0.0.1:" + std::to_string(node->port()));
        for (std::string more : {"--cluster-replicas", "1", "--cluster-yes"})
            args.push_back(more);
        std::vector<char*> argv;
        for (auto& arg : args)
            argv.push_back(arg.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t quiet;
        posix_spawn_file_actions_init(&quiet);
        posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
        pid_t pid = 0;
        const int spawned = ::posix_spawnp(&pid, "redis-cli", &quiet, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&quiet);
        int status = 0;
        if (spawned != 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("redis-cli --cluster create failed (status " + std::to_string(status) + ")");
    }

    // Whether the "myself,master" line of CLUSTER NODES lists `slot` in its ranges.
    static bool serves(std::string_view nodes, std::uint16_t slot) {
        std::size_t begin = 0;
        while (begin < nodes.size()) {
            const auto end = std::min(nodes.find('\n', begin), nodes.size());
            const auto line = nodes.substr(begin, end - begin);
            begin = end + 1;
            if (line.find("myself") == std::string_view::npos) continue;
            std::size_t field = 0;
            std::size_t at = 0;
            while (at < line.size()) {
                const auto stop = std::min(line.find(' ', at), line.size());
                const auto part = line.substr(at, stop - at);
                at = stop + 1;
                if (++field < 9 || part.starts_with("[")) continue;
                const auto dash = part.find('-');
                const auto first = std::stoi(std::string(part.substr(0, dash)));
                const auto last =
                    dash == std::string_view::npos ? first : std::stoi(std::string(part.substr(dash + 1)));
                if (slot >= first && slot <= last) return true;
            }
        }
        return false;
    }

    std::vector<std::unique_ptr<redis_server>> nodes_;
};

}  // namespace sked::test
