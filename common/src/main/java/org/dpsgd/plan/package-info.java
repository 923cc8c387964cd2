/**
 * Plans a logical batch into fixed-shape device calls. {@link org.dpsgd.plan.StaticShapePlanner} places the sampled
 * examples into the slots of one or more {@link org.dpsgd.plan.DeviceCall}s of a
 * {@link org.dpsgd.backend.BatchLayout}, padding the rest; the result is a {@link org.dpsgd.plan.StepPlan}.
 *
 * <p>Privacy rule: a plan never drops or duplicates a sampled example (a batch that does not fit a fixed call count
 * is refused, never truncated), and the realised batch size it records is a diagnostic that must never scale the
 * private update.
 */
package org.dpsgd.plan;
