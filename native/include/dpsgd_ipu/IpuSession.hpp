// The facade the Java side binds with JavaCPP (org.dpsgd.ipu.IpuSessionNative). It hides every Poplar
// type behind a pointer to an implementation so this header compiles without the SDK and JavaCPP sees
// only plain C++ types. Every method throws std::exception subclasses with a readable message; JavaCPP
// turns them into java.lang.RuntimeException.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace dpsgd::ipu {

class IpuSessionImpl;

class IpuSession {
  public:
    /**
     * Parses the network spec and the options (docs/ipu.md), attaches `replicas` IPUs, builds and compiles
     * the replicated graph (or loads it from the executable cache) and loads it onto the devices.
     */
    IpuSession(const std::string& modelSpec, const std::string& options);
    ~IpuSession();
    IpuSession(const IpuSession&) = delete;
    IpuSession& operator=(const IpuSession&) = delete;

    std::size_t parameterCount() const;

    /** Writes the flat fp32 parameter vector (Network.parameters() order, PyTorch layout) to every replica. */
    void loadParameters(const float* params, std::size_t count);
    /** Reads replica 0's parameters (all replicas hold the same values). */
    void saveParameters(float* params, std::size_t count);

    /** Trainable (not frozen) parameter tensors T: the clip table of runSteps holds 2 * T values. */
    std::size_t trainableTensors() const;

    /**
     * Runs `calls` device calls. Buffers hold calls x (R*A*m) slots in BatchLayout.slot order:
     * inputs [slot][K][C][H][W], labels [slot], mask [slot] (1 real, 0 padding). Each real slot's
     * gradient (mean over its K copies) is clipped group by group and added to the replica's clipped-sum
     * accumulator. clipTable: for each trainable parameter tensor t (parameter order, frozen ones
     * skipped) its bound C_t (+infinity: not clipped), then for each t its clip group id (any float; equal
     * ids share one norm). Flat clipping: all bounds C, all ids 0. A slot whose norm is not finite adds 0
     * and is counted in the metrics' non-finite count.
     */
    void runSteps(const float* inputs, const int* labels, const float* mask, std::size_t calls, const float* clipTable,
                  std::size_t clipTableSize);

    /** Forward pass only: loss sum and correct count of the real slots go to the metrics. */
    void evaluate(const float* inputs, const int* labels, const float* mask, std::size_t calls);

    /** Sums the accumulators across replicas, copies the sum to `out` and zeroes them. */
    void drainGradientSum(float* out, std::size_t count);

    /** Per-slot unclipped gradient norms of the last call of the last runSteps (R*A*m values). */
    void lastSlotNorms(float* out, std::size_t count);

    /** {samples, loss sum, correct, clipped, norm sum, non-finite} of the real slots since the last read; resets them.
     */
    void readMetrics(double* out, std::size_t count);

    /**
     * Device-update mode (option update=device) only: all-reduces the clipped sums, adds noise, multiplies
     * by `scale` (1/(q*N)) and takes an SGD(-momentum) step with `learningRate` on every replica. Secure
     * noise: `noise` holds the host CSPRNG's N(0, sigma^2 C^2) draw, count = parameterCount(). Fast
     * (insecure) noise: `noise` holds {sigma*C} (count 1) and poprand::normal draws on the device.
     */
    void applyUpdate(const float* noise, std::size_t count, float learningRate, float scale);

    /** Detaches the devices; the session is unusable afterwards. Idempotent. */
    void close();

    /** Single IPUs the Poplar device manager reports (0 without devices or on error). */
    static int deviceCount();
    /** The device manager's last error message, empty if none. */
    static std::string attachError();

  private:
    std::unique_ptr<IpuSessionImpl> impl_;
};

}  // namespace dpsgd::ipu
