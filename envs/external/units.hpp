#pragma once
// Units the external env converts between: time (ps, ns, us/µs, ms, s),
// energy (fJ, pJ, nJ, uJ/µJ, mJ, J), power (uW, mW, W), data rate (B/s,
// KB/s, MB/s, GB/s, TB/s; decimal), frequency (Hz, kHz, MHz, GHz), area
// (um^2, mm^2), data (B, KB, MB, GB; decimal), and dimensionless "1" and
// "%" (which do not convert into each other).
#include <string>

namespace dsegym::units {

bool known(const std::string& unit);
// value in `from` expressed in `to`; InvalidArgument naming both when either
// is unknown or they measure different things.
double convert(double value, const std::string& from, const std::string& to);

}  // namespace dsegym::units
