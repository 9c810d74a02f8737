/**
 * The kernels of one formulation, as gpu.js source text. Shapes are per cell: D values per cell
 * are `[D, W, H]` in the scalar formulation (or `[W*H*D]` flat) and `[D/4, W, H]` vec4s in the
 * GL one; C is the channel count, K the perception kernel count.
 */
export interface KernelSet {
  /** perceive(s) -> K*C values per cell. Constants: kern (K*9, rotated). */
  readonly perceive: string;
  /**
   * active(s, key, threshold) -> [W, H]: 1 where a cell needs the network, 0 where its result
   * cannot depend on it (cell.ts, activeKernel); undefined when nothing can be skipped. The
   * network's kernels then take `act` after their data arguments.
   */
  readonly active: string | undefined;
  /** One per layer except the last: dense_l(v, ...) -> the layer's outputs per cell. */
  readonly hidden: readonly string[];
  /** output(h, s, ..., key, threshold) -> C per cell: the last layer, the fire mask and the update. */
  readonly output: string;
  /** alive(updated, previous) -> C per cell: the alive mask of either mode. */
  readonly alive: string;
  /** damage(s, cx, cy, r) -> C per cell: the reference's damageDisc. */
  readonly damage: string;
  /** plant(s, px, py) -> C per cell: the reference's plantSeed at integer (px, py). */
  readonly plant: string;
  /** copy(s: an uploaded [C, W, H] array) -> C per cell, on the device. */
  readonly copy: string;
  /** flatten(s) -> [W*H*C]: the state as one HWC array (webasm pipelines end with it). */
  readonly flatten: string;
  /** Graphical render(s) on [W, H]: pixel (x, y) from the bottom shows cell (x, H-1-y), as `toRgba`. */
  readonly render: string;
}
