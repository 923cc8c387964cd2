#include "dpsgd_ipu/SessionOptions.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace dpsgd::ipu {
namespace {

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::size_t positive(const std::string& key, const std::string& v) {
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || std::stoull(v) == 0)
        throw std::invalid_argument("IPU option " + key + " must be an integer > 0, got '" + v + "'");
    return std::stoull(v);
}

bool boolean(const std::string& key, const std::string& v) {
    if (v == "true") return true;
    if (v == "false") return false;
    throw std::invalid_argument("IPU option " + key + " must be true or false, got '" + v + "'");
}

double real(const std::string& key, const std::string& v) {
    try {
        std::size_t used = 0;
        double d = std::stod(v, &used);
        if (used == v.size()) return d;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("IPU option " + key + " must be a number, got '" + v + "'");
}

}  // namespace

SessionOptions parseSessionOptions(const std::string& text) {
    SessionOptions o;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find('=');
        if (eq == std::string::npos) throw std::invalid_argument("IPU option line '" + line + "' is not key=value");
        std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
        if (k == "replicas")
            o.replicas = positive(k, v);
        else if (k == "micro_batch_size")
            o.microBatchSize = positive(k, v);
        else if (k == "accumulation")
            o.accumulation = positive(k, v);
        else if (k == "multiplicity")
            o.multiplicity = positive(k, v);
        else if (k == "precision") {
            if (v == "fp32")
                o.precision = Precision::FP32;
            else if (v == "fp16")
                o.precision = Precision::FP16;
            else
                throw std::invalid_argument("IPU option precision must be fp32 or fp16, got '" + v + "'");
        } else if (k == "stochastic_rounding")
            o.stochasticRounding = boolean(k, v);
        else if (k == "available_memory_proportion") {
            o.availableMemoryProportion = real(k, v);
            if (!(o.availableMemoryProportion > 0 && o.availableMemoryProportion <= 1))
                throw std::invalid_argument("IPU option available_memory_proportion must be in (0, 1], got '" + v +
                                            "'");
        } else if (k == "executable_cache")
            o.executableCache = v;
        else if (k == "update") {
            if (v == "host")
                o.update = UpdateMode::Host;
            else if (v == "device")
                o.update = UpdateMode::Device;
            else
                throw std::invalid_argument("IPU option update must be host or device, got '" + v + "'");
        } else if (k == "noise") {
            if (v == "secure")
                o.secureNoise = true;
            else if (v == "fast-insecure")
                o.secureNoise = false;
            else
                throw std::invalid_argument("IPU option noise must be secure or fast-insecure, got '" + v + "'");
        } else if (k == "seed") {
            if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
                throw std::invalid_argument("IPU option seed must be a non-negative integer, got '" + v + "'");
            o.seed = std::stoull(v);
        } else if (k == "momentum") {
            o.momentum = real(k, v);
            if (!(o.momentum >= 0 && o.momentum < 1))
                throw std::invalid_argument("IPU option momentum must be in [0, 1), got '" + v + "'");
        } else if (k == "nesterov")
            o.nesterov = boolean(k, v);
        else if (k == "ipu_model")
            o.ipuModel = boolean(k, v);
        else if (k == "loss_scale") {
            double s = real(k, v);
            int e = 0;
            // A power of two in [1, 2^15]: dividing it out again is exact, and fp16's range is not exceeded by the
            // scale alone.
            if (!(s >= 1 && s <= 32768) || std::frexp(s, &e) != 0.5)
                throw std::invalid_argument("IPU option loss_scale must be a power of two in [1, 32768], got '" + v +
                                            "'");
            o.lossScale = static_cast<float>(s);
        } else if (k == "frozen") {
            o.frozen.clear();
            std::istringstream list(v);
            std::string item;
            while (std::getline(list, item, ',')) {
                item = trim(item);
                if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
                    throw std::invalid_argument(
                        "IPU option frozen must be a comma-separated list of parameter indices, got '" + v + "'");
                o.frozen.push_back(std::stoull(item));
            }
        } else if (k == "instances")
            o.instances = positive(k, v);
        else if (k == "instance_index") {
            if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
                throw std::invalid_argument("IPU option instance_index must be a non-negative integer, got '" + v +
                                            "'");
            o.instanceIndex = std::stoull(v);
        } else
            throw std::invalid_argument(
                "unknown IPU option '" + k +
                "' (known: replicas, micro_batch_size, accumulation, multiplicity, "
                "precision, stochastic_rounding, available_memory_proportion, executable_cache, update, noise, "
                "seed, momentum, nesterov, ipu_model, loss_scale, frozen, instances, instance_index)");
    }
    if (o.instanceIndex >= o.instances)
        throw std::invalid_argument("IPU option instance_index=" + std::to_string(o.instanceIndex) +
                                    " must be below instances=" + std::to_string(o.instances));
    if (o.instances > 1 && o.ipuModel)
        throw std::invalid_argument(
            "IPU options instances > 1 and ipu_model=true do not go together: the IPU Model "
            "simulates one process's IPUs only");
    // Device update across instances would need the host's secure noise on every instance (a host broadcast
    // per step) or a shared poprand seed; neither is built, so the host update path (the SPI) is the only one.
    if (o.instances > 1 && o.update == UpdateMode::Device)
        throw std::invalid_argument("IPU option update=device is not supported with instances > 1; use update=host");
    if (o.nesterov && o.momentum == 0) throw std::invalid_argument("IPU option nesterov needs momentum > 0");
    if (o.precision == Precision::FP32 && o.lossScale != 1.0f)
        throw std::invalid_argument("IPU option loss_scale is for fp16; fp32 takes loss_scale=1");
    return o;
}

std::vector<std::pair<std::string, std::string>> runtimeReplicaOptions(const SessionOptions& o) {
    if (o.instances <= 1) return {};
    return {{"target.syncReplicasIndependently", "true"},
            {"target.firstRuntimeReplica", std::to_string(o.replicaOffset())},
            {"target.numberRuntimeReplica", std::to_string(o.replicas)}};
}

std::vector<std::pair<std::string, std::string>> parseTargetOptions(const std::string& json) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    auto fail = [&json](const std::string& why) {
        throw std::invalid_argument("POPLAR_TARGET_OPTIONS must be a flat JSON object of strings (" + why + "), got '" +
                                    json + "'");
    };
    auto skipSpace = [&] {
        while (i < json.size() && std::isspace(static_cast<unsigned char>(json[i]))) ++i;
    };
    auto string = [&]() {
        skipSpace();
        if (i >= json.size() || json[i] != '"') fail("expected a quoted string at offset " + std::to_string(i));
        std::string s;
        for (++i; i < json.size() && json[i] != '"'; ++i) {
            if (json[i] == '\\') fail("escapes are not supported");
            s += json[i];
        }
        if (i >= json.size()) fail("unterminated string");
        ++i;
        return s;
    };
    skipSpace();
    if (i == json.size()) return out;
    if (json[i] != '{') fail("expected '{'");
    ++i;
    skipSpace();
    if (i < json.size() && json[i] == '}') {
        ++i;
    } else {
        while (true) {
            std::string key = string();
            skipSpace();
            if (i >= json.size() || json[i] != ':') fail("expected ':' after \"" + key + "\"");
            ++i;
            out.emplace_back(key, string());
            skipSpace();
            if (i < json.size() && json[i] == ',') {
                ++i;
                continue;
            }
            if (i < json.size() && json[i] == '}') {
                ++i;
                break;
            }
            fail("expected ',' or '}' at offset " + std::to_string(i));
        }
    }
    skipSpace();
    if (i != json.size()) fail("text after the closing '}'");
    return out;
}

std::vector<std::pair<std::size_t, std::size_t>> streamChunks(std::size_t elements, std::size_t elementBytes,
                                                              std::size_t maxBytes) {
    if (elementBytes == 0 || maxBytes < elementBytes)
        throw std::invalid_argument("a stream chunk must hold at least one element");
    const std::size_t per = maxBytes / elementBytes;
    std::vector<std::pair<std::size_t, std::size_t>> chunks;
    for (std::size_t b = 0; b < elements; b += per) chunks.emplace_back(b, std::min(elements, b + per));
    return chunks;
}

std::string executableCacheKey(const std::string& spec, const std::string& options, const std::string& libraryVersion,
                               const std::string& sdkVersion) {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64
    auto mix = [&h](const std::string& s) {
        const std::string framed = std::to_string(s.size()) + ":" + s;
        for (unsigned char c : framed) {
            h ^= c;
            h *= 1099511628211ull;
        }
    };
    mix(spec);
    mix(options);
    mix(libraryVersion);
    mix(sdkVersion);
    std::ostringstream out;
    out << std::hex << std::setw(16) << std::setfill('0') << h;
    return out.str();
}

}  // namespace dpsgd::ipu
