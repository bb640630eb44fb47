#pragma once
// Exception types shared by every layer. Messages say what was wrong, where
// (file, line, JSON path, parameter) and what is valid.
#include <stdexcept>
#include <string>

namespace dsegym {

// Base of all dsegym errors.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Bad input from a user: options, actions, configs, traces, RPC arguments.
class InvalidArgument : public Error {
public:
  using Error::Error;
};

// A file could not be written or read back (disk full, permissions): not the
// work's fault, so the work is left resumable, never recorded as failed.
class IoError : public Error {
public:
  using Error::Error;
};

}  // namespace dsegym
