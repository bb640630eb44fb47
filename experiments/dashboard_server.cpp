// The dashboard's HTTP server (cpp-httplib): the page, Chart.js, and the
// JSON the page polls.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/net.hpp"
#include "experiments/dashboard.hpp"

namespace dsegym {

namespace {

// Compares without an early exit, so timing does not reveal the secret.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

void send_json(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace

void serve_dashboard(const DashboardOptions& opt) {
  if (!is_loopback(opt.bind) && opt.token.empty())
    throw InvalidArgument("--bind " + opt.bind + " is not a loopback address: give --token SECRET (open the page with ?token=SECRET)");
  if (opt.port < 0 || opt.port > 65535) throw InvalidArgument("--port " + std::to_string(opt.port) + " is not valid; valid: 0..65535");
  DashboardData data(opt.folders);
  // Read every trace before the first request, so the first page is as
  // quick as the next ones.
  const auto t0 = std::chrono::steady_clock::now();
  const json first = data.state();
  std::cerr << "dsegym dashboard: read " << first.at("evaluations").get<std::int64_t>() << " evaluations in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  const std::string chart_lib = chart_js();
  const std::string page = dashboard_page();

  // SIGTERM and SIGINT are taken by a waiting thread, not delivered as signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // wakes the waiting thread when the server ends otherwise
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  httplib::Server svr;
  // Browsers hold a connection per tab; more workers than the default 8
  // keep one slow client from stalling the others.
  svr.new_task_queue = [] { return new httplib::ThreadPool(16); };
  svr.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    if (opt.token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string given = req.get_param_value("token");
    const std::string auth = req.get_header_value("Authorization");
    if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
    if (same_secret(given, opt.token)) return httplib::Server::HandlerResponse::Unhandled;
    send_json(res, {{"error", "this dashboard needs its token: open it as /?token=SECRET (or send Authorization: Bearer SECRET)"}}, 401);
    return httplib::Server::HandlerResponse::Handled;
  });
  svr.Get("/", [&](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html; charset=utf-8"); });
  svr.Get("/static/chart.min.js", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(chart_lib, "text/javascript");
  });
  svr.Get("/api/state", [&](const httplib::Request&, httplib::Response& res) { send_json(res, data.state()); });
  svr.Get("/api/trial", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string folder = req.get_param_value("folder");
    std::size_t index = 0;
    try {
      std::size_t used = 0;
      index = static_cast<std::size_t>(std::stoul(folder, &used));
      if (used != folder.size()) throw std::invalid_argument(folder);
    } catch (const std::exception&) {
      return send_json(res, {{"error", "folder '" + folder + "' is not a folder index (0, 1, ...)"}}, 400);
    }
    send_json(res, data.trial(index, req.get_param_value("id")));
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const InvalidArgument& e) {
      send_json(res, {{"error", e.what()}}, 404);
    } catch (const std::exception& e) {
      send_json(res, {{"error", e.what()}}, 500);
    }
  });

  const int port = opt.port == 0 ? svr.bind_to_any_port(opt.bind) : (svr.bind_to_port(opt.bind, opt.port) ? opt.port : -1);
  if (port < 0) throw IoError("dashboard: cannot listen on " + opt.bind + ":" + std::to_string(opt.port) + " (in use, or not an address of this machine)");
  if (!opt.port_file.empty()) write_file_atomically(opt.port_file, std::to_string(port) + "\n");
  std::cerr << "dsegym dashboard: http://" << (opt.bind.find(':') != std::string::npos ? "[" + opt.bind + "]" : opt.bind) << ":" << port << "/"
            << (opt.token.empty() ? "" : "?token=...") << " (Ctrl-C stops)\n";
  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    signalled = true;
    if (sig != SIGUSR1) std::cerr << "dsegym dashboard: signal " << sig << ", shutting down\n";
    svr.stop();
  });
  const bool listened = svr.listen_after_bind();
  if (!signalled) pthread_kill(waiter.native_handle(), SIGUSR1);  // wake the waiter
  waiter.join();
  if (!listened && !signalled) throw IoError("dashboard: the server stopped listening on " + opt.bind + ":" + std::to_string(port));
}

}  // namespace dsegym
