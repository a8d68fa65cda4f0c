// tests/support/eventually.hpp — waiting, bounded, for something that happens in real time.
#pragma once

#include <chrono>
#include <thread>

namespace sked::test {

/// Waits until `done()` holds or `limit` has passed on the steady clock; whether it held.
/// Real time, so give it generous limits: a slow machine (a sanitizer build) must not fail.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    return true;
}

}  // namespace sked::test
