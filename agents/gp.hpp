#pragma once
// Gaussian-process regression with a Matern 5/2 ARD kernel (Rasmussen &
// Williams 2006, eq. 4.17), hyperparameters fitted by maximising the log
// marginal likelihood (eq. 5.8, gradient eq. 5.9) with Adam on log scale.
#include <Eigen/Dense>

#include "base/rng.hpp"

namespace dsegym {

class GaussianProcess {
public:
  // X: n x D inputs in [0,1]; y: n targets (standardised inside).
  void set_data(Eigen::MatrixXd X, const Eigen::VectorXd& y);
  // Adam steps on the log hyperparameters, from the current values.
  void fit(int iterations);
  // Recomputes the Cholesky factor for the current data and hyperparameters.
  void factorize();
  // Adds one observation (raw scale, in the current standardisation) with an
  // O(n^2) update of the factor.
  void append(const Eigen::VectorXd& x, double y);
  // Adds an input row with an O(n^2) update of the factor; set_targets must
  // follow before predictions.
  void add_input(const Eigen::VectorXd& x);
  // Replaces the targets (raw scale, one per input row): standardised anew,
  // the factor kept, O(n^2).
  void set_targets(const Eigen::VectorXd& y);
  // Posterior mean and variance (raw scale) at the rows of Xs.
  void predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const;
  double log_marginal_likelihood() const;

  std::size_t size() const { return static_cast<std::size_t>(X_.rows()); }
  // Takes another GP's kernel hyperparameters (not its data).
  void copy_hyperparameters(const GaussianProcess& other) {
    if (other.ls_.size() == X_.cols()) ls_ = other.ls_;
    sf2_ = other.sf2_;
    sn2_ = other.sn2_;
  }
  const Eigen::VectorXd& lengthscales() const { return ls_; }
  double noise() const { return sn2_; }
  double signal() const { return sf2_; }
  void set_hyperparameters(const Eigen::VectorXd& ls, double sf2, double sn2) {
    ls_ = ls;
    sf2_ = sf2;
    sn2_ = sn2;
  }
  const Eigen::MatrixXd& inputs() const { return X_; }
  // The targets as given (raw scale), bit for bit: set_data() with them
  // and the same hyperparameters rebuilds the same model.
  const Eigen::VectorXd& targets() const { return y_; }

private:
  // Takes the targets and the mean and spread they are standardised by.
  void standardise(const Eigen::VectorXd& y);
  // The targets standardised (append() keeps the mean and spread).
  Eigen::VectorXd standardised() const;
  void solve_alpha();
  Eigen::MatrixXd kernel(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const;
  Eigen::MatrixXd X_;
  Eigen::VectorXd y_;  // as given (raw scale)
  double y_mean_ = 0, y_std_ = 1;
  Eigen::VectorXd ls_;
  double sf2_ = 1.0, sn2_ = 1e-3;
  Eigen::MatrixXd L_;
  Eigen::VectorXd alpha_;
};

}  // namespace dsegym
