// sked/detail/failure_text.hpp — what a failed job's exception says, for its run's message.
#pragma once

#include <exception>
#include <string>

namespace sked::detail {

/// The exception's what(), or a sentence saying it has none. Inside a catch block pass
/// std::current_exception().
inline std::string failure_text(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

}  // namespace sked::detail
