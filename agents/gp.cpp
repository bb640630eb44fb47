#include "agents/gp.hpp"

#include <algorithm>
#include <cmath>

#include "base/error.hpp"

namespace dsegym {

namespace {
constexpr double kSqrt5 = 2.23606797749979;
// Bounds on the log hyperparameters (inputs lie in [0,1], targets are standardised).
constexpr double kLogLsMin = -4.6, kLogLsMax = 1.6;     // 0.01 .. 5
constexpr double kLogSfMin = -3.0, kLogSfMax = 3.0;     // signal variance 0.05 .. 20
constexpr double kLogSnMin = -13.8, kLogSnMax = -1.4;   // noise variance 1e-6 .. 0.25
}  // namespace

void GaussianProcess::set_data(Eigen::MatrixXd X, const Eigen::VectorXd& y) {
  if (X.rows() != y.size() || X.rows() == 0) throw Error("GaussianProcess: needs matching, non-empty X and y");
  X_ = std::move(X);
  standardise(y);
  if (ls_.size() != X_.cols()) ls_ = Eigen::VectorXd::Constant(X_.cols(), 0.3);
}

void GaussianProcess::standardise(const Eigen::VectorXd& y) {
  y_ = y;
  y_mean_ = y.mean();
  const double var = (y.array() - y_mean_).square().mean();
  y_std_ = var > 1e-24 ? std::sqrt(var) : 1.0;
}

Eigen::VectorXd GaussianProcess::standardised() const { return (y_.array() - y_mean_) / y_std_; }

Eigen::MatrixXd GaussianProcess::kernel(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const {
  const Eigen::VectorXd inv = ls_.cwiseInverse();
  const Eigen::MatrixXd As = A * inv.asDiagonal(), Bs = B * inv.asDiagonal();
  Eigen::MatrixXd d2 = (-2.0 * As * Bs.transpose()).colwise() + As.rowwise().squaredNorm();
  d2.rowwise() += Bs.rowwise().squaredNorm().transpose();
  return d2.unaryExpr([this](double v) {
    const double r = std::sqrt(std::max(v, 0.0));
    return sf2_ * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-kSqrt5 * r);
  });
}

void GaussianProcess::factorize() {
  Eigen::MatrixXd K = kernel(X_, X_);
  K.diagonal().array() += sn2_;
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  double jitter = 1e-10;
  while (llt.info() != Eigen::Success && jitter < 1.0) {
    K.diagonal().array() += jitter;
    llt.compute(K);
    jitter *= 10;
  }
  L_ = llt.matrixL();
  solve_alpha();
}

double GaussianProcess::log_marginal_likelihood() const {
  return -0.5 * standardised().dot(alpha_) - L_.diagonal().array().log().sum() - 0.5 * static_cast<double>(y_.size()) * std::log(2 * M_PI);
}

void GaussianProcess::fit(int iterations) {
  const auto n = X_.rows(), D = X_.cols();
  // Parameters: log lengthscales, log signal variance, log noise variance.
  Eigen::VectorXd theta(D + 2), m = Eigen::VectorXd::Zero(D + 2), v = Eigen::VectorXd::Zero(D + 2);
  theta.head(D) = ls_.array().log();
  theta(D) = std::log(sf2_);
  theta(D + 1) = std::log(sn2_);
  const double lr = 0.05, b1 = 0.9, b2 = 0.999;
  Eigen::VectorXd best = theta;
  double best_lml = -std::numeric_limits<double>::infinity();
  for (int it = 0; it <= iterations; ++it) {
    ls_ = theta.head(D).array().exp();
    sf2_ = std::exp(theta(D));
    sn2_ = std::exp(theta(D + 1));
    factorize();
    const double lml = log_marginal_likelihood();
    if (std::isfinite(lml) && lml > best_lml) {
      best_lml = lml;
      best = theta;
    }
    if (it == iterations) break;
    // dLML/dtheta_j = 0.5 tr((alpha alpha^T - K^-1) dK/dtheta_j)
    const Eigen::MatrixXd Linv = L_.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(n, n));
    Eigen::MatrixXd Kinv = Eigen::MatrixXd::Zero(n, n);
    Kinv.selfadjointView<Eigen::Lower>().rankUpdate(Linv.transpose());
    Kinv.triangularView<Eigen::StrictlyUpper>() = Kinv.transpose();
    const Eigen::MatrixXd W = alpha_ * alpha_.transpose() - Kinv;
    // Kernel pieces: r and the common factor of the lengthscale derivatives.
    const Eigen::VectorXd inv = ls_.cwiseInverse();
    const Eigen::MatrixXd Xs = X_ * inv.asDiagonal();
    Eigen::MatrixXd r2 = (-2.0 * Xs * Xs.transpose()).colwise() + Xs.rowwise().squaredNorm();
    r2.rowwise() += Xs.rowwise().squaredNorm().transpose();
    const Eigen::MatrixXd r = r2.cwiseMax(0.0).cwiseSqrt();
    const Eigen::MatrixXd e = (-kSqrt5 * r).array().exp();
    const Eigen::MatrixXd Kf = sf2_ * ((1.0 + kSqrt5 * r.array() + 5.0 / 3.0 * r.array().square()) * e.array()).matrix();
    const Eigen::MatrixXd G = (sf2_ * 5.0 / 3.0 * ((1.0 + kSqrt5 * r.array()) * e.array())).matrix().cwiseProduct(W);
    Eigen::VectorXd grad(D + 2);
    // sum_ij G_ij (c_i - c_j)^2 = 2 (c^2 . G 1) - 2 c^T G c for each input column c (G symmetric)
    const Eigen::VectorXd g1 = G.rowwise().sum();
    const Eigen::MatrixXd GX = G * Xs;
    for (Eigen::Index d = 0; d < D; ++d) {
      const auto c = Xs.col(d);
      grad(d) = c.array().square().matrix().dot(g1) - c.dot(GX.col(d));
    }
    grad(D) = 0.5 * Kf.cwiseProduct(W).sum();
    grad(D + 1) = 0.5 * sn2_ * W.trace();
    // Adam ascent with bounds.
    m = b1 * m + (1 - b1) * grad;
    v = b2 * v + (1 - b2) * grad.cwiseProduct(grad);
    const double c1 = 1 - std::pow(b1, it + 1), c2 = 1 - std::pow(b2, it + 1);
    theta += lr * (m / c1).cwiseQuotient(((v / c2).cwiseSqrt().array() + 1e-8).matrix());
    for (Eigen::Index d = 0; d < D; ++d) theta(d) = std::clamp(theta(d), kLogLsMin, kLogLsMax);
    theta(D) = std::clamp(theta(D), kLogSfMin, kLogSfMax);
    theta(D + 1) = std::clamp(theta(D + 1), kLogSnMin, kLogSnMax);
  }
  ls_ = best.head(D).array().exp();
  sf2_ = std::exp(best(D));
  sn2_ = std::exp(best(D + 1));
  factorize();
}

void GaussianProcess::add_input(const Eigen::VectorXd& x) {
  const auto n = X_.rows();
  X_.conservativeResize(n + 1, Eigen::NoChange);
  X_.row(n) = x.transpose();
  const Eigen::VectorXd k = kernel(X_.topRows(n), X_.row(n)).col(0);
  const Eigen::VectorXd l = L_.triangularView<Eigen::Lower>().solve(k);
  const double d = std::sqrt(std::max(sf2_ + sn2_ - l.squaredNorm(), 1e-12));
  L_.conservativeResize(n + 1, n + 1);
  L_.row(n).head(n) = l.transpose();
  L_.col(n).setZero();
  L_(n, n) = d;
}

void GaussianProcess::solve_alpha() {
  alpha_ = L_.transpose().triangularView<Eigen::Upper>().solve(L_.triangularView<Eigen::Lower>().solve(standardised()));
}

void GaussianProcess::append(const Eigen::VectorXd& x, double y) {
  add_input(x);
  y_.conservativeResize(y_.size() + 1);
  y_(y_.size() - 1) = y;
  solve_alpha();
}

void GaussianProcess::set_targets(const Eigen::VectorXd& y) {
  if (y.size() != X_.rows()) throw Error("GaussianProcess: one target per input row");
  standardise(y);
  solve_alpha();
}

void GaussianProcess::predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const {
  const Eigen::MatrixXd Ks = kernel(Xs, X_);
  mean = (Ks * alpha_).array() * y_std_ + y_mean_;
  const Eigen::MatrixXd V = L_.triangularView<Eigen::Lower>().solve(Ks.transpose());
  var = ((sf2_ - V.colwise().squaredNorm().transpose().array()).cwiseMax(1e-12) * y_std_ * y_std_).matrix();
}

}  // namespace dsegym
