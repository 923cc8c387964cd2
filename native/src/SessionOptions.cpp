#include "dpsgd_ipu/SessionOptions.hpp"

#include <sstream>
#include <stdexcept>

namespace dpsgd::ipu {
namespace {

std::string trim(const std::string &s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::size_t positive(const std::string &key, const std::string &v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || std::stoull(v) == 0)
    throw std::invalid_argument("IPU option " + key + " must be an integer > 0, got '" + v + "'");
  return std::stoull(v);
}

bool boolean(const std::string &key, const std::string &v) {
  if (v == "true") return true;
  if (v == "false") return false;
  throw std::invalid_argument("IPU option " + key + " must be true or false, got '" + v + "'");
}

double real(const std::string &key, const std::string &v) {
  try {
    std::size_t used = 0;
    double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception &) {
  }
  throw std::invalid_argument("IPU option " + key + " must be a number, got '" + v + "'");
}

} // namespace

SessionOptions parseSessionOptions(const std::string &text) {
  SessionOptions o;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("IPU option line '" + line + "' is not key=value");
    std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "replicas") o.replicas = positive(k, v);
    else if (k == "micro_batch_size") o.microBatchSize = positive(k, v);
    else if (k == "accumulation") o.accumulation = positive(k, v);
    else if (k == "multiplicity") o.multiplicity = positive(k, v);
    else if (k == "precision") {
      if (v == "fp32") o.precision = Precision::FP32;
      else if (v == "fp16") o.precision = Precision::FP16;
      else throw std::invalid_argument("IPU option precision must be fp32 or fp16, got '" + v + "'");
    } else if (k == "stochastic_rounding") o.stochasticRounding = boolean(k, v);
    else if (k == "available_memory_proportion") {
      o.availableMemoryProportion = real(k, v);
      if (!(o.availableMemoryProportion > 0 && o.availableMemoryProportion <= 1))
        throw std::invalid_argument("IPU option available_memory_proportion must be in (0, 1], got '" + v + "'");
    } else if (k == "executable_cache") o.executableCache = v;
    else if (k == "update") {
      if (v == "host") o.update = UpdateMode::Host;
      else if (v == "device") o.update = UpdateMode::Device;
      else throw std::invalid_argument("IPU option update must be host or device, got '" + v + "'");
    } else if (k == "noise") {
      if (v == "secure") o.secureNoise = true;
      else if (v == "fast-insecure") o.secureNoise = false;
      else throw std::invalid_argument("IPU option noise must be secure or fast-insecure, got '" + v + "'");
    } else if (k == "seed") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        throw std::invalid_argument("IPU option seed must be a non-negative integer, got '" + v + "'");
      o.seed = std::stoull(v);
    } else if (k == "momentum") {
      o.momentum = real(k, v);
      if (!(o.momentum >= 0 && o.momentum < 1)) throw std::invalid_argument("IPU option momentum must be in [0, 1), got '" + v + "'");
    } else if (k == "nesterov") o.nesterov = boolean(k, v);
    else if (k == "ipu_model") o.ipuModel = boolean(k, v);
    else
      throw std::invalid_argument("unknown IPU option '" + k + "' (known: replicas, micro_batch_size, accumulation, multiplicity, "
                                  "precision, stochastic_rounding, available_memory_proportion, executable_cache, update, noise, "
                                  "seed, momentum, nesterov, ipu_model)");
  }
  if (o.nesterov && o.momentum == 0) throw std::invalid_argument("IPU option nesterov needs momentum > 0");
  return o;
}

} // namespace dpsgd::ipu
