// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <initializer_list>
#include <string>
#include <utility>

namespace poplar {
/** String key/value options for the engine, the compiler and PopLibs operations. */
class OptionFlags {
  public:
    using OptionFlag = std::pair<const std::string, std::string>;
    OptionFlags();
    OptionFlags(std::initializer_list<OptionFlag> flags);
    OptionFlags(const OptionFlags& other);
    OptionFlags(OptionFlags&& other) noexcept;
    OptionFlags& operator=(const OptionFlags& other);
    OptionFlags& operator=(OptionFlags&& other) noexcept;
    ~OptionFlags();
    void set(const std::string& option, const std::string& value);
    void set(std::initializer_list<OptionFlag> flags);
};
}  // namespace poplar
