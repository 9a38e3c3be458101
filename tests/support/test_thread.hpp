// Threads of a test: an exception a thread lets escape fails the running test
// (gtest's failures may be added from any thread) instead of reaching
// std::terminate and taking the whole suite down with it.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <thread>
#include <utility>

namespace qtopology::testing {

template <typename Body>
std::thread testThread(Body body) {
  return std::thread([body = std::move(body)]() mutable {
    try {
      body();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "a test thread threw: " << e.what();
    } catch (...) {
      ADD_FAILURE() << "a test thread threw something that is not a std::exception";
    }
  });
}

}  // namespace qtopology::testing
