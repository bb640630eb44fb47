#pragma once
// Files that survive crashes and full disks: whole-file writes go through a
// temporary file, fsync and rename (readers see the old file or the new one,
// never half of one), every write is checked (a full disk is an IoError
// naming the file), and folders are locked with flock against a second
// writer (the lock dies with its process, so a stale lock is taken over).
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace dsegym {

// Writes `content` to `path` atomically; creates the folder. IoError names
// the file and the system's reason.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);
void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& j);
// Flushes a stream being written to `path` and throws IoError (naming the
// file and the system's reason) when any write to it failed.
void check_written(std::ostream& out, const std::filesystem::path& path);

// A JSON file's content; null when missing or not JSON.
nlohmann::json read_json(const std::filesystem::path& path);

// Files named by untrusted input (a remote client's env options): while a
// FileConfinement is alive on a thread, user_file() on that thread refuses
// every path unless the confinement has a data folder, and then accepts
// only paths inside it (relative ones are taken from it; "..", absolute
// paths elsewhere and symlinks leading out are refused). Outside any
// confinement user_file() returns the path as given.
class FileConfinement {
public:
  explicit FileConfinement(std::filesystem::path data_dir);  // empty: no files at all
  ~FileConfinement();
  FileConfinement(const FileConfinement&) = delete;
  FileConfinement& operator=(const FileConfinement&) = delete;

private:
  const FileConfinement* previous_;
  std::filesystem::path dir_;
  friend std::string user_file(const std::string& path, const std::string& what);
};

// `path` as named by a user, checked against this thread's confinement;
// `what` names the option for messages (the path itself is not echoed back
// beyond an excerpt).
std::string user_file(const std::string& path, const std::string& what);

// An exclusive lock on `path` (created if needed) holding this process's pid.
class FolderLock {
public:
  // Throws InvalidArgument "<what> is in use by <holder> (pid N)" when another
  // process (or another lock in this one) holds it.
  FolderLock(const std::filesystem::path& path, const std::string& what, const std::string& holder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

private:
  int fd_ = -1;
};

}  // namespace dsegym
