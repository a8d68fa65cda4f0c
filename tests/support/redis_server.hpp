// A real redis-server for a test: started on a free 127.0.0.1 port in a directory of
// its own, no persistence unless asked, stopped by its pid when the fixture ends.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "numbered.hpp"
#include "ports.hpp"
#include "sked/redis/connection.hpp"

extern char** environ;

namespace sked::test {

class redis_server {
public:
    /// `extra` are more redis-server arguments, e.g. {"--requirepass", "secret"};
    /// `config`, when not empty, is written to a file redis-server reads first (a
    /// sentinel needs one it can rewrite).
    /// `port` 0: one the kernel picks.
    explicit redis_server(std::vector<std::string> extra = {}, std::string config = {}, int port = 0)
        : extra_(std::move(extra)), port_(port != 0 ? port : free_loopback_port()) {
        char pattern[] = "/tmp/sked-redis-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
        directory_ = pattern;
        if (!config.empty()) {
            config_ = directory_ + "/redis.conf";
            std::ofstream{config_} << config;
        }
        start();
    }

    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    ~redis_server() {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }

    [[nodiscard]] int port() const noexcept { return port_; }
    [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

    /// Options for a client of this server; `prefix` separates tests sharing it.
    [[nodiscard]] sked::redis::options client(std::string prefix = "test") const {
        sked::redis::options settings;
        settings.port = port_;
        settings.prefix = std::move(prefix);
        settings.connect_timeout = std::chrono::milliseconds{300};
        settings.command_timeout = std::chrono::milliseconds{1000};
        return settings;
    }

    /// Starts redis-server on this fixture's port and waits until it answers PING.
    void start() {
        if (running()) return;
        std::vector<std::string> args{"redis-server", "--port",    std::to_string(port_), "--bind",      "127.0.0.1",
                                      "--save",       "",          "--appendonly",        "no",          "--dir",
                                      directory_,     "--logfile", directory_ + "/log",   "--daemonize", "no"};
        if (!config_.empty()) args.insert(args.begin() + 1, config_);
        args.insert(args.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& arg : args)
            argv.push_back(arg.data());
        argv.push_back(nullptr);
        if (::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = 0;
            throw std::runtime_error("cannot start redis-server (is it installed?)");
        }
        wait_until_ready();
    }

    /// SIGTERM and wait: a clean shutdown (an AOF is flushed).
    void stop() { end(SIGTERM); }
    /// SIGKILL and wait: a crash.
    void kill() { end(SIGKILL); }
    /// SIGSTOP / SIGCONT: a server that hangs (it accepts nothing, answers nothing).
    void pause() const { ::kill(pid_, SIGSTOP); }
    void resume() const { ::kill(pid_, SIGCONT); }

private:
    void end(int signal) {
        if (!running()) return;
        ::kill(pid_, signal);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }

    void wait_until_ready() {
        auto settings = client();
        settings.password.clear();
        for (int attempt = 0; attempt < 500; ++attempt) {
            sked::redis::detail::connection probe{settings};
            auto reply = probe.run({"PING"});
            // A server that wants a password answers NOAUTH: it is up.
            if (reply || reply.error().code == sked::backend_errc::auth) return;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                throw std::runtime_error("redis-server exited at start; see " + directory_ + "/log");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        throw std::runtime_error("redis-server did not answer within 5 s");
    }

    std::vector<std::string> extra_;
    int port_;
    std::string directory_;
    std::string config_;
    pid_t pid_ = 0;
};

/// One server for the tests of a binary that do not stop it, started at first use and
/// stopped at exit; each test keeps its keys under a prefix of its own (fresh_prefix).
inline redis_server& shared_redis_server() {
    static redis_server server;
    return server;
}

/// A key prefix no other test of this process uses: "t1", "t2", ...
inline std::string fresh_prefix() {
    static std::atomic<std::size_t> counter{0};
    return numbered("t", ++counter);
}

}  // namespace sked::test
