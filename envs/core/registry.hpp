#pragma once
// A registry of named factories (envs, agents). Unknown ids are errors that
// name the id, suggest the closest valid one and list all of them.
#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/json_io.hpp"

namespace dsegym {

// The candidate closest to `name` by edit distance, or "" when none is close.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);

// Entry must have `std::string id` and `std::string description`.
template <class Entry>
class Registry {
public:
  explicit Registry(std::string what) : what_(std::move(what)) {}

  void add(Entry e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (e.id.empty()) throw Error(what_ + " registry: an entry has an empty id");
    if (entries_.count(e.id)) throw Error(what_ + " registry: '" + e.id + "' is registered twice");
    auto id = e.id;
    entries_.emplace(std::move(id), std::move(e));
  }

  bool contains(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.count(id) > 0;
  }

  const Entry& get(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it != entries_.end()) return it->second;
    std::vector<std::string> names;
    for (const auto& kv : entries_) names.push_back(kv.first);
    std::string msg = "unknown " + what_ + " '" + excerpt(id, 100) + "'";
    const auto near = id.size() <= 64 ? closest_match(id, names) : std::string();  // no edit distance over megabytes
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InvalidArgument(msg + "; valid: " + (list.empty() ? "(none registered)" : list));
  }

  // Sorted ids.
  std::vector<std::string> ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }

private:
  std::string what_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // node-based: references stay valid
};

}  // namespace dsegym
