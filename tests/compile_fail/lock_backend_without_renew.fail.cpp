// expect: sked::lease_guard needs a sked::lock_backend
// A type that is not a lock backend (it cannot renew) used with lease_guard: the
// compiler names the missing operation.
#include <sked/lease_guard.hpp>

struct half_a_backend {
    sked::result<sked::grant, sked::backend_error> try_lock(std::string_view, std::chrono::milliseconds);
    sked::result<bool, sked::backend_error> unlock(const sked::lease&);
};

void hold(half_a_backend& backend, const sked::lease& held) { sked::lease_guard guard{backend, held}; }
