#include "sked/lease_guard.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "sked/memory_backend.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

// A backend whose renew answers as the test says; counts its calls.
struct scripted_backend {
    enum class answer { renew, refuse, fail };
    std::atomic<answer> next{answer::renew};
    std::atomic<int> renewals{0};
    std::atomic<int> unlocks{0};

    result<grant, backend_error> try_lock(std::string_view name, std::chrono::milliseconds ttl) {
        return grant{grant_status::acquired, lease{std::string(name), "me", 1, lease_clock::now() + ttl}};
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) {
        ++renewals;
        switch (next.load()) {
            case answer::renew:
                held.valid_until = lease_clock::now() + ttl;
                return true;
            case answer::refuse:
                return false;
            case answer::fail:
                break;
        }
        return backend_error{backend_errc::unreachable, "scripted"};
    }
    result<bool, backend_error> unlock(const lease&) {
        ++unlocks;
        return true;
    }
};

bool wait_for(const std::stop_token& token, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!token.stop_requested() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    return token.stop_requested();
}

TEST_SUITE("locks") {
    TEST_CASE("lease_guard: renews a memory lock past its ttl and unlocks at scope end") {
        memory_locks locks;
        auto first = locks.try_lock("sweep", 150ms);
        REQUIRE(first->acquired());
        {
            lease_guard guard{locks, first->lease, renewal{.ttl = 150ms}};
            std::this_thread::sleep_for(400ms);  // well past the first ttl
            CHECK(locks.try_lock("sweep", 150ms)->status == grant_status::held_elsewhere);
            CHECK(guard.current().valid_until > first->lease.valid_until);
            CHECK_FALSE(guard.stop_token().stop_requested());
            CHECK(guard.fence() == first->lease.fence);
        }
        CHECK(locks.try_lock("sweep", 150ms)->acquired());
    }

    TEST_CASE("lease_guard: without renewal it only unlocks, once") {
        memory_locks locks;
        auto held = locks.try_lock("once", 10s);
        lease_guard guard{locks, held->lease};
        CHECK_FALSE(guard.stop_token().stop_possible());
        CHECK(*guard.release());
        CHECK_FALSE(*guard.release());  // already released
        CHECK(locks.try_lock("once", 10s)->acquired());
    }

    TEST_CASE("lease_renewal: a refused renewal stops the holder at once, with reason 'taken'") {
        scripted_backend backend;
        std::atomic<int> reported{-1};
        auto held = backend.try_lock("job", 90ms);
        lease_guard guard{backend, held->lease, renewal{.ttl = 90ms},
                          [&](lease_loss reason) { reported = static_cast<int>(reason); }};
        std::this_thread::sleep_for(100ms);
        CHECK_FALSE(guard.stop_token().stop_requested());
        backend.next = scripted_backend::answer::refuse;
        CHECK(wait_for(guard.stop_token(), 2s));
        CHECK(reported == static_cast<int>(lease_loss::taken));
    }

    TEST_CASE("lease_renewal: a backend that keeps failing loses the lease when its validity ends") {
        scripted_backend backend;
        backend.next = scripted_backend::answer::fail;
        auto held = backend.try_lock("job", 120ms);
        const auto valid_until = held->lease.valid_until;
        lease_renewal renewal_thread{backend, held->lease, renewal{.ttl = 120ms}};
        CHECK(wait_for(renewal_thread.stop_token(), 2s));
        CHECK(std::chrono::steady_clock::now() >= valid_until);  // not before: it might have come back
        CHECK(renewal_thread.loss() == lease_loss::unconfirmed);
        CHECK(backend.renewals >= 3);  // retried meanwhile
    }

    TEST_CASE("lease_renewal: stops after max_renewals and reports limit_reached when the lease runs out") {
        scripted_backend backend;
        auto held = backend.try_lock("job", 60ms);
        lease_renewal renewal_thread{backend, held->lease, renewal{.ttl = 60ms, .max_renewals = 2}};
        CHECK(wait_for(renewal_thread.stop_token(), 2s));
        CHECK(backend.renewals == 2);
        CHECK(renewal_thread.loss() == lease_loss::limit_reached);
    }

    TEST_CASE("lease_renewal: destroying it stops the thread promptly, with no loss reported") {
        scripted_backend backend;
        auto held = backend.try_lock("job", 10s);
        const auto started = std::chrono::steady_clock::now();
        std::optional<lease_loss> loss;
        {
            lease_renewal renewal_thread{backend, held->lease, renewal{.ttl = 10s}};
            loss = renewal_thread.loss();
        }
        CHECK(std::chrono::steady_clock::now() - started < 1s);
        CHECK_FALSE(loss.has_value());
        CHECK(backend.renewals == 0);
    }
}

}  // namespace
}  // namespace sked::test
