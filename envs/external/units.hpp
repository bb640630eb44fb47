#pragma once
// Units the external env converts between: time (ps, ns, us/µs, ms, s),
// energy (fJ .. J), power (nW .. W), frequency (Hz .. GHz), area (um^2,
// mm^2), data in bytes (B, KB/kB, MB, GB, TB decimal; KiB, MiB, GiB, TiB)
// and bits (b, Kb, Mb, Gb, Tb; 8 b = 1 B), data rates (the same per second,
// also bps .. Gbps), and dimensionless "1" and "%" (which do not convert
// into each other). Any other unit is a label: the value is taken as read
// (a metric's `scale` converts, e.g. cycles to ns).
#include <string>

namespace dsegym::units {

bool known(const std::string& unit);
// Accepts a known unit or a label that is no misspelling of one (the same
// letters in another case: "gb/s"); InvalidArgument otherwise.
void check_label(const std::string& unit);
// value in `from` expressed in `to`; InvalidArgument naming both when either
// is unknown or they measure different things.
double convert(double value, const std::string& from, const std::string& to);

}  // namespace dsegym::units
