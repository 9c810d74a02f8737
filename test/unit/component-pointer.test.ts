import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GridSize } from '../../component/attributes.js';
import { cellIndex, clientToCell, drawnRect, type ClientRect } from '../../component/pointer.js';

/**
 * What a browser reports at a given devicePixelRatio: layout snaps boxes to device pixels, so a
 * CSS box is a whole number of device pixels, i.e. a multiple of 1/dpr CSS pixels.
 */
function rectAtDpr(dpr: number, left: number, top: number, width: number, height: number): ClientRect {
  const snap = (v: number) => Math.round(v * dpr) / dpr;
  return { left: snap(left), top: snap(top), width: snap(width), height: snap(height) };
}

/**
 * For every device pixel over the drawn grid: its centre maps to a cell point inside the cell whose
 * CSS-pixel span (as the canvas is scaled, object-fit: contain, centred) contains that centre.
 */
function checkEveryDevicePixel(rect: ClientRect, grid: GridSize, dpr: number): void {
  const drawn = drawnRect(rect, grid);
  const cellW = drawn.width / grid.width;
  const cellH = drawn.height / grid.height;
  const eps = 1e-9;
  for (let py = Math.ceil(drawn.top * dpr); (py + 0.5) / dpr < drawn.top + drawn.height; py++) {
    for (let px = Math.ceil(drawn.left * dpr); (px + 0.5) / dpr < drawn.left + drawn.width; px++) {
      const clientX = (px + 0.5) / dpr;
      const clientY = (py + 0.5) / dpr;
      const point = clientToCell(clientX, clientY, rect, grid);
      assert.ok(point !== null, `device pixel ${px},${py} at DPR ${dpr} maps to a cell`);
      const { column, row } = cellIndex(point);
      assert.ok(column >= 0 && column < grid.width && row >= 0 && row < grid.height, `in the grid: ${column},${row}`);
      const left = drawn.left + column * cellW;
      const top = drawn.top + row * cellH;
      assert.ok(clientX >= left - eps && clientX < left + cellW + eps, `DPR ${dpr} pixel x ${px} -> column ${column}`);
      assert.ok(clientY >= top - eps && clientY < top + cellH + eps, `DPR ${dpr} pixel y ${py} -> row ${row}`);
    }
  }
}

/** The inverse check: the centre of every cell, projected to client pixels, maps back to it. */
function checkCellCentres(rect: ClientRect, grid: GridSize): void {
  const drawn = drawnRect(rect, grid);
  for (let row = 0; row < grid.height; row++) {
    for (let column = 0; column < grid.width; column++) {
      const x = drawn.left + ((column + 0.5) / grid.width) * drawn.width;
      const y = drawn.top + ((row + 0.5) / grid.height) * drawn.height;
      const point = clientToCell(x, y, rect, grid)!;
      assert.ok(Math.abs(point.x - (column + 0.5)) < 1e-9 && Math.abs(point.y - (row + 0.5)) < 1e-9, `cell ${column},${row}`);
    }
  }
}

test('a square box that is an exact multiple of the grid: cell centres and corners', () => {
  const rect = { left: 10, top: 20, width: 256, height: 256 };
  const grid = { width: 64, height: 64 };
  assert.deepEqual(clientToCell(10 + 2, 20 + 2, rect, grid), { x: 0.5, y: 0.5 });
  assert.deepEqual(clientToCell(10 + 128, 20 + 128, rect, grid), { x: 32, y: 32 });
  assert.deepEqual(cellIndex(clientToCell(10 + 255.9, 20 + 255.9, rect, grid)!), { column: 63, row: 63 });
});

for (const dpr of [1, 2, 3]) {
  test(`DPR ${dpr}: every device pixel of a 200x200 box over a 64x64 grid (not a multiple) hits its cell`, () => {
    const rect = rectAtDpr(dpr, 7.3, 11.6, 200, 200);
    checkEveryDevicePixel(rect, { width: 64, height: 64 }, dpr);
    checkCellCentres(rect, { width: 64, height: 64 });
  });
  test(`DPR ${dpr}: a 333x157 box over a 40x30 grid, letterboxed left and right`, () => {
    const rect = rectAtDpr(dpr, 0.4, 0, 333, 157);
    checkEveryDevicePixel(rect, { width: 40, height: 30 }, dpr);
    checkCellCentres(rect, { width: 40, height: 30 });
  });
}

test('edges: the outermost pixels hit the edge cells; the far edge belongs to the last cell', () => {
  const rect = { left: 0, top: 0, width: 100, height: 100 };
  const grid = { width: 7, height: 7 };
  assert.deepEqual(cellIndex(clientToCell(0, 0, rect, grid)!), { column: 0, row: 0 });
  assert.deepEqual(cellIndex(clientToCell(100, 100, rect, grid)!), { column: 6, row: 6 });
  // Within the slop (1 CSS px) outside: clamped onto the edge cells.
  assert.deepEqual(cellIndex(clientToCell(-0.5, 100.9, rect, grid)!), { column: 0, row: 6 });
  // Beyond the slop: not on the grid.
  assert.equal(clientToCell(-2, 50, rect, grid), null);
  assert.equal(clientToCell(50, 102, rect, grid), null);
  const point = clientToCell(100, 100, rect, grid)!;
  assert.ok(point.x < 7 && point.y < 7);
});

test('object-fit contain: letterbox bars are not on the grid; fill stretches', () => {
  const rect = { left: 0, top: 0, width: 300, height: 100 };
  const grid = { width: 10, height: 10 };
  assert.deepEqual(drawnRect(rect, grid), { left: 100, top: 0, width: 100, height: 100 });
  assert.equal(clientToCell(50, 50, rect, grid), null); // left bar
  assert.equal(clientToCell(250, 50, rect, grid), null); // right bar
  assert.deepEqual(clientToCell(150, 50, rect, grid), { x: 5, y: 5 });
  assert.deepEqual(clientToCell(150, 50, rect, grid, 'fill'), { x: 5, y: 5 });
  assert.deepEqual(clientToCell(30, 50, rect, grid, 'fill'), { x: 1, y: 5 });
});

test('degenerate input: zero-size box, NaN coordinates', () => {
  const grid = { width: 8, height: 8 };
  assert.equal(clientToCell(0, 0, { left: 0, top: 0, width: 0, height: 10 }, grid), null);
  assert.equal(clientToCell(Number.NaN, 0, { left: 0, top: 0, width: 10, height: 10 }, grid), null);
  assert.equal(clientToCell(1, 1, { left: 0, top: 0, width: 10, height: 10 }, { width: 0, height: 8 }), null);
});
